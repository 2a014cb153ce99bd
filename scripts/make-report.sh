#!/usr/bin/env bash
# The conformance matrix: netconform against every implementation, then
# netreport. `make report` runs it; by hand:
#
#   scripts/make-report.sh [BUILD_DIR]        (default: build)
#
# writes BUILD_DIR/report/<impl>.json (the run documents), and from them
# index.html (the matrix), index.json, <impl>.junit.xml and <impl>.tap.
# IMPLS picks the implementations (default: reference tornado asyncio pysocket).
#
# Failed cases belong in the report: netconform exits 1 then and the script
# goes on. A run that leaves no document (no adapter for the implementation, a
# crash, a usage error) is left out of the matrix with a warning, and the script
# exits 1 once the report of the others is written, so a missing column is
# never silent.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
build=${1:-build}
impls=${IMPLS:-reference tornado asyncio pysocket}
out=$build/report

if [ ! -f "$build/build.ninja" ] && [ ! -f "$build/Makefile" ]; then
  echo "make-report: $build is not configured (run: make configure)" >&2
  exit 2
fi
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target netconform netreport netutil-adapter ||
  exit 2

netconform=$build/bin/netconform
mkdir -p "$out" || exit 2
# Nothing from an earlier report may survive into this one.
rm -f "$out"/*.json "$out"/*.junit.xml "$out"/*.tap "$out"/index.html

# netconform without --impl (before it had one) runs the reference in-process
# and the others through their adapter scripts, started the way --impl does.
help=$("$netconform" run --help 2>&1)
has_impl=0
has_profile=0
grep -q -- '--impl' <<<"$help" && has_impl=1
grep -q -- '--profile' <<<"$help" && has_profile=1

runs=()
missing=()
for impl in $impls; do
  args=(run --format json --out "$out/$impl.json")
  [ $has_profile -eq 1 ] && args+=(--profile strict)
  if [ $has_impl -eq 1 ]; then
    args+=(--impl "$impl")
  elif [ "$impl" != reference ]; then
    script=tools/adapters/${impl}_adapter.py
    if [ ! -f "$script" ]; then
      echo "make-report: $impl: no adapter ($script is missing); left out" >&2
      missing+=("$impl")
      continue
    fi
    # Debian's interpreter: the one python3-tornado is installed for.
    args+=(--adapter "${PYTHON:-/usr/bin/python3} $script")
  fi
  echo "make-report: $impl: netconform ${args[*]}"
  start=$SECONDS
  "$netconform" "${args[@]}"
  rc=$?
  # 0: all passed, 1: something failed; both leave a document worth showing.
  if { [ $rc -eq 0 ] || [ $rc -eq 1 ]; } && [ -s "$out/$impl.json" ]; then
    runs+=("$out/$impl.json")
    echo "make-report: $impl: done in $((SECONDS - start)) s (exit $rc)"
  else
    echo "make-report: $impl: netconform exited $rc without a report; left out" >&2
    rm -f "$out/$impl.json"
    missing+=("$impl")
  fi
done

if [ ${#runs[@]} -eq 0 ]; then
  echo "make-report: no run produced a report" >&2
  exit 1
fi
"$build/bin/netreport" --out-dir "$out" "${runs[@]}" >/dev/null || exit 2
echo "make-report: $out/index.html: ${#runs[@]} of $(wc -w <<<"$impls") implementations"
if [ ${#missing[@]} -gt 0 ]; then
  echo "make-report: missing from the matrix: ${missing[*]}" >&2
  exit 1
fi
