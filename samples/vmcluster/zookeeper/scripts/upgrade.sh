#!/bin/sh
# Run after the new version's files are installed and before start: records the upgrade on the node.
set -eu
ROOT="${PITRIX_ROOT:-}"
mkdir -p "$ROOT/var/lib/zookeeper"
echo "upgraded to ${PITRIX_APP_VERSION:-unknown} at $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$ROOT/var/lib/zookeeper/upgrades.log"
