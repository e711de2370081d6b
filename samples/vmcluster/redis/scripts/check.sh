#!/bin/sh
# Healthy when Redis answers PING; the password, if any, comes from the rendered config.
set -eu
pass=$(sed -n 's/^requirepass "\(.*\)"$/\1/p' /etc/redis/pitrix.conf)
[ "$(REDISCLI_AUTH="$pass" redis-cli -h 127.0.0.1 ping)" = "PONG" ]
