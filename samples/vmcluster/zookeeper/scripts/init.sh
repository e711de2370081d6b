#!/bin/sh
# Prepares the node: the data directory on the volume, owned by the zookeeper user.
set -eu
install -d -o zookeeper -g zookeeper -m 0750 /var/lib/zookeeper
