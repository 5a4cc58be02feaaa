#!/usr/bin/env bash
# Installs the Debian packages Tramite needs to build, test and run, and for tests the npm
# tools pinned in tests/package-lock.json (npm ci into tests/node_modules).
# Idempotent: packages already present are skipped; apt-get runs only when something is missing,
# npm ci only when tests/node_modules is older than the lock file.
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

# Node.js and npm for the test tools: the machine's own when it has them, else Debian's.
if [ "$set_name" != build ] && ! command -v npm >/dev/null 2>&1; then
  pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing missing packages: ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "$set_name" != build ]; then
  tests_dir="$(cd "$(dirname "$0")/../tests" && pwd)"
  if [ ! -d "$tests_dir/node_modules" ] ||
     [ "$tests_dir/package-lock.json" -nt "$tests_dir/node_modules" ]; then
    echo "Installing the npm test tools (tests/package-lock.json)"
    (cd "$tests_dir" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules)
  fi
fi
