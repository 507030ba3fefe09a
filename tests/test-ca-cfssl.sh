#!/bin/sh
# ca-cfssl against a real CFSSL signer: a private CA from mssl-admin ca
# init, "cfssl serve" on a free loopback port with mssl's profiles, and
# issuance through mssl-admin.  Each certificate must pass certtool and
# openssl verify -purpose sslserver; the serial mssl stores is the
# certificate's; the ledger follows it.  Then what must fail, fails
# clearly and is refunded: profiles that break the mssl profile (client
# auth, a CA certificate, keyCertSign, a validity too long), a wrong or
# missing auth key, a stopped signer, CRLs, bad configuration.
if ! command -v cfssl >/dev/null 2>&1; then
	echo "1..0 # SKIP cfssl is not installed (Debian: golang-cfssl)"
	exit 0
fi
. "${MSSL_TEST_SRCDIR:?run through make check}/tap.sh"

ADMIN=$MSSL_TOP_BUILDDIR/daemon/mssl-admin
T=$(mktemp -d "${TMPDIR:-/tmp}/test-ca-cfssl.XXXXXX")
A=70759028-01
serve_pid=
stop_cfssl() {
	if [ -n "$serve_pid" ]; then
		kill "$serve_pid" 2>/dev/null
		wait "$serve_pid" 2>/dev/null
		serve_pid=
	fi
}
trap 'stop_cfssl; rm -rf "$T"; tap_cleanup' EXIT

"$ADMIN" ca init --dir "$T/ca" --name "Cfssl Test CA" --key-type ecdsa-p256 \
	>/dev/null 2>&1 || tap_bail "mssl-admin ca init failed"

# ---- the signer ---------------------------------------------------------

# mssl's profiles for cfssl: keys and names come only from the request
# mssl sends (CSRWhitelist), 200 days, the OV policy, CRL and AIA URLs.
# The others each break one rule of the mssl profile.
cat >"$T/cfssl.json" <<'JSON'
{
  "signing": {
    "default": { "expiry": "4800h", "usages": ["digital signature"] },
    "profiles": {
      "mssl": {
        "expiry": "4800h",
        "usages": ["digital signature", "server auth"],
        "CSRWhitelist": { "PublicKey": true, "PublicKeyAlgorithm": true },
        "policies": [ { "ID": "2.23.140.1.2.2" } ],
        "crl_url": "http://crl.example.test/ca.crl",
        "issuer_urls": [ "http://crl.example.test/ca.crt" ]
      },
      "mssl-serial": {
        "expiry": "4800h",
        "usages": ["digital signature", "server auth"],
        "CSRWhitelist": { "PublicKey": true, "PublicKeyAlgorithm": true },
        "ClientProvidesSerialNumbers": true
      },
      "mssl-auth": {
        "expiry": "4800h",
        "usages": ["digital signature", "server auth"],
        "CSRWhitelist": { "PublicKey": true, "PublicKeyAlgorithm": true },
        "auth_key": "mssl"
      },
      "client": {
        "expiry": "4800h",
        "usages": ["digital signature", "server auth", "client auth"],
        "CSRWhitelist": { "PublicKey": true, "PublicKeyAlgorithm": true }
      },
      "long": {
        "expiry": "8760h",
        "usages": ["digital signature", "server auth"],
        "CSRWhitelist": { "PublicKey": true, "PublicKeyAlgorithm": true }
      },
      "certsign": {
        "expiry": "4800h",
        "usages": ["digital signature", "cert sign", "server auth"],
        "CSRWhitelist": { "PublicKey": true, "PublicKeyAlgorithm": true }
      },
      "ca": {
        "expiry": "4800h",
        "usages": ["digital signature", "server auth"],
        "ca_constraint": { "is_ca": true },
        "CSRWhitelist": { "PublicKey": true, "PublicKeyAlgorithm": true }
      }
    }
  },
  "auth_keys": {
    "mssl": { "type": "standard", "key": "0123456789abcdef0123456789abcdef" }
  }
}
JSON
printf '0123456789abcdef0123456789abcdef\n' >"$T/auth.key"
printf 'fedcba9876543210fedcba9876543210\n' >"$T/wrong.key"
chmod 600 "$T/auth.key" "$T/wrong.key"

