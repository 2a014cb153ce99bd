#!/bin/sh
# Builds the Go adapter with the Go toolchain on PATH (Debian's golang-go,
# Go 1.19), standard library only, nothing fetched from the network.
#   tools/adapters/go/build.sh [--check] OUTPUT
# --check runs `go vet` and the tests of the SDK and the adapter (go test ./...) first.
# Go's build cache goes beside OUTPUT unless GOCACHE is set. CGO_ENABLED=0:
# a static binary using Go's own resolver, as Go servers usually ship.
set -eu
check=no
if [ "${1:-}" = "--check" ]; then
    check=yes
    shift
fi
if [ $# -ne 1 ]; then
    echo "usage: $0 [--check] OUTPUT" >&2
    exit 2
fi
out=$1
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
: "${GOCACHE:=$(dirname "$out")/go-cache}"
: "${GOPATH:=$(dirname "$out")/go-path}"
export GOCACHE GOPATH
export GOPROXY=off CGO_ENABLED=0
cd "$src"
if [ "$check" = yes ]; then
    go vet ./...
    go test -count=1 ./...
fi
exec go build -trimpath -o "$out" .
