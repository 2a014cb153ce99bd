#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only those missing.
# Called by `make`; safe to run again.
set -euo pipefail

packages=(
  make cmake ninja-build g++ clang libclang-rt-14-dev clang-format
  libgtest-dev libgmock-dev nlohmann-json3-dev libcli11-dev libpugixml-dev
  librapidcheck-dev libbenchmark-dev
  iproute2 procps python3 python3-tornado python3-trio python3-twisted perl golang-go
  libpng-dev chromium
  dnsmasq-base dpkg-dev python3-yaml
  libuv1-dev libjansson-dev
  cargo rustc librust-serde-json-dev librust-libc-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    sudo="sudo"
  else
    echo "install-deps: missing packages (${missing[*]}) and not root; install them with apt-get" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
