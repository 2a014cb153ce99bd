#!/usr/bin/env bash
# Install.Deb (ctest label install): `make deb`'s package (cmake/Package.cmake)
# built by CPack from this build tree, installed with dpkg into a scratch root
# (its own dpkg database: nothing of this machine's is touched), and the
# installed netconform run from there with the source and build trees out of
# reach. Its Depends (dpkg-shlibdeps) must hold on this machine, whose shared
# libraries the installed programs then use. Everything happens under one temp
# dir, removed at the end.
#
#   deb_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/netutil-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "deb_test: $*" >&2; exit 1; }

# 1. The package, as `make deb` makes it (into a directory of the test's own).
cpack --config "$build/CPackConfig.cmake" -B "$tmp/packages" >"$tmp/cpack.log" 2>&1 || {
  cat "$tmp/cpack.log" >&2
  fail "cpack failed"
}
version=$(sed -n 's/^project(netutil_harness VERSION \([0-9.]*\).*/\1/p' "$source/CMakeLists.txt")
debs=("$tmp"/packages/netutil-harness_"$version"_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "no netutil-harness_${version}_ARCH.deb made"
deb=${debs[0]}
echo "deb_test: $(basename "$deb"), $(($(stat -c %s "$deb") / 1024)) KiB"

# 2. Its control fields: the name, the version, a Depends computed from the
#    binaries, and the Depends satisfied here (dpkg's own parser checks it).
[ "$(dpkg-deb -f "$deb" Package)" = netutil-harness ] || fail "Package is not netutil-harness"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "Version is not $version"
depends=$(dpkg-deb -f "$deb" Depends)
echo "deb_test: Depends: $depends"
grep -q 'libc6' <<<"$depends" || fail "Depends lacks libc6: dpkg-shlibdeps did not run"
grep -q 'libstdc++6' <<<"$depends" || fail "Depends lacks libstdc++6"
mkdir -p "$tmp/ctl/debian"
printf 'Source: netutil-harness-depends-check\n\n' >"$tmp/ctl/debian/control"
(cd "$tmp/ctl" && dpkg-checkbuilddeps -d "$depends" debian/control) ||
  fail "the package's Depends do not hold on this machine"

# 3. Nothing outside /usr, nothing naming this build.
dpkg-deb -c "$deb" | awk '{print $6}' >"$tmp/files"
grep -v -e '^\./usr/' -e '^\./$' "$tmp/files" >"$tmp/outside" || true
if [ -s "$tmp/outside" ]; then
  cat "$tmp/outside" >&2
  fail "files outside /usr (above)"
fi
for f in ./usr/bin/netconform ./usr/bin/netreport ./usr/bin/netutil-adapter \
  ./usr/share/netconform/cases/VERSION ./usr/share/netconform/ci/netconform-ci.sh \
  ./usr/include/netutil/bind_sockets.h ./usr/share/doc/netconform/README.md; do
  grep -qxF "$f" "$tmp/files" || fail "missing from the package: $f"
done
grep -q '/netutil/libnetfault\.so$' "$tmp/files" || fail "missing from the package: libnetfault.so"
grep -q '/cmake/netutil/netutilConfig\.cmake$' "$tmp/files" || fail "missing: netutilConfig.cmake"

# 4. dpkg -i into a scratch root with a database of its own. Its Depends were
#    checked against this machine above; the scratch root has no packages, so
#    dpkg is told to install regardless (--force-depends), and it has no
#    maintainer scripts to run (so none need a chroot).
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
: >"$root/var/lib/dpkg/status"
: >"$root/var/lib/dpkg/available"
dpkg --root="$root" --log=/dev/null --force-not-root --force-depends --force-script-chrootless \
  -i "$deb" >"$tmp/dpkg.log" 2>&1 || {
  cat "$tmp/dpkg.log" >&2
  fail "dpkg -i into the scratch root failed"
}
# (Into files, not pipes into grep -q: with pipefail, dpkg's SIGPIPE would fail them.)
dpkg --root="$root" -s netutil-harness >"$tmp/status"
dpkg --root="$root" -L netutil-harness >"$tmp/listed"
grep -q '^Status: install ok installed' "$tmp/status" ||
  fail "dpkg does not list netutil-harness as installed in the scratch root"
grep -qxF /usr/bin/netconform "$tmp/listed" || fail "dpkg -L does not list /usr/bin/netconform"

# 5. The installed netconform, from elsewhere: its catalog, its helpers.
cd "$tmp"
unset NETCONFORM_CASES NETCONFORM_ADAPTERS
nc=$root/usr/bin/netconform
catalog_version=$(cat "$source/tests/conformance/cases/VERSION")
"$nc" --version | tee "$tmp/version"
grep -qxF "netconform $version" "$tmp/version" || fail "--version is not $version"
grep -qxF "catalog $catalog_version ($root/usr/share/netconform/cases)" "$tmp/version" ||
  fail "--version: not the package's catalog $catalog_version"
"$nc" run --mode fake --jobs 2 || fail "the installed netconform run --mode fake failed"
"$nc" run --filter bind/eintr-retried-bind --mode process --max-skips 0 ||
  fail "--mode process: the installed adapter and interposer were not used"
echo "deb_test: ok"
