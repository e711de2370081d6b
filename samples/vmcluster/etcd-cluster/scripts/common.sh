# Sourced by the etcd scripts: paths under PITRIX_ROOT (empty on a VM, the node's directory on the local
# runtime) and this node's record from the rendered members file. Values are read as words, never run.
ROOT="${PITRIX_ROOT:-}"
ROOT="${ROOT%/}"
CONF="$ROOT/etc/etcd/etcd.conf.yml"
MEMBERS="$ROOT/etc/etcd/pitrix-members"
DATA="$ROOT/var/lib/etcd/default"
LOGS="$ROOT/var/log/etcd"
PIDFILE="$ROOT/run/etcd.pid"
ETCDCTL_API=3
export ETCDCTL_API
# Host lists are split on blanks; nothing in them may expand as a glob.
set -f

# Sets NAME, IP and STATE from the "self" record.
read_self() {
  [ -s "$MEMBERS" ] || { echo "$MEMBERS has not been rendered yet" >&2; exit 1; }
  NAME="" IP="" STATE=""
  while read -r kind id ip state; do
    if [ "$kind" = self ]; then NAME="$id" IP="$ip" STATE="$state"; fi
  done <"$MEMBERS"
  [ -n "$NAME" ] && [ -n "$IP" ] || { echo "$MEMBERS has no self record" >&2; exit 1; }
}

# Client URLs (comma-separated) of the hosts with the given flag ("member" or "adding"), this node excluded,
# and the hosts named in PITRIX_DELETING_HOSTS excluded.
endpoints_of() {
  list=""
  while read -r kind id ip flag; do
    [ "$kind" = host ] && [ "$flag" = "$1" ] && [ "$id" != "$NAME" ] || continue
    if is_deleting "$id"; then continue; fi
    list="${list:+$list,}http://$ip:2379"
  done <"$MEMBERS"
  printf '%s' "$list"
}

# True when PITRIX_DELETING_HOSTS ("node=ip ...") names the node.
is_deleting() {
  for pair in ${PITRIX_DELETING_HOSTS:-}; do
    [ "${pair%%=*}" = "$1" ] && return 0
  done
  return 1
}

ctl() {
  endpoints="$1"
  shift
  etcdctl --endpoints="$endpoints" --dial-timeout=3s --command-timeout=10s "$@"
}

# "id, status, name, peer URLs, client URLs, is learner" per member, through the given endpoints.
member_list() { ctl "$1" member list; }

# The member id whose name or peer URL matches, from member_list output on stdin.
member_id() {
  want_name="$1" want_peer="$2" awk -F', ' '$3 == ENVIRON["want_name"] || $4 == ENVIRON["want_peer"] { print $1 }'
}

healthy() { ctl "http://$IP:2379" endpoint health >/dev/null 2>&1; }
