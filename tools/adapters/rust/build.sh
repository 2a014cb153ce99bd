#!/bin/sh
# Builds the Rust adapter with Debian's cargo and rustc, offline, from
# Debian's packaged crates (/usr/share/cargo/registry), into OUTPUT's
# directory: the sources are copied there, so nothing (Cargo.lock, target/)
# is written into the source tree. `build.sh --check OUTPUT` also runs the
# adapter's own tests (cargo test).
#   tools/adapters/rust/build.sh build/rust-adapter/rust_adapter
set -eu
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
[ $# -eq 1 ] || { echo "usage: $0 [--check] OUTPUT" >&2; exit 2; }
out=$1
src=$(cd "$(dirname "$0")" && pwd)
dir=$(mkdir -p "$(dirname "$out")" && cd "$(dirname "$out")" && pwd)
# Debian's toolchain, whatever rustup put first on PATH: the packaged crates
# are built and tested with it.
cargo=${NETUTIL_CARGO:-/usr/bin/cargo}
rustc=${NETUTIL_RUSTC:-/usr/bin/rustc}
registry=${NETUTIL_CARGO_REGISTRY:-/usr/share/cargo/registry}
work="$dir/work"
mkdir -p "$work/src" "$dir/cargo-home"
cp "$src/Cargo.toml" "$src/build.rs" "$work/"
cp "$src"/src/*.rs "$work/src/"
cat > "$dir/cargo-home/config.toml" <<CONFIG
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "$registry"
[net]
offline = true
CONFIG
export CARGO_HOME="$dir/cargo-home" RUSTC="$rustc" CARGO_TARGET_DIR="$dir/target"
unset RUSTUP_TOOLCHAIN CARGO_BUILD_TARGET 2>/dev/null || true
cd "$work"
"$cargo" build --offline --release --quiet
if [ $check -eq 1 ]; then "$cargo" test --offline --release --quiet; fi
cp "$dir/target/release/rust_adapter" "$out.tmp"
mv "$out.tmp" "$out"
