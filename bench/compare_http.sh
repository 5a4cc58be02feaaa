#!/usr/bin/env bash
# bench_http of an earlier revision and of this tree, built alike (Release) and run in turns,
# so that both rates come from one session on one machine; prints their figures side by side.
# The earlier revision's build is kept in /tmp/tramite-bench-REV for the next comparison.
# Usage: bench/compare_http.sh BEFORE_REV [PAIRS]   (PAIRS: 3 unless given)
set -euo pipefail
before_rev=$(git rev-parse --short "${1:?usage: bench/compare_http.sh BEFORE_REV [PAIRS]}")
pairs=${2:-3}
here=$(cd "$(dirname "$0")/.." && pwd)

build() {  # source dir, build dir
  cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DTRAMITE_BUILD_TESTS=OFF \
    -DTRAMITE_BUILD_BENCH=ON >/dev/null
  cmake --build "$2" -j2 --target bench_http >/dev/null
}
before_build=/tmp/tramite-bench-$before_rev
if [ ! -x "$before_build/bench/bench_http" ]; then
  tree=$(mktemp -d /tmp/tramite-before.XXXXXX)
  git -C "$here" worktree add --detach "$tree" "$before_rev" >/dev/null
  build "$tree" "$before_build"
  git -C "$here" worktree remove --force "$tree"
fi
build "$here" "$here/build/bench"

out=$(mktemp -d /tmp/tramite-compare.XXXXXX)
for i in $(seq 1 "$pairs"); do
  for side in before after; do
    if [ $side = before ]; then bin=$before_build/bench/bench_http; else
      bin=$here/build/bench/bench/bench_http; fi
    echo "== run $i, $side" >&2
    "$bin" >"$out/$side-$i.txt" 2>&1
  done
done

echo "bench_http, $pairs pairs in turns: before = $before_rev, after = this tree ($out)"
for i in $(seq 1 "$pairs"); do
  for side in before after; do
    echo "-- run $i, $side"
    grep -E '^(engine|http|queue|slow) |HTTP layer cost|slow clients:' "$out/$side-$i.txt"
  done
done
