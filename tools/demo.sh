#!/bin/sh
# Quick start, command 1: install what is missing, build, and run the main
# job on the embedded default (SQLite store): a demo account with agreed
# domains and a cert-year balance, shown back, and a real certificate
# request validated by every validator (issuance itself comes next).
# Everything lands in ./demo/.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tools/deps.sh"
"$top/tools/build.sh" "$top/build"

demo="$top/demo"
rm -rf "$demo"
mkdir -p "$demo"
cat >"$demo/mssl.conf" <<CONF
# Demo configuration (see mssl.conf(5)).
[mssl]
plugin_dir = $top/build/plugins/.build
store = store-sqlite
validators = validate-names, validate-domains, validate-org, validate-key, validate-ev

[store-sqlite]
path = $demo/mssl.db
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
admin ledger check
admin audit verify
echo
echo "Demo store: $demo/mssl.db (configuration: $demo/mssl.conf)"
echo "Request checked: $demo/www.csr (its key: $demo/www.key)"
echo "Try: $top/build/daemon/mssl-admin --config $demo/mssl.conf ledger show 70759028-01"
