#!/usr/bin/env bash
# netconform in another project's CI: installs the suite (or takes one that is
# installed), runs the catalog against an implementation, and leaves a report
# directory to keep as an artifact. The GitHub Action (action.yml at the top
# of this repository) is this script; other CI systems call it the same way:
#
#   git clone --depth 1 https://github.com/OWNER/netutil-harness "$HOME/netutil-harness"
#   "$HOME/netutil-harness/ci/netconform-ci.sh" --adapter "python3 my_adapter.py" \
#       --profile strict --expect conformance/expected.txt --out netconform-results
#
# Options (all have an environment form, NETCONFORM_CI_<NAME>, which the
# action sets from its inputs; an option wins over the environment):
#   --adapter CMD      the implementation's adapter command (docs/ADAPTER.md)
#   --impl NAME        or one of netconform's own (reference, tornado, asyncio, ...)
#   --profile NAME     strict (default) or tornado
#   --expect FILE      expected verdicts (docs/CONFORMANCE.md, "Expected verdicts"):
#                      the run passes when every verdict is the one listed
#   --filter GLOB      only the cases whose ID or a rule ID matches
#   --mode MODE        process (default) or traced (runtimes that bypass libc)
#   --jobs N           cases at once (default: the number of CPUs)
#   --max-skips N      fail when more cases are SKIPPED (default: no limit)
#   --out DIR          the report directory (default netconform-results)
#   --netconform PATH  an installed netconform (default: the one on PATH, e.g.
#                      from the .deb; else the suite is built from this tree;
#                      `source`: built from this tree whatever PATH has)
#   --build-dir DIR    where that build goes (default $RUNNER_TEMP or /tmp, netconform-build)
#   --prefix DIR       where it is installed (default beside the build dir, netconform)
#   --sudo auto|yes|no run netconform as root through sudo: network namespaces
#                      and real name service need CAP_SYS_ADMIN, which a hosted
#                      runner's user gets only that way (default auto: when not
#                      root and sudo works without a password)
#
# The report directory: run.json (the run document), index.html (the matrix),
# index.json, <impl>.junit.xml and <impl>.tap (tools/report), summary.txt (the
# run's one-line count). With $GITHUB_STEP_SUMMARY set, the count goes there too.
# Exit status: netconform's (0 pass, 1 a verdict FAILED or not as expected,
# 2 a usage, catalog or install error, 3 only verdicts the harness could not
# judge); the report is written whatever the verdicts.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() {
  echo "netconform-ci: $*" >&2
  exit 2
}

adapter=${NETCONFORM_CI_ADAPTER:-}
impl=${NETCONFORM_CI_IMPL:-}
profile=${NETCONFORM_CI_PROFILE:-strict}
expect=${NETCONFORM_CI_EXPECT:-}
filter=${NETCONFORM_CI_FILTER:-}
mode=${NETCONFORM_CI_MODE:-process}
jobs=${NETCONFORM_CI_JOBS:-$(nproc)}
max_skips=${NETCONFORM_CI_MAX_SKIPS:-}
out=${NETCONFORM_CI_OUT:-netconform-results}
netconform=${NETCONFORM_CI_NETCONFORM:-}
build_dir=${NETCONFORM_CI_BUILD_DIR:-${RUNNER_TEMP:-/tmp}/netconform-build}
prefix=${NETCONFORM_CI_PREFIX:-}
use_sudo=${NETCONFORM_CI_SUDO:-auto}

while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "$1 needs a value"
  case $1 in
    --adapter) adapter=$2 ;;
    --impl) impl=$2 ;;
    --profile) profile=$2 ;;
    --expect) expect=$2 ;;
    --filter) filter=$2 ;;
    --mode) mode=$2 ;;
    --jobs) jobs=$2 ;;
    --max-skips) max_skips=$2 ;;
    --out) out=$2 ;;
    --netconform) netconform=$2 ;;
    --build-dir) build_dir=$2 ;;
    --prefix) prefix=$2 ;;
    --sudo) use_sudo=$2 ;;
    *) die "unknown option $1 (see the comment at the top of $0)" ;;
  esac
  shift 2
done

