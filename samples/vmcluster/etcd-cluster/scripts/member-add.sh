#!/bin/sh
# Run on one existing member during scale-out: registers the new peers the metadata lists.
set -eu
for url in $NEW_PEER_URLS; do
  etcdctl --endpoints=http://127.0.0.1:2379 member add "${url%%=*}" --peer-urls="${url#*=}"
done
