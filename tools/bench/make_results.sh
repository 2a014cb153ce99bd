#!/usr/bin/env bash
# Regenerates docs/RESULTS.md: every benchmark, load and fault driver of
# tools/bench, the exhaustive fault sweep, fuzz speed (scripts/fuzz.sh), the
# suite's wall time by ctest label and the bad-input table, each figure as
# measured in this one run. `make bench` calls it; it builds what it needs.
#
#   tools/bench/make_results.sh [BUILD_DIR]        (default: build)
#
# Environment: FUZZ_SECONDS (seconds per fuzz target, default 20; make bench
# passes BENCH_FUZZ_SECONDS), BENCH_QUICK=1 (fewer rounds, for trying the
# script out), BENCH_ASAN=1 (also the whole suite under ASan + UBSan, in
# build-asan/, label by label), NETUTIL_BENCH_PYTHON (the Python with tornado; see
# tools/bench/bench_util.h), BENCH_OUT (default docs/RESULTS.md).
# Sections that cannot run say why in the file; the script exits 1 when a
# target was missed or a step failed, after writing the file anyway.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
bin=$build/bin
out=${BENCH_OUT:-docs/RESULTS.md}
fuzz_seconds=${FUZZ_SECONDS:-20}
work=$(mktemp -d -t netutil-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
t_start=$(date +%s)

if [ "${BENCH_QUICK:-0}" = 1 ]; then
  accept_args=(--rounds 3 --connections 3000)
  interpose_args=(--rounds 2 --connections 1000)
  emfile_args=(--rounds 1)
  micro_args=(--benchmark_repetitions=3)
else
  accept_args=(--rounds 15 --connections 8000)
  interpose_args=(--rounds 7 --connections 3000)
  emfile_args=(--rounds 3)
  micro_args=()
fi

log() { echo "bench: $*" >&2; }
elapsed() { echo $(( $(date +%s) - t_start )); }

# run NAME CMD...: stdout to $work/NAME.md, stderr to $work/NAME.log; a
# failing command marks the run failed but the file is still written.
run() {
  local name=$1
  shift
  log "$name: $*"
  local t0
  t0=$(date +%s.%N)
  if ! "$@" >"$work/$name.md" 2>"$work/$name.log"; then
    status=1
    echo "$name" >>"$work/failed"
  fi
  awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }' >"$work/$name.secs"
}

section() {  # section NAME: the Markdown it wrote, or why there is none
  local name=$1
  if [ -s "$work/$name.md" ]; then
    cat "$work/$name.md"
  else
    echo "Not measured: \`$name\` wrote nothing. Its last lines:"
    echo
    echo '```'
    tail -n 15 "$work/$name.log" 2>/dev/null
    echo '```'
  fi
  if grep -qx "$name" "$work/failed" 2>/dev/null; then
    echo
    echo "(\`$name\` exited with a failure status; see above.)"
  fi
  echo
  echo "_Wall time of this step: $(cat "$work/$name.secs" 2>/dev/null || echo '?') s._"
}

# ---- build ---------------------------------------------------------------------
# Everything that builds (-k 0: one broken target elsewhere in the tree must
# not stop the others, nor the figures); what did not build is reported.
log "building $build (everything that builds)"
t_build=$(date +%s)
keep_going=(-k)
[ -f "$build/build.ninja" ] && keep_going=(-k 0)
if ! cmake --build "$build" -j "$(nproc)" --target all bench_tools -- "${keep_going[@]}" \
  >"$work/build.log" 2>&1; then
  status=1
  echo "build" >>"$work/failed"
  grep -E '^FAILED: ' "$work/build.log" | sed 's/^FAILED: //; s/ *$//' >"$work/build.failed"
  log "some targets did not build: $(tr '\n' ' ' <"$work/build.failed")"
fi

build_secs=$(( $(date +%s) - t_build ))
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- measurements (the load-sensitive ones first, while the build is quiet) ----
for b in netutil-loadbench netutil-bench-server bad_input_table; do
  if [ ! -x "$bin/$b" ]; then
    echo "bench: $bin/$b is missing; build first (make bench does)" >&2
    exit 2
  fi
