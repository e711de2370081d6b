#!/bin/sh
# Membership changes of scale-in and scale-out, through etcd's runtime reconfiguration.
#   leave          destroy on a leaving node: when PITRIX_DELETING_HOSTS names this node, it removes itself
#                  through a member that stays (while it still runs, so the quorum never counts a dead member);
#                  on cease nobody is named and nothing changes.
#   forget-deleted scale_in on one staying node: removes any member PITRIX_DELETING_HOSTS still names.
#   check-added    scale_out on one existing node: waits until every node of PITRIX_ADDING_HOSTS is a started member.
set -eu
. "$(dirname "$0")/common.sh"
WAIT="${ETCD_MEMBER_WAIT:-120}"
read_self

remove_named() {
  through="$1"
  shift
  list="$(member_list "$through")"
  for pair in "$@"; do
    id="$(printf '%s\n' "$list" | member_id "${pair%%=*}" "http://${pair#*=}:2380")"
    if [ -n "$id" ]; then
      ctl "$through" member remove "$id"
    else
      echo "${pair%%=*} is not a member"
    fi
  done
}

case "${1:-}" in
  leave)
    is_deleting "$NAME" || { echo "$NAME stays a member"; exit 0; }
    through="$(endpoints_of member)"
    [ -n "$through" ] || { echo "no member stays to remove $NAME through" >&2; exit 1; }
    remove_named "$through" "$NAME=$IP"
    ;;
  forget-deleted)
    # shellcheck disable=SC2086 # "node=ip" words, globbing off
    remove_named "http://$IP:2379" ${PITRIX_DELETING_HOSTS:-}
    ;;
  check-added)
    deadline=$(($(date +%s) + WAIT))
    for pair in ${PITRIX_ADDING_HOSTS:-}; do
      until member_list "http://$IP:2379" | want="${pair%%=*}" awk -F', ' '$3 == ENVIRON["want"] && $2 == "started" { found = 1 } END { exit !found }'; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "${pair%%=*} is not a started member after $WAIT s" >&2; exit 1; }
        sleep 1
      done
      echo "${pair%%=*} is a started member"
    done
    ;;
  *) echo "usage: members.sh leave|forget-deleted|check-added" >&2; exit 2 ;;
esac
