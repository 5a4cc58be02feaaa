#!/usr/bin/env bash
# Runs every benchmark of a bench build and prints the figures side by side.
# Usage: bench/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build/bench}
out="$build/bench-results"
mkdir -p "$out"
run() {
  local bin=$1
  shift
  if [ -x "$build/bench/$bin" ]; then
    "$build/bench/$bin" --benchmark_min_time=1 --benchmark_out="$out/$bin.json" \
      --benchmark_out_format=json "$@"
  elif [ -x "$build/bench/qt/$bin" ]; then
    QT_QPA_PLATFORM=offscreen "$build/bench/qt/$bin" --benchmark_min_time=1 \
      --benchmark_out="$out/$bin.json" --benchmark_out_format=json "$@"
  else
    echo "($bin not built)"
  fi
}
run bench_approval_chain
run bench_qt_scxml
run bench_durable
echo
"$build/bench/bench_queue"
echo
"$build/bench/bench_http"
echo
"$build/bench/bench_audit"
echo
echo "== memory: the engine's RSS at 10k and 1M stored instances"
"$build/bench/bench_memory"
echo
echo "== approval chain, events/s (same machine, same run)"
python3 - "$out" <<'PY'
import json, os, sys
rows = []
for name in sorted(os.listdir(sys.argv[1])):
    if not name.endswith(".json"):
        continue
    with open(os.path.join(sys.argv[1], name)) as f:
        for b in json.load(f)["benchmarks"]:
            rows.append((b["name"], b.get("items_per_second", 0), b.get("session_bytes")))
width = max(len(r[0]) for r in rows)
def base_name(name):  # without Google Benchmark's /min_time:, /real_time and /threads: parts
    return "/".join(p for p in name.split("/")
                    if p != "real_time" and not p.startswith(("min_time:", "threads:")))
rate = {base_name(r[0]) if "Raw" in r[0] else r[0]: r[1] for r in rows}
qt = rate.get("BM_QtScxml/compiled")
for name, ips, size in rows:
    base = base_name(name)
    if base.startswith(("BM_DurableApprovalChain/", "BM_GroupCommitCeiling/")):
        raw = rate.get("BM_RawInsert/" + base.split("/")[1].split("_")[0])
        ratio = f"  {ips / raw:5.2f}x raw one-row commits" if raw else ""
    elif base.startswith("BM_RawInsert/"):
        ratio = "  (raw baseline)"
    else:
        ratio = f"  {ips / qt:5.2f}x Qt compiled" if qt else ""
    extra = f"  session {int(size)} bytes" if size else ""
    print(f"{name:<{width}}  {ips:>14,.0f} /s{ratio}{extra}")
PY
