#!/usr/bin/env bash
# Builds the fuzz targets (sanitize preset) and runs every target for a short budget on a scratch
# copy of its corpus; prints exec/s (and its ratio to the empty target run in
# this same invocation), coverage edges, corpus size and crashes per target.
# Each target runs with the flags of its fuzz/<target>.options (max_len,
# timeout, dict), as ClusterFuzzLite runs it.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60, all targets)
# Exit status 1 when any target crashed; the crash inputs stay in the work dir.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/fuzz-common.sh
seconds=${1:-${FUZZ_SECONDS:-60}}
shift || true
fuzz_build

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(fuzz_targets)
fi

work=$(mktemp -d -t netutil-fuzz.XXXXXX)
echo "fuzz: ${seconds}s per target; scratch dir $work"

run() {  # run TARGET CORPUS_DIR -> prints "execs_per_sec edges corpus crashes"
  local t=$1 corpus=$2 log="$work/$1.log" art="$work/$1.artifacts/"
  mkdir -p "$art"
  local flags=()
  mapfile -t flags < <(fuzz_flags "$t")
  nice -n "$FUZZ_NICE" "build-sanitize/bin/$t" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=10 "${flags[@]}" -artifact_prefix="$art" "$corpus" >"$log" 2>&1 || true
  local eps edges files crashes
  eps=$(fuzz_log_stats "$log" | sed -n 's/^eps //p')
  edges=$(fuzz_log_stats "$log" | sed -n 's/^cov //p')
  files=$(find "$corpus" -type f | wc -l)
  crashes=$(find "$art" -type f | wc -l)
  echo "${eps:-0} ${edges:-0} $files $crashes"
}

mkdir -p "$work/empty"
read -r base_eps _ _ _ < <(run empty_fuzzer "$work/empty")
printf '%-26s %10s %8s %7s %8s %8s\n' target exec/s ratio edges corpus crashes
printf '%-26s %10s %8s %7s %8s %8s\n' empty_fuzzer "$base_eps" 1.00 - - -
failed=0
for t in "${targets[@]}"; do
  fuzz_seed_copy "$t" "$work/$t.corpus"
  read -r eps edges files crashes < <(run "$t" "$work/$t.corpus")
  ratio=$(awk -v a="$eps" -v b="$base_eps" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
  printf '%-26s %10s %8s %7s %8s %8s\n' "$t" "$eps" "$ratio" "$edges" "$files" "$crashes"
  if [ "$crashes" -gt 0 ]; then
    failed=1
    echo "  crash inputs: $work/$t.artifacts/ (log: $work/$t.log)"
  fi
done
exit $failed
