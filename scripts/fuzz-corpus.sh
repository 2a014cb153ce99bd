#!/usr/bin/env bash
# `make fuzz-corpus`: records seeds from the tests (fuzz/corpus_recorder.cc:
# the FakeKernel scenarios with and without each single fault, and the
# conformance cases) and merges them into fuzz/corpus/<target>/ with
# libFuzzer's -merge=1: a seed is added only when it reaches coverage the
# corpus does not, under the SHA-1 of its content as name (so nothing is added
# twice). Needs the sanitize preset (clang with libFuzzer).
#
#   scripts/fuzz-corpus.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/fuzz-common.sh

if ! fuzz_have_libfuzzer; then
  echo "fuzz-corpus: clang++ with libFuzzer (packages clang, libclang-rt-14-dev) not found" >&2
  exit 1
fi
fuzz_build

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(fuzz_targets)
fi
seeds=$(mktemp -d -t netutil-fuzz-seeds.XXXXXX)
trap 'rm -rf "$seeds"' EXIT

echo "fuzz-corpus: recording"
nice -n "$FUZZ_NICE" build-sanitize/bin/netutil-fuzz-recorder "$seeds" fuzz tests/conformance/cases

printf '%-26s %8s %8s %8s\n' target recorded added corpus
for t in "${targets[@]}"; do
  [ -d "$seeds/$t" ] || continue
  mkdir -p "fuzz/corpus/$t"
  before=$(find "fuzz/corpus/$t" -type f | wc -l)
  flags=()
  mapfile -t flags < <(fuzz_flags "$t")
  if ! nice -n "$FUZZ_NICE" "build-sanitize/bin/$t" -merge=1 "${flags[@]}" "fuzz/corpus/$t" \
      "$seeds/$t" >"$seeds/$t.merge.log" 2>&1; then
    echo "fuzz-corpus: merging into fuzz/corpus/$t failed:" >&2
    tail -20 "$seeds/$t.merge.log" >&2
    exit 1
  fi
  after=$(find "fuzz/corpus/$t" -type f | wc -l)
  printf '%-26s %8s %8s %8s\n' "$t" "$(find "$seeds/$t" -type f | wc -l)" \
    "$((after - before))" "$after"
done
