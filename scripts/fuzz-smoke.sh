#!/usr/bin/env bash
# The fuzz smoke test of `make test PRESET=sanitize`: builds the fuzz targets and runs every
# target for FUZZ_SMOKE_SECONDS (default 6) on a scratch copy of its corpus
# and regressions, FUZZ_SMOKE_JOBS (default 2) targets at a time. Fails on any
# crash, leak, timeout (10 s per input) or out-of-memory; the inputs and logs
# of a failure are kept and their paths printed.
#
# Without clang and libFuzzer (clang, libclang-rt-14-dev) it says so and
# passes: the replay tests (ctest -L fuzz-replay) still run every corpus and
# regression input under any compiler.
#
#   scripts/fuzz-smoke.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/fuzz-common.sh
seconds=${FUZZ_SMOKE_SECONDS:-6}
jobs=${FUZZ_SMOKE_JOBS:-2}

if ! fuzz_have_libfuzzer; then
  echo "fuzz-smoke: SKIPPED: clang++ with libFuzzer (packages clang, libclang-rt-14-dev) not found"
  exit 0
fi

start=$(date +%s)
fuzz_build
built=$(date +%s)

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(fuzz_targets)
fi
work=$(mktemp -d -t netutil-fuzz-smoke.XXXXXX)

smoke() {  # smoke TARGET: runs it; its exit status and log are left in $work
  local t=$1 flags=()
  mapfile -t flags < <(fuzz_flags "$t")
  fuzz_seed_copy "$t" "$work/$t.corpus"
  mkdir -p "$work/$t.artifacts"
  local rc=0
  nice -n "$FUZZ_NICE" "build-sanitize/bin/$t" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=2048 "${flags[@]}" -artifact_prefix="$work/$t.artifacts/" \
    "$work/$t.corpus" >"$work/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$t.rc"
}

running=0
for t in "${targets[@]}"; do
  smoke "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

failed=0
printf '%-26s %10s %8s %7s %s\n' target execs exec/s edges result
for t in "${targets[@]}"; do
  rc=$(cat "$work/$t.rc" 2>/dev/null || echo 1)
  stats=$(fuzz_log_stats "$work/$t.log")
  artifacts=$(find "$work/$t.artifacts" -type f | wc -l)
  result=ok
  if [ "$rc" != 0 ] || [ "$artifacts" -gt 0 ]; then
    result="FAILED (exit $rc, $artifacts inputs in $work/$t.artifacts/, log $work/$t.log)"
    failed=1
  fi
  printf '%-26s %10s %8s %7s %s\n' "$t" "$(echo "$stats" | sed -n 's/^execs //p')" \
    "$(echo "$stats" | sed -n 's/^eps //p')" "$(echo "$stats" | sed -n 's/^cov //p')" "$result"
done
end=$(date +%s)
echo "fuzz-smoke: build $((built - start)) s, fuzzing $((end - built)) s" \
  "(${seconds} s per target, $jobs at a time)"
if [ "$failed" = 0 ]; then
  rm -rf "$work"
else
  echo "fuzz-smoke: FAILED; reproduce with build-sanitize/bin/<target> <input>," \
    "keep the input as fuzz/regressions/<target>/ once fixed"
fi
exit $failed
