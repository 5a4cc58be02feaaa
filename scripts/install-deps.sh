#!/usr/bin/env bash
# Installs the Debian packages Tramite needs to build, test and run.
# Idempotent: packages already present are skipped; apt-get runs only when something is missing.
# Usage: scripts/install-deps.sh [build|test|bench]   (default: test; each set includes the previous)
set -euo pipefail

set_name=${1:-test}

build_pkgs=(
  build-essential cmake pkg-config
  libpoco-dev libboost-dev libxml2-dev libssl-dev liblua5.4-dev
  libsqlite3-dev libpq-dev libkainjow-mustache-dev libargon2-dev libyaml-cpp-dev
)
test_pkgs=(libgtest-dev libgmock-dev postgresql clang libfuzzer-14-dev openssl zip unzip curl
  python3-aiosmtpd clang-tidy)
bench_pkgs=(libbenchmark-dev qt6-scxml-dev qt6-base-dev wrk sqlite3)

pkgs=("${build_pkgs[@]}")
case "$set_name" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "Installing missing packages: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
