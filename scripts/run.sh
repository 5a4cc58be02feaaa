#!/usr/bin/env bash
# What `make run` does once the release build exists. Until the server lands (issue 5) it
# validates the shipped workflows and walks the approval chain on a virtual clock.
set -euo pipefail
build_dir=${1:-build/release}
tramite="$build_dir/engine/cli/tramite"
cd "$(dirname "$0")/.."

echo "== tramite validate workflows/*.scxml"
"$tramite" validate workflows/*.scxml
echo
echo "== tramite simulate workflows/approval-chain-lua.scxml (amount 25000; a legal rejection, then approval)"
"$tramite" simulate workflows/approval-chain-lua.scxml --data '{"amount": 25000}' \
  --events submit,approve,approve,reject,+3d,submit,approve,approve,approve,sign
echo
echo "The CLI is at $tramite (try: $tramite help)."
