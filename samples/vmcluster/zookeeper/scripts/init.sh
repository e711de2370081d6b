#!/bin/sh
# Prepares the node: the data and log directories (the data directory is the node's volume).
set -eu
ROOT="${PITRIX_ROOT:-}"
mkdir -p "$ROOT/var/lib/zookeeper" "$ROOT/var/log/zookeeper"
