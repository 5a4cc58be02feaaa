#!/usr/bin/env bash
# The README's walk-through, runnable: one legal-review case from request to a verified
# bundle, through the API of a running server (`make run`). Each step is what a newcomer
# would paste; tests/api/serve_test.cpp runs this file against a server it starts.
#
#   TRAMITE_URL   the server (default http://127.0.0.1:8080)
#   TRAMITE_DEMO_PASSWORD, TRAMITE_PKI (default var/demo-pki), TRAMITE_DATA (default var),
#   TRAMITE_BIN   the tramite command (default build/release/programs/tramite/tramite)
set -euo pipefail

URL=${TRAMITE_URL:-http://127.0.0.1:8080}
PASSWORD=${TRAMITE_DEMO_PASSWORD:-tramite-demo}
PKI=${TRAMITE_PKI:-var/demo-pki}
DATA=${TRAMITE_DATA:-var}
TRAMITE=${TRAMITE_BIN:-build/release/programs/tramite/tramite}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Reads a JSON answer on standard input and prints the Python expression $1 of it (d).
field() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
login() {
  curl -sf -X POST "$URL/api/v1/login" -H 'Content-Type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"$PASSWORD\"}" | field 'd["token"]'
}
# api TOKEN METHOD PATH [JSON]
api() {
  curl -sf -X "$2" "$URL$3" -H "Authorization: Bearer $1" \
    ${4:+-H 'Content-Type: application/json' -d "$4"}
}
# The open task NAME of the case, as TOKEN sees it.
task() { api "$1" GET "/api/v1/instances/$CASE/tasks" |
  field "[t['id'] for t in d['tasks'] if t['name'] == '$2' and t['status'] in ('ready', 'reserved', 'in_progress')][0]"; }

echo "1. Carla (planning) requests a legal opinion: a legal-review case takes its unit and subject."
CARLA=$(login carla_mendez)
CASE=$(api "$CARLA" POST /api/v1/instances '{"definition": "legal-review",
  "business_key": "GJ-DEMO-'"$$"'",
  "data": {"unidad": "planificacion", "asunto": "Convenio de cooperación"}}' | field 'd["id"]')
echo "   case $CASE"

echo "2. Fernando (head of legal) claims the assignment and gives it to Ana, a lawyer."
FERNANDO=$(login fernando_diaz)
ASSIGN=$(task "$FERNANDO" asignar)
api "$FERNANDO" POST "/api/v1/tasks/$ASSIGN/claim" > /dev/null
api "$FERNANDO" POST "/api/v1/tasks/$ASSIGN/complete" '{"form": {"abogado": "ana_lopez"}}' > /dev/null

echo "3. Ana drafts the opinion (the task is reserved to her)."
ANA=$(login ana_lopez)
DRAFT=$(task "$ANA" redactar)
api "$ANA" POST "/api/v1/tasks/$DRAFT/complete" \
  '{"form": {"opinion": "Procede la suscripción del convenio.", "referencia": "GJ/OP-1/2024"}}' > /dev/null

echo "4. Fernando approves the review; the opinion is issued and sealed."
REVIEW=$(task "$FERNANDO" revisar)
api "$FERNANDO" POST "/api/v1/tasks/$REVIEW/complete" '{"decision": "approve"}' |
  field '"   task " + d["status"]'
DOC=$(api "$CARLA" GET "/api/v1/instances/$CASE/documents" | field 'd["documents"][0]["id"]')

echo "5. Ana signs the issued opinion with her certificate (made anywhere: here openssl)."
api "$ANA" GET "/api/v1/documents/$DOC/content" > "$WORK/opinion.html"
openssl cms -sign -binary -outform DER -in "$WORK/opinion.html" -out "$WORK/opinion.p7s" \
  -signer "$PKI/users/ana_lopez.pem" -inkey "$PKI/users/ana_lopez.key"
curl -sf -X POST "$URL/api/v1/documents/$DOC/signatures" -H "Authorization: Bearer $ANA" \
  -H 'Content-Type: application/pkcs7-signature' --data-binary "@$WORK/opinion.p7s" |
  field '"   signed by " + d["signer"]'

echo "6. Marta (auditor) downloads the expediente bundle and verifies it offline."
MARTA=$(login marta_rivas)
api "$MARTA" GET "/api/v1/instances/$CASE/bundle" > "$WORK/bundle.zip"
"$TRAMITE" audit verify-bundle "$WORK/bundle.zip" --key "$DATA/ledger.key.pub" --trust "$PKI/ca.pem"