port=
start_cfssl() {
	port=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cfssl serve -address 127.0.0.1 -port "$port" -ca "$T/ca/issuing.pem" \
		-ca-key "$T/ca/issuing-key.pem" -config "$T/cfssl.json" \
		>"$T/cfssl.log" 2>&1 &
	serve_pid=$!
	for _ in $(seq 1 100); do
		if python3 -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], b"{}", timeout=2)' \
			"http://127.0.0.1:$port/api/v1/cfssl/info" 2>/dev/null
		then
			return 0
		fi
		sleep 0.1
	done
	cat "$T/cfssl.log" | sed 's/^/# /'
	tap_bail "cfssl serve did not start"
}
start_cfssl

# ---- mssl -----------------------------------------------------------------

# conf NAME [ca-cfssl keys...]: a configuration using the store of $T.
conf() {
	name=$1
	shift
	{
		cat <<CONF
[mssl]
plugin_dir = $MSSL_PLUGIN_BUILDDIR
store = store-sqlite
ca = ca-cfssl
validators = validate-names, validate-domains, validate-org, validate-key

[issuance]
max_validity_days = 200
crl_url = http://crl.example.test/ca.crl
ca_issuers_url = http://crl.example.test/ca.crt

[store-sqlite]
path = $T/mssl.db

[ca-cfssl]
CONF
		for kv in "$@"; do
			printf '%s\n' "$kv"
		done
	} >"$T/$name.conf"
}
URL="url = http://127.0.0.1:$port"
CERT="certificate = $T/ca/issuing.pem"
CHAIN="chain = $T/ca/chain.pem"
conf own "$URL" "profile = mssl" "$CERT" "$CHAIN"
conf serial "$URL" "profile = mssl-serial" "client_serial = yes" "$CERT" \
	"$CHAIN"
conf auth "$URL" "profile = mssl-auth" "auth_key_file = $T/auth.key" \
	"$CERT" "$CHAIN"
conf wrongkey "$URL" "profile = mssl-auth" "auth_key_file = $T/wrong.key" \
	"$CERT" "$CHAIN"
conf nokey "$URL" "profile = mssl-auth" "$CERT" "$CHAIN"
conf info "$URL" "profile = mssl" "$CHAIN"
for p in client long certsign ca; do
	conf "$p" "$URL" "profile = $p" "$CERT" "$CHAIN"
done
# cfssl 1.2.0 signs with its default profile for a name it does not
# know; that profile (no serverAuth) must not get through.
conf misspelt "$URL" "profile = msl" "$CERT" "$CHAIN"

adm() { "$ADMIN" --config "$T/$1.conf" "$@"; }
admq() {
	c=$1
	shift
	"$ADMIN" --config "$T/$c.conf" "$@" >/dev/null 2>&1
}
sql() { sqlite3 "$T/mssl.db" "$1"; }
balance() { sql "SELECT balance_after FROM ledger ORDER BY id DESC LIMIT 1"; }

admq own account create --id $A --org-en "Taiwan-CA Inc." --products ssl \
	--supervisor-name Wang --supervisor-email wang@twca.com.tw ||
	tap_bail "account create"
admq own domain add $A twca.com.tw || tap_bail "domain add"
admq own topup $A 50 || tap_bail "topup"
echo "cfssl test pass" >"$T/pw"

n=0
# req NAME: a new P-256 request for NAME.twca.com.tw in $T/NAME.csr
req() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/$1.key" -out "$T/$1.csr" \
		-subj "/C=TW/L=Taipei/O=Taiwan-CA Inc./CN=$1.twca.com.tw" \
		-addext "subjectAltName=DNS:$1.twca.com.tw" 2>/dev/null ||
		tap_bail "openssl req"
}
# issue CONF NAME: issue NAME's request through CONF; the certificate in
# $T/NAME.pem, mssl-admin's output in $tap_out/$tap_err, status $tap_rc.
issue() {
	req "$2"
	run "$ADMIN" --config "$T/$1.conf" --json issue --account $A \
		--csr "$T/$2.csr" --vendor nginx --tech-name Lin \
		--tech-email it@twca.com.tw --seal-name Test \
		--passphrase-fd 3 --out "$T/$2.pem" 3<"$T/pw"
}
# verified NAME: certtool and openssl accept NAME's certificate.
verified() {
	cat "$T/$1.pem" "$T/ca/issuing.pem" >"$T/$1-chain.pem"
	certtool --verify --load-ca-certificate "$T/ca/root.pem" \
		--infile "$T/$1-chain.pem" >"$T/$1.certtool" 2>&1 &&
		openssl verify -x509_strict -purpose sslserver \
			-CAfile "$T/ca/root.pem" -untrusted "$T/ca/issuing.pem" \
			"$T/$1.pem" >"$T/$1.openssl" 2>&1
}
cert_serial() {
	openssl x509 -in "$T/$1.pem" -noout -serial | sed 's/^serial=//' |
		tr 'A-F' 'a-f'
}
# every charge has its issued certificate or its refund
charges_settled() {
	sql "SELECT count(*) FROM ledger l WHERE l.kind = 2 AND NOT (
	  EXISTS (SELECT 1 FROM certificates c WHERE c.serial = l.cert_serial
		  AND c.state = 'issued') OR
	  EXISTS (SELECT 1 FROM ledger r WHERE r.kind = 3
		  AND r.cert_serial = l.cert_serial))"
}

