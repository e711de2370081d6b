#!/usr/bin/env bash
# Builds the Go text/template reference renderer (gotmplref) with Debian's Go and Sprig
# packages, caches the binary by the hash of main.go, and prints its absolute path last.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${PITRIX_CACHE:-$HOME/.cache/pitrix}/gotmplref"
hash="$(sha256sum "$here/main.go" | cut -c1-16)"
out_dir="$cache_root/$hash"
binary="$out_dir/gotmplref"

if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi

packages=(golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} > 0 )); then
  echo "installing ${missing[*]}" >&2
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2; then
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2
  fi
fi

# Debian ships Go libraries as GOPATH sources; modules with a /v3 suffix need an alias directory.
gopath="$(mktemp -d)"
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src/github.com/Masterminds/sprig" "$gopath/src/github.com/Masterminds/semver" "$gopath/src/gotmplref"
ln -s /usr/share/gocode/src/github.com/Masterminds/sprig "$gopath/src/github.com/Masterminds/sprig/v3"
ln -s /usr/share/gocode/src/github.com/Masterminds/semver "$gopath/src/github.com/Masterminds/semver/v3"
cp "$here/main.go" "$gopath/src/gotmplref/main.go"

mkdir -p "$out_dir"
(
  cd "$gopath/src/gotmplref"
  GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="$cache_root/gocache" GOFLAGS= \
    go build -o "$binary.tmp" . >&2
)
mv "$binary.tmp" "$binary"
echo "$binary"
