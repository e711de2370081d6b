#!/bin/sh
# Custom action: empties every database.
set -eu
pass=$(sed -n 's/^requirepass "\(.*\)"$/\1/p' /etc/redis/pitrix.conf)
REDISCLI_AUTH="$pass" redis-cli -h 127.0.0.1 flushall
