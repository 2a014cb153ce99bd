# Sourced (not run) by scripts/fuzz.sh, scripts/fuzz-smoke.sh,
# scripts/fuzz-corpus.sh and tools/fuzz-continuous: what they share about the
# fuzz targets, so each runs them with the same flags.
#
# The caller sets `set -euo pipefail` and cds to the repository root first.

# nice level and parallel build jobs: the machines this runs on are shared.
FUZZ_NICE=${FUZZ_NICE:-10}
FUZZ_BUILD_JOBS=${FUZZ_BUILD_JOBS:-$(nproc)}

# The real targets (not empty_fuzzer), one a line, from fuzz/*_fuzzer.cc.
fuzz_targets() {
  local src t
  for src in fuzz/*_fuzzer.cc; do
    t=$(basename "$src" .cc)
    [ "$t" = empty_fuzzer ] || echo "$t"
  done
}

# libFuzzer flags from fuzz/<target>.options (the file ClusterFuzzLite reads):
# "key = value" under [libfuzzer] becomes -key=value, the dictionary a path.
fuzz_flags() {
  local opts="fuzz/$1.options" key value
  [ -f "$opts" ] || return 0
  while IFS='=' read -r key value; do
    key=$(echo "$key" | tr -d '[:space:]')
    value=$(echo "$value" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
    case "$key" in
      ''|'#'*|'['*) ;;
      dict) echo "-dict=fuzz/$value" ;;
      *) echo "-$key=$value" ;;
    esac
  done <"$opts"
}

# Whether clang++ can build and link a libFuzzer target with the sanitizers
# of the sanitize preset (clang and libclang-rt-14-dev installed).
fuzz_have_libfuzzer() {
  local dir ok=1
  command -v clang++ >/dev/null 2>&1 || return 1
  dir=$(mktemp -d)
  echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
    >"$dir/t.cc"
  clang++ -fsanitize=fuzzer,address,undefined "$dir/t.cc" -o "$dir/t" >/dev/null 2>&1 || ok=0
  rm -rf "$dir"
  [ "$ok" = 1 ]
}

# Configures the sanitize preset (build-sanitize: clang, libFuzzer coverage,
# ASan, UBSan) and builds its fuzz targets and the corpus recorder.
fuzz_build() {
  nice -n "$FUZZ_NICE" cmake --preset sanitize >/dev/null
  nice -n "$FUZZ_NICE" cmake --build --preset fuzz -j "$FUZZ_BUILD_JOBS" >/dev/null
}

# Copies the inputs of fuzz/corpus/<target> and fuzz/regressions/<target> (not
# the sanitizer reports, *.txt, kept beside regressions) into DIR.
fuzz_seed_copy() {
  local t=$1 dir=$2 f
  mkdir -p "$dir"
  cp -r "fuzz/corpus/$t/." "$dir/" 2>/dev/null || true
  if [ -d "fuzz/regressions/$t" ]; then
    for f in "fuzz/regressions/$t"/*; do
      case "$f" in *.txt) ;; *) [ -f "$f" ] && cp "$f" "$dir/" ;; esac
    done
  fi
}

# "key value" lines from a libFuzzer log: execs, exec/s, edges (cov),
# features (ft). Works for single-process runs (-print_final_stats=1) and
# -fork runs (their "#N: cov: .. exec/s .." status lines).
fuzz_log_stats() {
  local log=$1 execs eps cov ft
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ -z "$execs" ]; then  # -fork: "#1234: cov: 650 ft: 1800 corp: 300 exec/s 1234 ..."
    execs=$(grep -aoE '^#[0-9]+:' "$log" | tail -1 | tr -d '#:')
    eps=$(grep -aoE 'exec/s:? [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$')
  fi
  cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -aoE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  echo "execs ${execs:-0}"
  echo "eps ${eps:-0}"
  echo "cov ${cov:-0}"
  echo "ft ${ft:-0}"
}