# The arguments, checked before anything is installed or built.
[ -n "$adapter" ] || [ -n "$impl" ] || die "give --adapter CMD or --impl NAME"
[ -z "$adapter" ] || [ -z "$impl" ] || die "give --adapter or --impl, not both"
case $profile in strict | tornado) ;; *) die "--profile $profile: strict or tornado" ;; esac
case $mode in process | traced) ;; *) die "--mode $mode: process or traced" ;; esac
case $use_sudo in auto | yes | no) ;; *) die "--sudo $use_sudo: auto, yes or no" ;; esac
[[ $jobs =~ ^[0-9]+$ ]] && [ "$jobs" -ge 1 ] && [ "$jobs" -le 64 ] || die "--jobs $jobs: 1 to 64"
[ -z "$max_skips" ] || [[ $max_skips =~ ^[0-9]+$ ]] || die "--max-skips $max_skips: a count"
[ -z "$expect" ] || [ -f "$expect" ] || die "--expect $expect: no such file"
prefix=${prefix:-$(dirname "$build_dir")/netconform}

# Packages the suite's build needs (Debian and Ubuntu names), only those missing.
install_build_deps() {
  local packages=(cmake ninja-build g++ nlohmann-json3-dev libcli11-dev libpugixml-dev
    libgtest-dev libgmock-dev) missing=() p
  command -v dpkg-query >/dev/null || return 0 # not a dpkg system: the configure step says what lacks
  for p in "${packages[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "netconform-ci: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The suite from this tree: only what a run needs (netconform, netreport, the
# reference adapter and the helpers they use), installed as the suite component.
install_from_source() {
  install_build_deps
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    mkdir -p "$build_dir"
    cmake -S "$here/.." -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DNETUTIL_WERROR=OFF -DNETUTIL_BUILD_TESTS=OFF >"$build_dir/netconform-ci-configure.log" 2>&1 || {
      cat "$build_dir/netconform-ci-configure.log" >&2 || true
      die "configuring the suite failed (above)"
    }
  fi
  cmake --build "$build_dir" -j "$(nproc)" --target netutil_suite_targets ||
    die "building the suite failed"
  cmake --install "$build_dir" --component suite --prefix "$prefix" >/dev/null ||
    die "installing the suite into $prefix failed"
  netconform=$prefix/bin/netconform
}

if [ "$netconform" = source ]; then
  install_from_source
elif [ -z "$netconform" ]; then
  if command -v netconform >/dev/null; then
    netconform=$(command -v netconform)
  else
    install_from_source
  fi
fi
[ -x "$netconform" ] || die "--netconform $netconform: not an executable"
netreport=$(dirname "$netconform")/netreport
[ -x "$netreport" ] || die "no netreport beside $netconform"
"$netconform" --version

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if [ "$use_sudo" = yes ] || { [ "$use_sudo" = auto ] && sudo -n true 2>/dev/null; }; then
    # -E keeps the environment, but sudo's secure_path replaces PATH: give it
    # back, so the adapter finds the runtime the workflow set up (setup-node,
    # setup-go, a virtualenv), as it would without sudo.
    sudo=(sudo -n -E -- env "PATH=$PATH")
  fi
fi

mkdir -p "$out"
args=(run --profile "$profile" --mode "$mode" --jobs "$jobs" --format json --out "$out/run.json")
if [ -n "$adapter" ]; then args+=(--adapter "$adapter"); else args+=(--impl "$impl"); fi
[ -z "$expect" ] || args+=(--expect "$expect")
[ -z "$filter" ] || args+=(--filter "$filter")
[ -z "$max_skips" ] || args+=(--max-skips "$max_skips")
rc=0
"${sudo[@]}" "$netconform" "${args[@]}" 2>"$out/summary.txt" || rc=$?
cat "$out/summary.txt" >&2
[ ${#sudo[@]} -eq 0 ] || sudo -n chown -R "$(id -u):$(id -g)" "$out"
[ -s "$out/run.json" ] || die "netconform wrote no run document (exit $rc)"
"$netreport" --out-dir "$out" "$out/run.json" || die "netreport could not write the report"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  {
    echo "### netconform ($profile)"
    echo '```'
    cat "$out/summary.txt"
    echo '```'
  } >>"$GITHUB_STEP_SUMMARY"
fi
echo "netconform-ci: report in $out (index.html, JUnit, TAP); netconform exited $rc"
exit "$rc"
