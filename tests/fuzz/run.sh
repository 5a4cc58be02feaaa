#!/usr/bin/env bash
# Runs the parser fuzzer for a bounded time over a corpus seeded with the shipped workflows
# and the documents in tests/data. Usage: run.sh FUZZER SECONDS
set -euo pipefail
fuzzer=${1:-}
seconds=${2:-20}
if [ -z "$fuzzer" ] || [ ! -x "$fuzzer" ]; then
  echo "SKIP: no fuzzer binary (build it with 'make build-fuzz')"
  exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
corpus=$(dirname "$fuzzer")/corpus
artifacts=$(dirname "$fuzzer")/artifacts
mkdir -p "$corpus" "$artifacts"
cp "$root"/workflows/*.scxml "$corpus"/ 2>/dev/null || true
cp "$root"/tests/data/*.scxml "$corpus"/ 2>/dev/null || true
echo "fuzzing the SCXML parser for ${seconds}s (corpus: $corpus)"
ASAN_OPTIONS=detect_leaks=1 "$fuzzer" -max_total_time="$seconds" -max_len=65536 \
  -timeout=10 -rss_limit_mb=2048 -dict="$here/scxml.dict" -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$corpus" 2>&1 | tail -n 15
