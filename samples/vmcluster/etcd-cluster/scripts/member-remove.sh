#!/bin/sh
# Run on one remaining member during scale-in: removes the departing peers by name.
set -eu
for name in $REMOVED_MEMBERS; do
  id=$(etcdctl --endpoints=http://127.0.0.1:2379 member list | awk -F', ' -v n="$name" '$3 == n {print $1}')
  [ -n "$id" ] && etcdctl --endpoints=http://127.0.0.1:2379 member remove "$id"
done