done
run accept "$bin/netutil-loadbench" accept "${accept_args[@]}"
run emfile "$bin/netutil-loadbench" emfile "${emfile_args[@]}"
run burst "$bin/netutil-loadbench" burst --sizes 10000,50000
# libnetfault.so's and netutil-trace's cost on the reference's and Tornado's
# servers: the same load as accept, plain against preloaded and traced; fewer
# connections, as a traced connection costs tens of times a plain one.
run interpose "$bin/netutil-loadbench" interpose "${interpose_args[@]}"
if [ -x "$bin/netutil-microbench" ]; then
  run micro "$bin/netutil-microbench" "${micro_args[@]}"
else
  echo "netutil-microbench was not built (Google Benchmark, libbenchmark-dev, not found)." \
    >"$work/micro.md"
fi

# The exhaustive single-fault sweep of the fake kernel (tools/sweep), timed.
sweep_md() {
  local t0 t1 last
  t0=$(date +%s.%N)
  "$bin/sweep" >"$work/sweep.out" 2>&1
  local rc=$?
  t1=$(date +%s.%N)
  last=$(grep -E '^swept ' "$work/sweep.out" | tail -1)
  echo "\`$bin/sweep\`: every scenario of the fake kernel's catalogue, run once per (call it"
  echo "makes) x (errno legal for that call) with only that fault, each run checked against the"
  echo "spec's invariants."
  echo
  echo "| result | wall s | exit status |"
  echo "| --- | ---: | ---: |"
  echo "| ${last:-no result line} | $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') | $rc |"
  return $rc
}
if [ -x "$bin/sweep" ]; then
  run sweep sweep_md
else
  echo "The sweep (tools/sweep) is not built in $build." >"$work/sweep.md"
fi

# Fuzz speed: scripts/fuzz.sh's own table (exec/s as a ratio to the empty
# target of the same invocation).
fuzz_md() {
  echo "\`scripts/fuzz.sh $fuzz_seconds\` (clang, libFuzzer + ASan + UBSan, preset \`sanitize\`):"
  echo "exec/s per target and its ratio to \`empty_fuzzer\` run in the same invocation."
  echo
  echo '```'
  scripts/fuzz.sh "$fuzz_seconds" 2>&1 | grep -v '^fuzz: .*scratch dir'
  local rc=${PIPESTATUS[0]}
  echo '```'
  return "$rc"
}
run fuzz fuzz_md

