#!/bin/sh
# Starts, stops and restarts this node's ZooKeeper server (Debian's zookeeper package).
# Every path is under PITRIX_ROOT: empty on a VM, the node's directory on the local runtime.
set -eu
ROOT="${PITRIX_ROOT:-}"
CONF="$ROOT/etc/zookeeper/conf"
DATA="$ROOT/var/lib/zookeeper"
LOGS="$ROOT/var/log/zookeeper"
PIDFILE="$ROOT/run/zookeeper.pid"

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start() {
  running && return 0
  [ -s "$CONF/zoo.cfg" ] || { echo "zoo.cfg has not been rendered yet" >&2; exit 1; }
  mkdir -p "$DATA" "$LOGS" "$(dirname "$PIDFILE")"
  nohup java "-Xmx${ZK_HEAP:-256m}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    "-Dzookeeper.log.dir=$LOGS" \
    -cp "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$CONF/zoo.cfg" \
    >"$LOGS/zookeeper.out" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
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
  *) echo "usage: zk.sh start|stop|restart|try-restart|status" >&2; exit 2 ;;
esac
