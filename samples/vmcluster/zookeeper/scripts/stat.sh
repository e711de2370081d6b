#!/bin/bash
# Custom action "stat": prints ZooKeeper's own "srvr" summary of this node; PITRIX_PARAM_LABEL, when given, is echoed first.
set -eu
[ -z "${PITRIX_PARAM_LABEL:-}" ] || printf '%s\n' "$PITRIX_PARAM_LABEL"
exec 3<>"/dev/tcp/${PITRIX_NODE_IP:-127.0.0.1}/2181"
printf srvr >&3
timeout 5 cat <&3
