#!/bin/sh
# Prepares the data directory on the volume for the etcd user.
set -eu
install -d -o etcd -g etcd -m 0700 /var/lib/etcd/default
