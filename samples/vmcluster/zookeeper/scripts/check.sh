#!/bin/bash
# Healthy when ZooKeeper answers "imok" to "ruok" on this node's client address.
set -eu
exec 3<>"/dev/tcp/${PITRIX_NODE_IP:-127.0.0.1}/2181"
printf ruok >&3
[ "$(timeout 5 cat <&3)" = "imok" ]
