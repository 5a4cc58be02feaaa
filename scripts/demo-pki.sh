#!/usr/bin/env bash
# A demo PKI for `make run` (never for production), made once under $1 (default var/demo-pki)
# with the stock openssl tool: an institutional CA (ca.pem), the institutional seal
# (seal.pem with the CA chain, seal.key) and one signing certificate per user of
# config/directory.json (users/ID.pem, users/ID.key; subject UID = the login), so signatures
# made with `openssl cms -sign` can be uploaded and bound to their users.
set -euo pipefail
dir=${1:-var/demo-pki}
[ -f "$dir/ca.pem" ] && exit 0
mkdir -p "$dir/users"
umask 077
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
issue() {  # issue OUT SUBJECT
  key "$1.key"
  openssl req -new -utf8 -key "$1.key" -subj "$2" -out "$1.csr"
  printf 'keyUsage=critical,digitalSignature,nonRepudiation\n' > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -days 825 -sha256 \
    -set_serial "0x$(openssl rand -hex 8)" -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
key "$dir/ca.key"
openssl req -x509 -new -key "$dir/ca.key" -days 3650 -sha256 -out "$dir/ca.pem" \
  -subj "/O=Direccion de Integracion (DEMO)/CN=Autoridad certificadora de demostracion" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
issue "$dir/seal" "/O=Direccion de Integracion (DEMO)/CN=Sello institucional de demostracion"
cat "$dir/ca.pem" >> "$dir/seal.pem"
python3 - "$dir" <<'PY' | while read -r id name; do issue "$dir/users/$id" "/O=Direccion de Integracion (DEMO)/UID=$id/CN=$name"; done
import json, sys
for u in json.load(open("config/directory.json"))["users"]:
    print(u["id"], u["name"].replace("/", "-").replace("=", "-"))
PY
echo "demo PKI made in $dir"
