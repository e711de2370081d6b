#!/bin/sh
# Healthy when ZooKeeper answers "imok" to "ruok" on the client port.
set -eu
[ "$(printf ruok | timeout 5 nc -q 1 127.0.0.1 2181)" = "imok" ]
