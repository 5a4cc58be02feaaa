#!/usr/bin/env bash
# What `make run` does once the release build exists: serves the API on loopback with an
# embedded SQLite store under var/, the shipped workflows deployed and the demo users of
# config/directory.json (one per role) able to log in with a demo password.
set -euo pipefail
build_dir=${1:-build/release}
cd "$(dirname "$0")/.."
tramite="$build_dir/programs/tramite/tramite"
listen=${TRAMITE_LISTEN:-127.0.0.1:8080}
export TRAMITE_DEMO_PASSWORD=${TRAMITE_DEMO_PASSWORD:-tramite-demo}

bash scripts/demo-pki.sh var/demo-pki
pki=var/demo-pki

cat <<INFO
== Tramite (Ctrl-C stops it; the data stays in var/)

Log in as any demo user with the password '$TRAMITE_DEMO_PASSWORD':
$(python3 - <<'PY'
import json
for u in json.load(open("config/directory.json"))["users"]:
    print(f"  {u['id']:<16} {', '.join(u['roles']):<28} {u['name']}")
PY
)

  curl -s -X POST http://$listen/api/v1/login -H 'Content-Type: application/json' \\
       -d '{"username": "carla_mendez", "password": "$TRAMITE_DEMO_PASSWORD"}'
  then: curl -H 'Authorization: Bearer TOKEN' http://$listen/api/v1/tasks?view=group
  The API is described at http://$listen/api/v1/openapi.json
  A whole case to paste, from request to verified bundle: README.md, "A walk-through"
  (or: bash scripts/walkthrough.sh)

Documents and signatures (demo PKI in $pki: the CA is trusted, the seal signs rendered
documents, each demo user has a signing certificate):
  curl -H 'Authorization: Bearer TOKEN' -H 'Content-Type: application/pdf' \\
       --data-binary @informe.pdf http://$listen/api/v1/instances/ID/documents/informe
  openssl cms -sign -binary -outform DER -in informe.pdf -out informe.p7s \\
       -signer $pki/users/ana_lopez.pem -inkey $pki/users/ana_lopez.key
  curl -H 'Authorization: Bearer TOKEN' -H 'Content-Type: application/pkcs7-signature' \\
       --data-binary @informe.p7s http://$listen/api/v1/documents/DOCUMENT_ID/signatures

INFO
exec "$tramite" serve --listen "$listen" --data-dir var \
  --set tramite.signing.trust_store=$pki/ca.pem \
  --set tramite.signing.seal_certificate=$pki/seal.pem \
  --set tramite.signing.seal_key=$pki/seal.key
