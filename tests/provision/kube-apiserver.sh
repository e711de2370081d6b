#!/usr/bin/env bash
# Builds a real kube-apiserver from Debian's kubernetes source package (1.20.2, its Go
# dependencies vendored) with Debian's golang-1.19, once per machine: the binaries are cached under
# ${PITRIX_CACHE:-~/.cache/pitrix}/kubernetes-1.20.2-r2 and reused by every later run. Needs root for apt-get
# the first time (a deb-src entry is added for it). About 15 minutes of CPU on two cores.
# One patch: Kubernetes 1.20 vendors github.com/modern-go/reflect2 v1.0.1, whose map iteration faults
# (SIGSEGV in aeshashbody while json-iterator encodes a watch event) when built with Go >= 1.18. The
# vendored copy is replaced by v1.0.2, the release that fixed it, from Debian's own package. The "-r2"
# directory makes every machine that cached the unpatched build rebuild once.
# The last line printed is the directory holding kube-apiserver.
set -euo pipefail
CACHE=${PITRIX_CACHE:-$HOME/.cache/pitrix}
OUT="$CACHE/kubernetes-1.20.2-r2"
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
REFLECT2=/usr/share/gocode/src/github.com/modern-go/reflect2
[ -f "$REFLECT2/reflect2.go" ] || apt-get install -y -q golang-github-modern-go-reflect2-dev >/dev/null

work=$(mktemp -d /tmp/pitrix-kube-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
log "fetching Debian's kubernetes source package"
(cd "$work" && apt-get source -q --download-only kubernetes >/dev/null && dpkg-source -x --no-check kubernetes_*.dsc src >/dev/null)
src="$work/src"
log "replacing the vendored reflect2 v1.0.1 with v1.0.2 (v1.0.1 crashes under Go >= 1.18)"
grep -q 'github.com/modern-go/reflect2 v1.0.1' "$src/vendor/modules.txt" || { log "unexpected: vendor/modules.txt has no reflect2 v1.0.1"; exit 1; }
rm -rf "$src/vendor/github.com/modern-go/reflect2"
mkdir -p "$src/vendor/github.com/modern-go/reflect2"
find "$REFLECT2" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' -o -name LICENSE \) ! -name '*_test.go' \
  -exec cp {} "$src/vendor/github.com/modern-go/reflect2/" \;
sed -i 's#github.com/modern-go/reflect2 v1.0.1#github.com/modern-go/reflect2 v1.0.2#g' "$src/go.mod" "$src/vendor/modules.txt"
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
