#!/usr/bin/env bash
# The conformance matrix: netconform against the ten implementations, each in
# both profiles (strict, tornado) in the mode it needs, plus any external
# adapter, then netreport. `make report` runs it; by hand:
#
#   scripts/make-report.sh [BUILD_DIR] [--adapter CMD]...     (default: build)
#
# `make report ADAPTERS='--adapter "python3 my_adapter.py" --adapter ./other'`
# passes adapters through make. Each CMD is one argument (quote it), started
# by netconform as docs/ADAPTER.md says; it runs in both profiles, in --mode
# process (REPORT_ADAPTER_MODE=traced for a runtime without libc calls).
#
# How each implementation is run is scripts/conformance_results.py's table
# (IMPLS, adapter_args), the one the Results of docs/CONFORMANCE.md and the
# expected lists come from. It writes the run documents to
# BUILD_DIR/report/runs/ and, from them, BUILD_DIR/report/index.html (the
# matrix: a column per run, named by the implementation's hello and the
# profile, with its counts and wall time), index.json, and a JUnit and TAP file
# per run. IMPLS (space-separated) picks some of the ten; REPORT_JOBS is each
# run's --jobs (default 2); REPORT_RUN_TIMEOUT bounds a run (default 900 s).
#
# Failed cases belong in the report. A run that crashes, hangs or writes no
# document keeps its column, which says why, and the script exits 1 once the
# report is written, so a missing column is never silent.
set -uo pipefail

usage() {
  echo "usage: $0 [BUILD_DIR] [--adapter CMD]..." >&2
  exit 2
}

cd "$(dirname "$0")/.." || exit 2
build=build
adapters=()
build_given=0
while [ $# -gt 0 ]; do
  case $1 in
    --adapter)
      [ $# -ge 2 ] && [ -n "$2" ] || usage
      adapters+=(--adapter "$2")
      shift 2
      ;;
    --adapter=*)
      [ -n "${1#--adapter=}" ] || usage
      adapters+=(--adapter "${1#--adapter=}")
      shift
      ;;
    -h | --help) usage ;;
    -*) echo "make-report: unknown option $1" >&2; usage ;;
    *)
      [ $build_given -eq 0 ] || usage
      build=$1 build_given=1
      shift
      ;;
  esac
done
out=$build/report

if [ ! -f "$build/build.ninja" ] && [ ! -f "$build/Makefile" ]; then
  echo "make-report: $build is not configured (run: make configure)" >&2
  exit 2
fi
jobs=${JOBS:-$(nproc)}
cmake --build "$build" -j "$jobs" --target netconform netreport netutil-adapter || exit 2
# The adapters the build makes; one that cannot be built (its toolchain is
# missing) is not fatal here: its column will say that its run failed.
for target in libuv_adapter go_adapter rust_adapter; do
  cmake --build "$build" -j "$jobs" --target "$target" >/dev/null 2>&1 ||
    echo "make-report: $target could not be built; its column will say so" >&2
done

only=()
if [ -n "${IMPLS:-}" ]; then
  only=(--only "$(tr -s ' ' ',' <<<"${IMPLS# }" | sed 's/,$//')")
fi
mkdir -p "$out/runs" || exit 2
rm -f "$out"/runs/*.json "$out"/runs/*.stderr
exec /usr/bin/python3 scripts/conformance_results.py "$build" --matrix-only \
  --out-dir "$out/runs" --report-dir "$out" --jobs "${REPORT_JOBS:-2}" \
  --run-timeout "${REPORT_RUN_TIMEOUT:-900}" --adapter-mode "${REPORT_ADAPTER_MODE:-process}" \
  "${only[@]}" "${adapters[@]}"
