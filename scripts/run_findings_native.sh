#!/usr/bin/env bash
# Runs the standalone reproductions of docs/FINDINGS.md for the native runtimes
# (findings/{go,node,libuv,rust}/F-*): builds each with the runtime's own tool
# alone (go build, rustc, cc + pkg-config libuv; node runs the .js), runs it, and
# checks that it still reproduces (exit 0) and prints what its .out file says.
# A runtime whose tool is missing is SKIPPED; a repro that exits 2 could not run
# here (it needs root, unshare, mount or strace) and is SKIPPED with its reason.
# Not for every CI run: about a minute, mostly go build and rustc.
#
#   scripts/run_findings_native.sh [--only go,node,libuv,rust] [--update]
#
# --update rewrites each .out from the run (after reading the diff).
# Environment: NETUTIL_RUSTC (default /usr/bin/rustc, Debian's 1.63, the version
# the findings are about), GO (default go), NODE (default node), CC (default cc).
set -uo pipefail
cd "$(dirname "$0")/.."

only="go,node,libuv,rust"
update=0
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only=$2; shift 2 ;;
    --update) update=1; shift ;;
    *) echo "usage: $0 [--only go,node,libuv,rust] [--update]" >&2; exit 2 ;;
  esac
done

rustc=${NETUTIL_RUSTC:-/usr/bin/rustc}
go=${GO:-go}
node=${NODE:-node}
cc=${CC:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ok=0 failed=0 skipped=0
started=$(date +%s)

# have TOOL: whether the runtime's tool is there.
have() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; }

# build IMPL SRC BIN: compile SRC into BIN (nothing for node).
build() {
  case "$1" in
    go) GOFLAGS= GOPROXY=off CGO_ENABLED=0 "$go" build -o "$3" "$2" ;;
    rust) "$rustc" -O -o "$3" "$2" ;;
    libuv) "$cc" -Wall -Wextra -Werror -o "$3" "$2" $(pkg-config --cflags --libs libuv) ;;
    node) return 0 ;;
  esac
}

# check SRC: build, run, compare with SRC's .out.
check() {
  local impl=$1 src=$2 base out bin rc
  base=${src%.*}
  out="$work/$(basename "$base").out"
  bin="$work/$(basename "$base")"
  if ! build "$impl" "$src" "$bin" >"$out" 2>&1; then
    echo "FAILED   $src: does not build"; sed 's/^/    /' "$out"; failed=$((failed + 1)); return
  fi
  if [ "$impl" = node ]; then
    (cd "$work" && timeout 120 "$node" "$OLDPWD/$src") >"$out" 2>&1; rc=$?
  else
    (cd "$work" && timeout 120 "$bin") >"$out" 2>&1; rc=$?
  fi
  if [ $rc -eq 2 ]; then
    echo "SKIPPED  $src: $(tail -n 1 "$out")"; skipped=$((skipped + 1)); return
  fi
  if [ $update -eq 1 ] && [ $rc -eq 0 ]; then cp "$out" "$base.out"; fi
  if [ $rc -ne 0 ]; then
    echo "FAILED   $src: exit $rc, no longer reproduces (or broke)"; sed 's/^/    /' "$out"
    failed=$((failed + 1))
  elif ! diff -u "$base.out" "$out" >"$work/diff"; then
    echo "FAILED   $src: reproduces, but prints other than $(basename "$base").out"
    sed 's/^/    /' "$work/diff"; failed=$((failed + 1))
  else
    echo "OK       $src"; ok=$((ok + 1))
  fi
}

for impl in ${only//,/ }; do
  case "$impl" in
    go) tool=$go ext=go ;;
    node) tool=$node ext=js ;;
    libuv) tool=$cc ext=c ;;
    rust) tool=$rustc ext=rs ;;
    *) echo "unknown implementation: $impl" >&2; exit 2 ;;
  esac
  if ! have "$tool" || { [ "$impl" = libuv ] && ! pkg-config --exists libuv; }; then
    echo "SKIPPED  findings/$impl: $tool (or libuv's pkg-config file) not found"; skipped=$((skipped + 1)); continue
  fi
  for src in findings/"$impl"/F-*."$ext"; do
    [ -e "$src" ] || continue
    check "$impl" "$src"
  done
done

echo "findings (native): $ok reproduced as recorded, $failed FAILED, $skipped SKIPPED in $(($(date +%s) - started)) s"
[ $failed -eq 0 ]