# ---- issuance, cfssl choosing the serial -----------------------------------

issue own www
is "own serial: issued" "$tap_rc" 0
[ "$tap_rc" -eq 0 ] || tap_show
check "own serial: certtool and openssl verify -purpose sslserver" verified www
s=$(cert_serial www)
is "own serial: the stored serial is the certificate's" \
	"$(sql "SELECT serial FROM certificates WHERE cn = 'www.twca.com.tw'
		AND state = 'issued'")" "$s"
# 20 random octets, the first with its top bit cleared (and left out
# when it is 0, 1 time in 128).
check "own serial: 19 or 20 octets from cfssl" \
	test "$(printf %s "$s" | wc -c)" -ge 38
is "own serial: the charge names it" \
	"$(sql "SELECT count(*) FROM ledger WHERE kind = 2 AND cert_serial = '$s'")" 1
is "own serial: no row under the pending serial" \
	"$(sql "SELECT count(*) FROM certificates")" 1
has "own serial: the certificate written" "$T/www.pem" "BEGIN CERTIFICATE"
is "own serial: cert.issued names both" \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'cert.issued'
		AND object = '$s' AND detail LIKE '%pending=%'")" 1
is "own serial: the stored validity is the certificate's" \
	"$(sql "SELECT not_after FROM certificates WHERE serial = '$s'")" \
	"$(date -u -d "$(openssl x509 -in "$T/www.pem" -noout -enddate |
		sed 's/^notAfter=//')" +%s)"
is "own serial: 1 cert-year charged" "$(balance)" 49
check "own serial: ledger consistent" admq own ledger check
check "own serial: audit chain intact" admq own audit verify
openssl x509 -in "$T/www.pem" -noout -text >"$T/www.txt"
has "own serial: cfssl's policy" "$T/www.txt" "2.23.140.1.2.2"
has "own serial: serverAuth" "$T/www.txt" "TLS Web Server Authentication"
lacks "own serial: no clientAuth" "$T/www.txt" "Client Authentication"

# ---- mssl's serial, the issuing CA from cfssl's info ------------------------

issue serial api
is "client serial: issued" "$tap_rc" 0
[ "$tap_rc" -eq 0 ] || tap_show
check "client serial: verifies" verified api
s=$(cert_serial api)
is "client serial: the certificate carries mssl's pending serial" \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'cert.issue'
		AND detail LIKE 'pending serial=$s %'")" 1
is "client serial: cert.issued without a move" \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'cert.issued'
		AND object = '$s' AND detail NOT LIKE '%pending=%'")" 1

issue info mail
is "chain from cfssl's info: issued" "$tap_rc" 0
[ "$tap_rc" -eq 0 ] || tap_show
s=$(cert_serial mail)
run "$ADMIN" --config "$T/info.conf" download "$s" --account $A \
	--format chain --out "$T/mail-dl.pem"
is "chain from cfssl's info: download" "$tap_rc" 0
[ "$tap_rc" -eq 0 ] || tap_show
is "chain from cfssl's info: leaf and issuing CA" \
	"$(grep -c 'BEGIN CERTIFICATE' "$T/mail-dl.pem")" 2

# ---- authentication ---------------------------------------------------------

issue auth shop
is "authsign with the right key: issued" "$tap_rc" 0
[ "$tap_rc" -eq 0 ] || tap_show
check "authsign: verifies" verified shop

b=$(balance)
issue wrongkey pay
is "wrong auth key: refused" "$tap_rc" 1
json_ok "wrong auth key: ca.auth, the key file named" "$tap_err" \
	'd["error"]["code"] == "ca.auth" and "auth_key_file" in d["error"]["message"]'
is "wrong auth key: refunded" "$(balance)" "$b"
issue nokey pay
is "auth profile without a key: refused" "$tap_rc" 1
json_ok "auth profile without a key: says to set auth_key_file" "$tap_err" \
	'd["error"]["code"] == "ca.auth" and "set auth_key_file" in d["error"]["message"]'

