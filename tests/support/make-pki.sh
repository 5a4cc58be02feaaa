#!/bin/sh
# Makes a small PKI for the signature tests in directory $1 with the stock openssl tool:
#   ca.pem/ca.key          the institutional CA (10 years)
#   ana.pem/ana.key        a user's signing certificate, UID=ana_lopez (30 days)
#   elena, hector, ghost   more users: UID=elena_castro, hector_ramos, ghost_user (no such user)
#   noku.pem/noku.key      UID=ana_lopez, but key usage keyEncipherment only
#   rogue-ca.pem, rogue.pem/rogue.key   a certificate from a CA nobody trusts, UID=ana_lopez
#   seal.pem/seal.key      the institutional seal (certificate + CA chain in seal.pem)
#   tsa.pem/tsa.key, tsa.cnf   a time-stamping authority for `openssl ts -reply`
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
# issue NAME SUBJECT EXTENSIONS [CA-PREFIX]
issue() {
  key "$1.key"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "${4:-ca}.pem" -CAkey "${4:-ca}.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days 30 -sha256 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
ca() {
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "$2" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$1.pem"
}
ca ca "/O=Direccion de Integracion/CN=DI Autoridad Certificadora"
ca rogue-ca "/O=Nadie/CN=Rogue CA"
signing="keyUsage=critical,digitalSignature,nonRepudiation"
issue ana "/O=Direccion de Integracion/UID=ana_lopez/CN=Ana Lopez" "$signing"
issue elena "/O=Direccion de Integracion/UID=elena_castro/CN=Elena Castro" "$signing"
issue hector "/O=Direccion de Integracion/UID=hector_ramos/CN=Hector Ramos" "$signing"
issue ghost "/O=Direccion de Integracion/UID=ghost_user/CN=Nadie" "$signing"
issue noku "/O=Direccion de Integracion/UID=ana_lopez/CN=Ana Lopez (cifrado)" "keyUsage=critical,keyEncipherment"
issue rogue "/O=Nadie/UID=ana_lopez/CN=Ana Lopez" "$signing" rogue-ca
issue seal "/O=Direccion de Integracion/CN=Sello institucional" "$signing"
cat ca.pem >> seal.pem
issue tsa "/O=Direccion de Integracion/CN=DI Sello de tiempo" \
  "keyUsage=critical,digitalSignature
extendedKeyUsage=critical,timeStamping"
echo 01 > tsa.serial
cat > tsa.cnf <<CNF
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = $(pwd)
serial = \$dir/tsa.serial
signer_cert = \$dir/tsa.pem
certs = \$dir/ca.pem
signer_key = \$dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ess_cert_id_alg = sha256
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
CNF
