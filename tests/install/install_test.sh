#!/usr/bin/env bash
# Install.Prefix (ctest label install): the build installed into a temp prefix,
# its layout, the installed netconform run from a relocated copy with the
# source tree out of reach, examples/consumer built and run against the
# package, and netutil.pc. Everything happens under one temp dir, removed at
# the end.
#
#   install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=$1
source=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/netutil-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

# 1. Install, then move the prefix: nothing may point back at the first place.
cmake --install "$build" --prefix "$tmp/first" >"$tmp/install.log" || {
  cat "$tmp/install.log" >&2
  fail "cmake --install failed"
}
cp -a "$tmp/first" "$tmp/moved"
rm -rf "$tmp/first"
prefix=$tmp/moved

# 2. The layout (cmake/Install.cmake). The libdir as GNUInstallDirs made it.
libdir=$(cd "$prefix" && dirname "$(find . -name netutil.pc -path '*/pkgconfig/*' | head -1)")
libdir=${libdir%/pkgconfig}
libdir=${libdir#./}
[ -n "$libdir" ] || fail "no pkgconfig/netutil.pc in the prefix"
for f in bin/netconform bin/netreport bin/netutil-adapter \
  "$libdir/netutil/libnetfault.so" "$libdir/netutil/libnetutil_quiet_gai.so" \
  "$libdir/netutil/netutil-trace" \
  "$libdir/libnetutil.a" "$libdir/libnetutil_fakes.a" "$libdir/libnetutil_fakes_core.a" \
  "$libdir/libnetutil_fakes_gmock.a" \
  "$libdir/cmake/netutil/netutilConfig.cmake" "$libdir/cmake/netutil/netutilConfigVersion.cmake" \
  "$libdir/cmake/netutil/netutilTargets.cmake" \
  include/netutil/bind_sockets.h include/netutil/fakes/fake_kernel.h \
  include/netutil/fakes/mock_sys.h \
  share/netconform/cases/VERSION share/netconform/cases/bind/close-on-exec.json \
  share/netconform/adapters/tornado_adapter.py \
  share/netconform/adapters/python/netutil_adapter/__init__.py \
  share/netconform/adapters/node/sdk/index.js share/netconform/adapters/go/sdk/session.go \
  share/doc/netconform/README.md share/doc/netconform/CHANGELOG.md \
  share/doc/netconform/docs/SPEC.md; do
  [ -e "$prefix/$f" ] || fail "missing from the install: $f"
done
for f in bin/netconform bin/netreport bin/netutil-adapter "$libdir/netutil/netutil-trace"; do
  [ -x "$prefix/$f" ] || fail "not executable: $f"
done
if grep -rlF "$source" "$prefix/$libdir/cmake" "$prefix/$libdir/pkgconfig" >/dev/null; then
  fail "the package files name the source tree"
fi

# 3. The installed netconform, from elsewhere, without the environment's hints.
cd "$tmp"
export -n NETCONFORM_CASES NETCONFORM_ADAPTERS 2>/dev/null || true
unset NETCONFORM_CASES NETCONFORM_ADAPTERS
version=$("$prefix/bin/netconform" --version)
echo "$version"
catalog_version=$(cat "$source/tests/conformance/cases/VERSION")
grep -qx "netconform [0-9]*\.[0-9]*\.[0-9]*" <<<"$version" || fail "--version: no tool version"
grep -qx "adapter protocol [0-9]*" <<<"$version" || fail "--version: no protocol version"
grep -qxF "catalog $catalog_version ($prefix/share/netconform/cases)" <<<"$version" ||
  fail "--version: not the installed catalog $catalog_version of $prefix"

"$prefix/bin/netconform" run --mode fake --jobs 2 --format json --out "$tmp/fake.json" ||
  fail "netconform run --mode fake from the installed prefix failed"
grep -qF "\"catalog_version\": \"$catalog_version\"" "$tmp/fake.json" ||
  grep -qF "\"catalog_version\":\"$catalog_version\"" "$tmp/fake.json" ||
  fail "the run document does not carry the catalog version"

# The helpers of lib/netutil: an injected case through the interposer and
# under the tracer (SKIPPED without them), and an adapter of share/.
one=bind/eintr-retried-bind
"$prefix/bin/netconform" run --filter "$one" --mode process --max-skips 0 ||
  fail "$one --mode process: the installed interposer was not used"
"$prefix/bin/netconform" run --filter "$one" --mode traced --max-skips 0 ||
  fail "$one --mode traced: the installed tracer was not used"
rc=0
"$prefix/bin/netconform" run --impl pysocket --filter bind/close-on-exec --max-skips 0 || rc=$?
[ "$rc" -le 1 ] || fail "--impl pysocket: the installed adapter did not run (exit $rc)"

# 4. examples/consumer against the package.
cmake -S "$source/examples/consumer" -B "$tmp/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$tmp/consumer.log" 2>&1 || {
  cat "$tmp/consumer.log" >&2
  fail "examples/consumer does not configure against the prefix"
}
cmake --build "$tmp/consumer" >>"$tmp/consumer.log" 2>&1 || {
  cat "$tmp/consumer.log" >&2
  fail "examples/consumer does not build against the prefix"
}
ctest --test-dir "$tmp/consumer" --output-on-failure || fail "examples/consumer's tests failed"

# 5. pkg-config: the flags, and a program built with nothing else.
flags=$(PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" pkg-config --cflags --libs netutil)
echo "pkg-config: $flags"
grep -qF -- "-I$prefix/" <<<"$flags" || grep -qF -- "-I$prefix/$libdir/pkgconfig/" <<<"$flags" ||
  fail "pkg-config --cflags does not point into the prefix"
grep -qF -- "-lnetutil" <<<"$flags" || fail "pkg-config --libs lacks -lnetutil"
# shellcheck disable=SC2086  # the flags are words
c++ -o "$tmp/listen_pc" "$source/examples/consumer/listen_once.cc" $flags ||
  fail "listen_once does not build with pkg-config's flags alone"
"$tmp/listen_pc" || fail "listen_once built with pkg-config's flags failed"
echo "install_test: ok"
