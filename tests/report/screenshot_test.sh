#!/usr/bin/env bash
# Renders a netreport matrix in headless Chromium and checks the screenshot.
#
#   screenshot_test.sh NETREPORT CHECKER WORKDIR COLUMNS [--expect-missing-column] RUN.json...
#
# Builds WORKDIR/report from the run documents with netreport, screenshots
# index.html at 1400x1000 and runs CHECKER (screenshot_columns) on it, which
# must count COLUMNS implementation columns. With --expect-missing-column the
# runs hold fewer columns than COLUMNS on purpose and the test passes only when
# the checker reports exactly that mismatch: the check is shown to catch a
# missing column, every run. The screenshot stays in WORKDIR for a look.
#
# Chromium is not needed to build, but this test needs it: without it the test
# fails and says so, rather than passing having checked nothing. CHROMIUM may
# name the browser; by default `chromium` (Debian package chromium) on PATH.
set -uo pipefail

if [ $# -lt 5 ]; then
  echo "usage: $0 NETREPORT CHECKER WORKDIR COLUMNS [--expect-missing-column] RUN.json..." >&2
  exit 2
fi
netreport=$1 checker=$2 workdir=$3 columns=$4
shift 4
expect_missing=0
if [ "${1:-}" = "--expect-missing-column" ]; then
  expect_missing=1
  shift
fi

browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
  browser=$(command -v chromium || command -v chromium-browser || true)
fi
if [ -z "$browser" ] || [ ! -x "$browser" ]; then
  echo "FAIL: no Chromium to render the report (apt-get install chromium, or set CHROMIUM)" >&2
  exit 1
fi

mkdir -p "$workdir" || exit 1
workdir=$(cd "$workdir" && pwd -P)
rm -rf "$workdir/report" "$workdir/screenshot.png"
if ! "$netreport" --out-dir "$workdir/report" "$@" >/dev/null; then
  echo "FAIL: netreport failed" >&2
  exit 1
fi

# A fresh profile and HOME each time: no state from an earlier run or from the
# user's own browser, and nothing written outside the temp dir.
profile=$(mktemp -d "${TMPDIR:-/tmp}/netreport-chromium.XXXXXX") || exit 1
trap 'rm -rf "$profile"' EXIT
HOME=$profile XDG_CONFIG_HOME=$profile XDG_CACHE_HOME=$profile \
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --force-device-scale-factor=1 \
  --user-data-dir="$profile/data" --screenshot="$workdir/screenshot.png" --window-size=1400,1000 \
  "file://$workdir/report/index.html" >"$workdir/chromium.log" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ ! -s "$workdir/screenshot.png" ]; then
  echo "FAIL: chromium exited $rc without a screenshot; last lines of $workdir/chromium.log:" >&2
  tail -n 15 "$workdir/chromium.log" >&2
  exit 1
fi
echo "screenshot: $workdir/screenshot.png"

"$checker" "$workdir/screenshot.png" "$columns"
rc=$?
if [ $expect_missing -eq 1 ]; then
  if [ $rc -eq 1 ]; then
    echo "OK: the checker caught the missing column"
    exit 0
  fi
  echo "FAIL: a report with a column missing was not caught (checker exit $rc)" >&2
  exit 1
fi
exit $rc