# Suite wall time by ctest label.
suite_md() {  # suite_md BUILD_DIR
  local dir=$1 labels
  labels=$(ctest --test-dir "$dir" --print-labels 2>/dev/null | sed -n 's/^  \(.*\)$/\1/p')
  if [ -z "$labels" ]; then
    echo "No ctest labels in $dir."
    return 1
  fi
  echo "\`ctest --test-dir $dir -L <label> -j 2\`, one label after the other, in this run."
  echo
  echo "| label | tests | passed | failed | skipped | wall s |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  local rc=0 total=0
  for label in $labels; do
    local t0 t1 log="$work/ctest-$(basename "$dir")-$label.log"
    t0=$(date +%s.%N)
    ctest --test-dir "$dir" -L "^${label}\$" -j 2 --timeout 600 >"$log" 2>&1 || rc=1
    t1=$(date +%s.%N)
    local n passed failed skipped secs
    n=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
    failed=$(sed -n 's/.*, \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -1)
    skipped=$(grep -c '\*\*\*Skipped' "$log")  # "Not Run" (no binary) is a failure
    passed=$(( ${n:-0} - ${failed:-0} - skipped ))
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    total=$(awk -v a="$total" -v b="$secs" 'BEGIN { printf "%.1f", a + b }')
    echo "| $label | ${n:-0} | $passed | ${failed:-0} | $skipped | $secs |"
  done
  echo "| **all** | | | | | **$total** |"
  return $rc
}
run suite suite_md "$build"

# The suite under ASan + UBSan (preset asan, build-asan/), only when asked:
# a first build of that tree alone can take longer than make bench may.
asan_md() {
  if ! cmake --preset asan >"$work/asan-configure.log" 2>&1; then
    echo "cmake --preset asan failed:"
    tail -n 5 "$work/asan-configure.log"
    return 1
  fi
  local rc=0
  cmake --build build-asan -j "$(nproc)" -- "${keep_going[@]}" >"$work/asan-build.log" 2>&1 || rc=1
  if [ $rc != 0 ]; then
    echo "Not built under ASan: $(grep -E '^FAILED: ' "$work/asan-build.log" | sed 's/^FAILED: //' | tr '\n' ' ')"
    echo
  fi
  # The environment of the asan test preset (CMakePresets.json).
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    suite_md build-asan || rc=1
  return $rc
}
if [ "${BENCH_ASAN:-0}" = 1 ]; then
  run asan asan_md
fi

# The unix-socket race (tests/integration/unix_socket_race_test.cc): a swapper
# thread exchanging entries while bind_unix_socket runs, RACE_TRIES tries per
# attack (make test runs the default, 100); every hit is a rule broken.
race_tries=${RACE_TRIES:-2000}
race_md() {
  local out rc=0
  out=$(NETUTIL_RACE_TRIES=$race_tries "$bin/integration_tests" \
    --gtest_filter='UnixSocketRace.*' 2>&1) || rc=$?
  echo "\`NETUTIL_RACE_TRIES=$race_tries integration_tests --gtest_filter='UnixSocketRace.*'\`:"
  echo "another thread swaps entries of the socket's directory (or the directory itself) as"
  echo "fast as the kernel lets it while bind_unix_socket runs; a hit is a victim file changed,"
  echo "removed or created outside the call's own directory (UNIX-017 to UNIX-020)."
  echo
  echo "| attack | tries | hits | calls ok | calls failed |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  echo "$out" | sed -n 's/^race\[\(.*\)\]: tries=\([0-9]*\) hits=\([0-9]*\) (calls ok=\([0-9]*\), failed=\([0-9]*\)).*/| \1 | \2 | \3 | \4 | \5 |/p'
  [ $rc = 0 ] || { echo; echo "(the test failed: exit $rc)"; }
  return $rc
}
run race race_md

run badinput "$bin/bad_input_table"

tsan_md() {  # ThreadSanitizer over the threaded code (scripts/tsan.sh), as Markdown
  local out rc=0
  out=$(scripts/tsan.sh 2>&1) || rc=$?
  echo '```'
  echo "$out" | tail -n 40
  echo '```'
  return $rc
}
run tsan tsan_md

load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the file -----------------------------------------------------------------
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then commit="$commit + uncommitted changes"; fi
targets() {  # the verdict lines every driver prints
  for s in accept emfile burst interpose micro; do
    grep -hE '^(Target|Flat)' "$work/$s.md" 2>/dev/null | sed 's/^/- /'
  done
}

{
  echo "# Results"
  echo
  echo "Written by \`make bench\` (tools/bench/make_results.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'),"
  echo "commit $commit. Every figure below was measured in this run; nothing is copied from"
  echo "an earlier one. Machine: $(uname -sr), $(nproc) CPUs,"
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); g++ $(g++ -dumpfullversion 2>/dev/null)."
  echo
  echo "**How noisy:** the machine is shared (other builds and tests run beside this). Load"
  echo "average (1, 5, 15 min) was $load_start at the start and $load_end at the end. Figures are"
  echo "medians of interleaved rounds, with min / max beside them: the spread is the noise."
  echo "Ratios are taken between runs of the same invocation, never against a stored number."
  echo
  echo "## Targets"
  echo
  targets
  if [ -s "$work/failed" ]; then
    echo "- Steps that failed: $(tr '\n' ' ' <"$work/failed")"
  fi
  if [ -s "$work/build.failed" ]; then
    echo "- Not built (so their tests fail or are missing below): $(sed 's/^/`/; s/$/`/' \
      "$work/build.failed" | tr '\n' ' ')"
  fi
  echo
  echo "## 1. Accept cost"
  echo
  section accept
  echo
  echo "Why the closed loop and queued figures differ, and why the reference costs what raw does:"
  echo "the reference's own work per connection (everything above the syscalls: the loop, the"
  echo "handler, the callback, the owned Fd) is measured in isolation under *Drain cost per"
  echo "connection* below, on a Sys with no kernel; it is tens of nanoseconds against"
  echo "microseconds of kernel work for accept4 + close. The reference and raw servers make the"
  echo "same syscalls per connection (epoll_wait, accept4 until EAGAIN, close: see"
  echo "tools/bench/bench_server.cc and impl/src/accept_handler.cc), so what separates their"
  echo "rounds here is mostly the shared machine."
  echo
  echo "## 2. EMFILE storm"
  echo
  section emfile
  echo
  echo "## 3. Bursts"
  echo
  section burst
  echo
  echo "## 4. bind_sockets and drain cost (Google Benchmark)"
  echo
  section micro
  echo
  echo "## 5. Exhaustive single-fault sweep"
  echo
  section sweep
  echo
  echo "## 6. Fuzz speed"
  echo
  section fuzz
  echo
  echo "## 7. Suite time by label"
  echo
  section suite
  echo
  echo "## 8. Bad input"
  echo
  echo "Every row is checked by \`bad_input_test\` (ctest label \`unit\`, one test per row,"
  echo "tools/bench/bad_inputs.cc); here is what each input got in this run. API rows run on"
  echo "fakes::FakeKernel and count the syscalls made before the error (an argument error makes"
  echo "none). Scenario files are not in the table: scenarios (fakes/scenario.h) are C++ values,"
  echo "with no text format to get wrong yet."
  echo
  section badinput
  echo
  echo "## 8b. Unix-socket race"
  echo
  section race
  echo
  echo "## 9. Sanitizers"
  echo
  echo "- ASan + UBSan: \`make test PRESET=asan\` builds the whole tree with"
  echo "  \`-fsanitize=address,undefined -fno-sanitize-recover=all\` (build-asan/) and runs every"
  echo "  ctest label under \`ASAN_OPTIONS=detect_leaks=1:abort_on_error=1\`, so LeakSanitizer"
  echo "  checks the integration tests (real sockets, forked sandboxes) and every other test too;"
  echo "  any report fails the test. The bad-input test runs there as well."
  if [ -s "$work/asan.md" ]; then
    echo "  Run in this invocation (BENCH_ASAN=1):"
    echo
    section asan
    echo
  else
    echo "  Not run by this \`make bench\` (a correctness run, whose first build alone can take"
    echo "  longer than the 10 minutes \`make bench\` has): \`make bench BENCH_ASAN=1\` or"
    echo "  \`BENCH_ASAN=1 tools/bench/make_results.sh\` adds it here, label by label."
  fi
  echo "- TSan: the code that starts threads is netconform (\`--jobs\` worker threads, each case"
  echo "  in its own network namespace when it needs one) and its engine tests; the interposer is"
  echo "  preloaded into uninstrumented processes by design. \`scripts/tsan.sh\` builds the \`tsan\`"
  echo "  preset (\`NETUTIL_SANITIZE=thread\`) and runs the whole catalog with 4 jobs in the fake"
  echo "  and process modes, and the engine tests; in this run:"
  echo
  section tsan
  echo
  echo "## 10. Interposer and tracer overhead"
  echo
  echo "What LD_PRELOAD=libnetfault.so (tools/interpose, docs/INTERPOSER.md) and netutil-trace"
  echo "(tools/tracer, docs/TRACER.md) cost a server under accept load. With nothing to inject, an"
  echo "interposed call pays a generation check and, for the fd table, a byte store; with the"
  echo "trace on it goes through fakes::InjectingSys and is formatted into the control file. A"
  echo "traced call stops the server twice (seccomp entry, syscall exit; once for a call that"
  echo "opens no fd when nothing is recorded), each stop a round trip of context switches to the"
  echo "tracer: that, not the decoding, is most of its cost (docs/TRACER.md, Cost)."
  echo
  section interpose
  echo
  echo "---"
  echo "_\`make bench\` took $(elapsed) s, of which $build_secs s building._"
} >"$out"
log "wrote $out in $(elapsed) s (status $status)"
exit $status
