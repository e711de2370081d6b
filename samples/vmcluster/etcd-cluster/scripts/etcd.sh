#!/bin/sh
# Starts, stops and restarts this node's etcd member (Debian's etcd-server) without systemd: etcd runs in the
# background with a pid file, listening only on the node's IP, its data on the role's volume. A member joining a
# running cluster (state "existing" in the rendered files) is first added to the membership through a member
# that is already there, after the members joining before it, then starts.
set -eu
. "$(dirname "$0")/common.sh"
START_WAIT="${ETCD_START_WAIT:-45}"
JOIN_WAIT="${ETCD_JOIN_WAIT:-240}"

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

now() { date +%s; }

# Adds this node to the membership through a member not joining with it, once every host joining before it is a
# started member (etcd admits one unstarted member at a time, and a joiner's initial cluster lists those before it).
join() {
  through="$(endpoints_of member)"
  [ -n "$through" ] || { echo "no member to join through" >&2; exit 1; }
  deadline=$(($(now) + JOIN_WAIT))
  while :; do
    if list="$(member_list "$through" 2>&1)"; then
      waiting=""
      while read -r kind id rest; do
        [ "$kind" = before ] || continue
        started="$(printf '%s\n' "$list" | want="$id" awk -F', ' '$3 == ENVIRON["want"] && $2 == "started" { print "yes" }')"
        [ -n "$started" ] || waiting="$waiting $id"
      done <"$MEMBERS"
      if [ -z "$waiting" ]; then
        if [ -n "$(printf '%s\n' "$list" | member_id "$NAME" "http://$IP:2380")" ]; then
          echo "$NAME is already a member"
          return 0
        fi
        if out="$(ctl "$through" member add "$NAME" --peer-urls="http://$IP:2380" 2>&1)"; then
          echo "added $NAME (http://$IP:2380) to the cluster"
          return 0
        fi
        echo "member add: $out" >&2
      else
        echo "waiting for$waiting to join first" >&2
      fi
    else
      echo "member list: $list" >&2
    fi
    [ "$(now)" -lt "$deadline" ] || { echo "could not join the cluster within $JOIN_WAIT s" >&2; exit 1; }
    sleep 2
  done
}

start() {
  running && return 0
  [ -s "$CONF" ] || { echo "$CONF has not been rendered yet" >&2; exit 1; }
  read_self
  mkdir -p "$LOGS" "$(dirname "$PIDFILE")" "$(dirname "$DATA")"
  if [ "$STATE" = existing ] && [ ! -d "$DATA/member" ]; then
    join
  fi
  nohup etcd --config-file "$CONF" >>"$LOGS/etcd.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  deadline=$(($(now) + START_WAIT))
  until healthy; do
    if ! running; then
      echo "etcd exited; the end of $LOGS/etcd.log:" >&2
      tail -n 20 "$LOGS/etcd.log" >&2
      exit 1
    fi
    [ "$(now)" -lt "$deadline" ] || { echo "etcd on $IP is not healthy after $START_WAIT s" >&2; exit 1; }
    sleep 1
  done
  echo "etcd $NAME serves http://$IP:2379"
}

stop() {
  if running; then
    pid="$(cat "$PIDFILE")"
    kill "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  try-restart) if running; then stop; start; fi ;;
  status) running ;;
  *) echo "usage: etcd.sh start|stop|restart|try-restart|status" >&2; exit 2 ;;
esac
