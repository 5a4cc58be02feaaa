#!/usr/bin/env bash
# clang-tidy over the product's sources (engine/, storage/, api/, programs/; not tests or
# benchmarks) with the checks of .clang-tidy, from a build's compile_commands.json. Exit 0
# when clean; 1 with each finding printed.
# Usage: scripts/lint.sh [BUILD_DIR]   (default build/test)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build/test}
[ -f "$build/compile_commands.json" ] || { echo "no $build/compile_commands.json: build first" >&2; exit 2; }
files=$(python3 - "$build/compile_commands.json" "$here" <<'PY'
import json, sys
commands, root = sys.argv[1], sys.argv[2]
for f in sorted({c["file"] for c in json.load(open(commands))}):
    rel = f[len(root) + 1:] if f.startswith(root + "/") else None
    if rel and rel.split("/")[0] in ("engine", "storage", "api", "programs"):
        print(f)
PY
)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
jobs=$(nproc)
# run-clang-tidy's own exit status is not reliable across LLVM versions: findings are read
# from its output.
run-clang-tidy -p "$build" -j "$jobs" -quiet -extra-arg=-Wno-unknown-warning-option $files 2>&1 |
  sed 's/\x1b\[[0-9;]*m//g' >"$log" || true
if grep -qE "^[^ ]+:[0-9]+:[0-9]+: (error|warning): " "$log"; then
  grep -E "^[^ ]+:[0-9]+:[0-9]+: (error|warning): " "$log" | sort -u
  echo "clang-tidy: $(grep -cE "^[^ ]+:[0-9]+:[0-9]+: (error|warning): " "$log" | tr -d ' ') findings" >&2
  exit 1
fi
echo "clang-tidy: $(echo "$files" | wc -l | tr -d ' ') files, no findings"
