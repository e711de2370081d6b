#!/usr/bin/env bash
# Builds a real kube-apiserver from Debian's kubernetes source package (1.20.2, its Go
# dependencies vendored) with Debian's golang-1.19, once per machine: the binaries are cached under
# ${PITRIX_CACHE:-~/.cache/pitrix}/kubernetes-1.20.2 and reused by every later run. Needs root for apt-get
# the first time (a deb-src entry is added for it). About 15 minutes of CPU on two cores.
# The last line printed is the directory holding kube-apiserver.
set -euo pipefail
CACHE=${PITRIX_CACHE:-$HOME/.cache/pitrix}
OUT="$CACHE/kubernetes-1.20.2"
log() { printf '==> %s\n' "$*" >&2; }

if [ -x "$OUT/kube-apiserver" ] && "$OUT/kube-apiserver" --version >/dev/null 2>&1; then
  echo "$OUT"
  exit 0
fi

[ "$(id -u)" = 0 ] || { log "building kube-apiserver needs root the first time (apt-get)"; exit 1; }
export DEBIAN_FRONTEND=noninteractive
if [ ! -f /etc/apt/sources.list.d/pitrix-deb-src.sources ]; then
  log "adding a deb-src entry for Debian's sources"
  uris=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
  cat > /etc/apt/sources.list.d/pitrix-deb-src.sources <<SRC
Types: deb-src
URIs: ${uris:-http://deb.debian.org/debian}
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -q >/dev/null
fi
# The package's own build needs rsync and jq beside Go.
for need in dpkg-source:dpkg-dev rsync:rsync jq:jq; do
  command -v "${need%%:*}" >/dev/null || apt-get install -y -q "${need#*:}" >/dev/null
done
[ -x /usr/lib/go-1.19/bin/go ] || apt-get install -y -q golang-1.19-go >/dev/null

work=$(mktemp -d /tmp/pitrix-kube-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
log "fetching Debian's kubernetes source package"
(cd "$work" && apt-get source -q --download-only kubernetes >/dev/null && dpkg-source -x --no-check kubernetes_*.dsc src >/dev/null)
src="$work/src"
log "building kube-apiserver with go 1.19 (cached in $OUT; ~15 min the first time)"
# As debian/rules does: the tree linked into a GOPATH, then Kubernetes' own make (code generators first).
mkdir -p "$src/.go/src/k8s.io"
ln -sfn ../../.. "$src/.go/src/k8s.io/kubernetes"
(cd "$src" && env GOPATH="$src/.go" PATH="/usr/lib/go-1.19/bin:$PATH" CGO_ENABLED=0 HOME="$work/home" \
  GOCACHE="$work/go-cache" make WHAT=cmd/kube-apiserver >"$work/make.log" 2>&1) || { tail -n 40 "$work/make.log" >&2; exit 1; }
mkdir -p "$OUT.new"
install -m 0755 "$src/_output/bin/kube-apiserver" "$OUT.new/kube-apiserver"
"$OUT.new/kube-apiserver" --version >&2
rm -rf "$OUT" && mv "$OUT.new" "$OUT"
echo "$OUT"
