#!/usr/bin/env bash
# ThreadSanitizer over the code that starts threads: netconform running cases
# on --jobs worker threads (each in its own network namespace when needed)
# in every mode, and its engine tests. Builds the tsan preset (build-tsan/).
# The interposer (libnetfault.so) is built without sanitizers by design (it is
# preloaded into uninstrumented Python too), so TSan sees its callers only.
#
#   scripts/tsan.sh        exit 1 on any ThreadSanitizer report
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
if ! { cmake --preset tsan && cmake --build --preset tsan -j "$(nproc)"; } >"$log" 2>&1; then
  echo "tsan: the tsan preset did not build:"
  grep -E 'error|FAILED' "$log" | head -20
  rm -f "$log"
  exit 1
fi
rm -f "$log"
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}"
status=0
run() {
  echo "tsan: $*"
  if ! "$@" >/tmp/netutil-tsan.$$ 2>&1; then
    if grep -q "ThreadSanitizer" /tmp/netutil-tsan.$$; then
      grep -A30 "WARNING: ThreadSanitizer" /tmp/netutil-tsan.$$ | head -60
      status=1
    fi
  fi
  tail -1 /tmp/netutil-tsan.$$
  rm -f /tmp/netutil-tsan.$$
}
run build-tsan/bin/netconform run --mode fake --jobs 4
run build-tsan/bin/netconform run --mode process --jobs 4
run build-tsan/bin/netconform_engine_tests
[ $status -eq 0 ] && echo "tsan: no ThreadSanitizer report" || echo "tsan: reports above"
exit $status
