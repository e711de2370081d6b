#!/bin/sh
# Healthy when this node's member answers etcd's own health check (a quorum read) on its client URL.
set -eu
. "$(dirname "$0")/common.sh"
read_self
ctl "http://$IP:2379" endpoint health
