#!/bin/sh
# Prepares the node: the log directory; the data directory lives on the role's volume (/var/lib/etcd).
set -eu
ROOT="${PITRIX_ROOT:-}"
ROOT="${ROOT%/}"
mkdir -p "$ROOT/var/lib/etcd" "$ROOT/var/log/etcd" "$ROOT/run"
