#!/bin/sh
# Quick start, command 1: install what is missing, build, and run the main
# job on the embedded default (SQLite store, CA key on a SoftHSM2 token):
# a private CA, a demo account with agreed domains and cert-years, a real
# certificate request validated by every validator and issued, the
# certificate verified with certtool and openssl.  Everything lands in
# ./demo/.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tools/deps.sh"
"$top/tools/build.sh" "$top/build"

demo="$top/demo"
rm -rf "$demo"
mkdir -p "$demo"

# A private CA: root and issuing CA, the issuing key generated on a
# SoftHSM2 token (an HSM in production), never in a file.
echo "\$ mssl-admin ca init --dir demo/ca --token-label mssl-demo-ca (issuing key on a SoftHSM2 token)"
MSSL_CA_INIT="$top/tools/ca-init.sh" "$top/build/daemon/mssl-admin" ca init \
	--dir "$demo/ca" --name "mssl Demo CA" --key-type ecdsa-p256 \
	--token-label mssl-demo-ca >/dev/null
export SOFTHSM2_CONF="$demo/ca/softhsm2.conf"

cat >"$demo/mssl.conf" <<CONF
# Demo configuration (see mssl.conf(5)).
[mssl]
plugin_dir = $top/build/plugins/.build
store = store-sqlite
ca = ca-gnutls
validators = validate-names, validate-domains, validate-org, validate-key, validate-ev

[issuance]
crl_url = http://crl.demo.example.com.tw/issuing.crl
ca_issuers_url = http://crl.demo.example.com.tw/issuing.crt

[store-sqlite]
path = $demo/mssl.db

$(cat "$demo/ca/ca-gnutls.conf")
CONF

export MSSL_LOCALEDIR="$top/build/locale"
admin() {
	echo "\$ mssl-admin $*"
	"$top/build/daemon/mssl-admin" --config "$demo/mssl.conf" "$@"
}
admin account create --id 70759028-01 \
	--org-en "Demo Enterprise Co., Ltd." --org-zh "示範企業股份有限公司" \
	--products ssl,wildcard \
	--supervisor-name "Wang Da-ming" --supervisor-email supervisor@demo.example.com.tw \
	--supervisor-phone "+886-2-2370-8886"
admin domain add 70759028-01 demo.example.com.tw
admin domain add 70759028-01 shop.demo.example.com.tw
admin contact add 70759028-01 --kind technical --name "Lin Yi-chen" \
	--email it@demo.example.com.tw
admin topup 70759028-01 10 --memo "demo purchase"
admin account show 70759028-01

# A certificate request as a customer's server would make it (certtool,
# a fresh ECDSA P-256 key), validated the way issuance will validate it.
certtool --generate-privkey --key-type ecdsa --curve secp256r1 \
	--outfile "$demo/www.key" 2>/dev/null
cat >"$demo/www.tmpl" <<TMPL
cn = "www.demo.example.com.tw"
organization = "Demo Enterprise Co., Ltd."
locality = "Taipei"
country = TW
dns_name = "www.demo.example.com.tw"
dns_name = "demo.example.com.tw"
TMPL
certtool --generate-request --no-text --load-privkey "$demo/www.key" \
	--template "$demo/www.tmpl" --outfile "$demo/www.csr" 2>/dev/null
admin check --account 70759028-01 --csr "$demo/www.csr" --product ssl

# Issue it: recorded and charged before the CA signs, then stored.
echo "demo pass phrase" >"$demo/passphrase"
admin issue --account 70759028-01 --csr "$demo/www.csr" --product ssl \
	--years 1 --vendor nginx --tech-name "Lin Yi-chen" \
	--tech-email it@demo.example.com.tw --seal-name "Demo Enterprise" \
	--passphrase-fd 3 --out "$demo/www.pem" 3<"$demo/passphrase"
admin ledger show 70759028-01
admin ledger check
admin audit verify

cat "$demo/www.pem" "$demo/ca/issuing.pem" >"$demo/www-chain.pem"
echo
echo "\$ certtool --verify --load-ca-certificate demo/ca/root.pem --infile demo/www-chain.pem"
certtool --verify --load-ca-certificate "$demo/ca/root.pem" \
	--infile "$demo/www-chain.pem" | tail -n 2
echo "\$ openssl verify -purpose sslserver -CAfile demo/ca/root.pem -untrusted demo/ca/issuing.pem demo/www.pem"
openssl verify -purpose sslserver -CAfile "$demo/ca/root.pem" \
	-untrusted "$demo/ca/issuing.pem" "$demo/www.pem"
echo
echo "Certificate: $demo/www.pem (chain: $demo/www-chain.pem, key: $demo/www.key)"
echo "CA: $demo/ca/root.pem (issuing key on the SoftHSM2 token in $demo/ca)"
echo "Store: $demo/mssl.db (configuration: $demo/mssl.conf)"