# ---- what the mssl profile forbids, cfssl's profiles notwithstanding --------

for case in "client:2.5.29.37" "certsign:2.5.29.15" "ca:2.5.29.19" \
	"long:valid until" "misspelt:lacks extensions"; do
	p=${case%%:*}
	what=${case#*:}
	b=$(balance)
	issue "$p" "x$p"
	is "profile $p: refused" "$tap_rc" 1
	json_ok "profile $p: cert.mismatch naming $what" "$tap_err" \
		"d['error']['code'] == 'cert.mismatch' and '$what' in d['error']['message']"
	is "profile $p: refunded" "$(balance)" "$b"
	is "profile $p: recorded as failed" \
		"$(sql "SELECT state FROM certificates WHERE cn = 'x$p.twca.com.tw'")" \
		failed
done

# ---- CRLs ---------------------------------------------------------------------

run "$ADMIN" --config "$T/own.conf" --json crl
is "crl: refused" "$tap_rc" 1
json_ok "crl: cannot sign CRLs, said so" "$tap_err" \
	'd["error"]["code"] == "ca.crl_unsupported" and "cannot sign CRLs" in d["error"]["message"]'

# ---- a stopped signer ---------------------------------------------------------

stop_cfssl
b=$(balance)
issue own down
is "stopped cfssl: refused" "$tap_rc" 1
json_ok "stopped cfssl: MSSL_EIO, did not answer" "$tap_err" \
	'd["error"]["status"] == "MSSL_EIO" and d["error"]["code"] == "ca.remote_io" and "did not answer" in d["error"]["message"]'
json_ok "stopped cfssl: the plugin's message in Chinese too" "$tap_err" \
	'"沒有回應" in d["error"]["message_zh"] and "did not answer" not in d["error"]["message_zh"]'
is "stopped cfssl: refunded" "$(balance)" "$b"
is "stopped cfssl: nothing left pending" \
	"$(sql "SELECT count(*) FROM certificates WHERE state = 'pending'")" 0
is "stopped cfssl: the request failed" \
	"$(sql "SELECT state FROM certificates WHERE cn = 'down.twca.com.tw'")" \
	failed
is "every charge has its certificate or its refund" "$(charges_settled)" 0
is "serials unique" \
	"$(sql "SELECT count(*) - count(DISTINCT serial) FROM certificates")" 0
check "ledger consistent" admq own ledger check
check "audit chain intact" admq own audit verify
is "issued: www, api, mail, shop" \
	"$(sql "SELECT count(*) FROM certificates WHERE state = 'issued'")" 4

# ---- configuration errors name the key ----------------------------------------

# bad NAME KEY [ca-cfssl lines...]: opening fails naming [ca-cfssl] KEY.
bad() {
	what=$1
	key=$2
	shift 2
	conf bad "$@"
	run "$ADMIN" --config "$T/bad.conf" ledger check
	if [ "$tap_rc" -ne 0 ] && grep -q "\[ca-cfssl\] $key: " "$tap_err"; then
		tap_ok "config: $what names $key"
	else
		tap_not_ok "config: $what names $key"
		tap_show
	fi
}
chmod 644 "$T/wrong.key"
printf 'not hex\n' >"$T/nothex.key"
chmod 600 "$T/nothex.key"
bad "no url" url "profile = mssl"
bad "a url that is not one" url "url = not a url"
bad "ftp" url "url = ftp://127.0.0.1/"
bad "credentials in the url" url "url = http://user:pw@127.0.0.1:1/"
bad "ca_file with http" ca_file "$URL" "ca_file = $T/ca/root.pem"
bad "a key file others can read" auth_key_file "$URL" \
	"auth_key_file = $T/wrong.key"
bad "a key that is not hex" auth_key_file "$URL" \
	"auth_key_file = $T/nothex.key"
bad "a missing key file" auth_key_file "$URL" \
	"auth_key_file = $T/nonexistent.key"
bad "timeout 0" timeout_s "$URL" "timeout_s = 0"
bad "client_serial maybe" client_serial "$URL" "client_serial = maybe"
bad "a relative certificate" certificate "$URL" "certificate = ca.pem"
bad "a certificate that is not a CA" certificate "$URL" \
	"certificate = $T/www.pem"
bad "a chain without the root" chain "$URL" "$CERT" \
	"chain = $T/ca/issuing.pem"
bad "an unknown key" profil "$URL" "profil = mssl"
tap_done
