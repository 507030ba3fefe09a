#!/bin/sh
# Regenerate the seed corpus of fuzz/csr-fuzzer (fuzz/corpus/csr/).
#
# Every seed is one selector byte followed by the request (see
# fuzz/csr-fuzzer.c): '0' ssl, '1' wildcard, '2' ev, '3' ssl asking to
# renew a certificate that does not exist; '6', '7', '8' and '9' the same
# re-signed by the target, so that mutations of them reach the
# validators.  Real requests are made with certtool (GnuTLS) and openssl
# from fresh keys, which are thrown away;
# the garbled seeds are cut or altered copies of them.  Saved crashes
# (crash-*) are kept.
#
# Usage: fuzz/make-seeds.sh [OUTDIR]   (needs certtool and openssl)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/corpus/csr}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mssl-seeds-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

mkdir -p "$out"
find "$out" -maxdepth 1 -type f ! -name 'crash-*' -exec rm -f {} +

ORG='Fuzz Co., Ltd.'

# seed NAME SELECTOR FILE: the selector byte, then FILE.
seed() {
	printf '%s' "$2" >"$out/$1"
	cat "$3" >>"$out/$1"
}

# gtkey FILE TYPE [BITS|CURVE]
gtkey() {
	case $2 in
	rsa) certtool --generate-privkey --key-type rsa --bits "$3" \
		--outfile "$1" 2>/dev/null ;;
	ecdsa) certtool --generate-privkey --key-type ecdsa --curve "$3" \
		--outfile "$1" 2>/dev/null ;;
	esac
}

# gtreq OUT KEY TEMPLATE-TEXT [--no-text]: a request made by certtool.
gtreq() {
	printf '%s\n' "$3" >"$tmp/t.tmpl"
	# shellcheck disable=SC2086 # $4 is an optional flag
	certtool --generate-request --load-privkey "$2" \
		--template "$tmp/t.tmpl" --outfile "$1" ${4:-} >/dev/null 2>&1
}

# osreq OUT KEYOPTS SUBJECT [OPENSSL REQ OPTIONS...]: made by openssl.
osreq() {
	o=$1 k=$2 s=$3
	shift 3
	# shellcheck disable=SC2086
	openssl req -new -nodes $k -keyout "$tmp/os.key" -subj "$s" \
		-out "$o" "$@" 2>/dev/null
}

pem2der() {
	openssl req -in "$1" -outform DER -out "$2"
}

size() {
	wc -c <"$1" | tr -d ' '
}

# ---- real requests ------------------------------------------------------

gtkey "$tmp/rsa2048.key" rsa 2048
gtreq "$tmp/r01.pem" "$tmp/rsa2048.key" "cn = \"www.example.com.tw\"
organization = \"$ORG\"
country = TW
dns_name = \"www.example.com.tw\"
dns_name = \"example.com.tw\"" --no-text
seed 01-ssl-rsa2048-certtool.pem 0 "$tmp/r01.pem"
pem2der "$tmp/r01.pem" "$tmp/r01.der"
seed 02-ssl-rsa2048.der 0 "$tmp/r01.der"

osreq "$tmp/r03.pem" "-newkey ec -pkeyopt ec_paramgen_curve:P-256" \
	"/C=TW/O=$ORG/CN=www.twca.com.tw" \
	-addext "subjectAltName=DNS:www.twca.com.tw,DNS:ww2.mis.twca.com.tw,$(
	)DNS:twca.com.tw"
seed 03-ssl-p256-openssl.pem 0 "$tmp/r03.pem"

gtkey "$tmp/p384.key" ecdsa secp384r1
gtreq "$tmp/r04.pem" "$tmp/p384.key" "cn = \"*.example.com.tw\"
organization = \"$ORG\"
country = TW
dns_name = \"*.example.com.tw\"
dns_name = \"example.com.tw\"" --no-text
seed 04-wildcard-p384.pem 1 "$tmp/r04.pem"

osreq "$tmp/r05.pem" "-newkey rsa:3072" \
	"/C=TW/ST=Taipei City/L=Taipei/O=$ORG/jurisdictionC=TW$(
	)/businessCategory=Private Organization/serialNumber=70759028$(
	)/CN=www.example.com.tw" \
	-addext "subjectAltName=DNS:www.example.com.tw,DNS:shop.example.com.tw"
seed 05-ev-rsa3072.pem 2 "$tmp/r05.pem"
seed 06-renew-ssl.pem 3 "$tmp/r01.pem"

# certtool's default output: a text dump, then a NEW CERTIFICATE REQUEST.
gtreq "$tmp/r07.pem" "$tmp/rsa2048.key" "cn = \"www.example.com\"
organization = \"$ORG\"
dns_name = \"www.example.com\"
dns_name = \"api.example.com\""
seed 07-ssl-certtool-text.pem 0 "$tmp/r07.pem"
openssl req -in "$tmp/r03.pem" -text -out "$tmp/r08.pem"
seed 08-ssl-openssl-text.pem 0 "$tmp/r08.pem"
sed 's/$/\r/' "$tmp/r01.pem" >"$tmp/r09.pem"
seed 09-ssl-crlf.pem 0 "$tmp/r09.pem"

# Keys the validators refuse (and some GnuTLS cannot read).
osreq "$tmp/r10.pem" "-newkey rsa:1024" "/C=TW/O=$ORG/CN=www.example.com.tw"
seed 10-ssl-rsa1024.pem 0 "$tmp/r10.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	-pkeyopt rsa_keygen_pubexp:3 -out "$tmp/e3.key" 2>/dev/null
osreq "$tmp/r11.pem" "-key $tmp/e3.key" "/C=TW/O=$ORG/CN=www.example.com.tw"
seed 11-ssl-rsa-e3.pem 0 "$tmp/r11.pem"
osreq "$tmp/r12.pem" "-newkey ec -pkeyopt ec_paramgen_curve:P-521" \
	"/C=TW/O=$ORG/CN=www.example.com.tw"
seed 12-ssl-p521.pem 0 "$tmp/r12.pem"
osreq "$tmp/r13.pem" "-newkey ec -pkeyopt ec_paramgen_curve:brainpoolP256r1" \
	"/C=TW/O=$ORG/CN=www.example.com.tw"
seed 13-ssl-brainpool.pem 0 "$tmp/r13.pem"
osreq "$tmp/r14.pem" "-newkey ed25519" "/C=TW/O=$ORG/CN=www.example.com.tw"
seed 14-ssl-ed25519.pem 0 "$tmp/r14.pem"
osreq "$tmp/r15.pem" "-newkey ec -pkeyopt ec_paramgen_curve:P-224" \
	"/C=TW/O=$ORG/CN=www.example.com.tw" -sha1
seed 15-ssl-p224-sha1.pem 0 "$tmp/r15.pem"

# Names every name rule refuses, and every SAN type.
osreq "$tmp/r16.pem" "-newkey ec -pkeyopt ec_paramgen_curve:P-256" \
	"/C=TW/O=$ORG/CN=WWW.Example.com.tw" \
	-addext "subjectAltName=DNS:www.example.com.tw,IP:192.0.2.1,$(
	)IP:2001:db8::1,email:a@example.com.tw,URI:https://example.com.tw/,$(
	)DNS:under_score.example.com.tw,DNS:xn--fiq228c.example.com.tw,$(
	)DNS:xn--zz.example.com.tw,DNS:a.b.c.example.com.tw,$(
	)DNS:www.not-agreed.net,DNS:-bad-.example.com.tw,DNS:192.168.1.1,$(
	)DNS:0x7f.1,DNS:a..example.com.tw,DNS:trailing.example.com.tw.,$(
	)DNS:sp ace.example.com.tw,DNS:com.tw,DNS:www.example.com.tw"
seed 16-ssl-bad-names.pem 0 "$tmp/r16.pem"
osreq "$tmp/r17.pem" "-newkey ec -pkeyopt ec_paramgen_curve:P-256" \
	"/C=TW/O=$ORG/CN=*.twca.com.tw" \
	-addext "subjectAltName=DNS:*.twca.com.tw,DNS:w*.example.com.tw,$(
	)DNS:*.*.example.com,DNS:*,DNS:*.mis.twca.com.tw,$(
	)DNS:*.x.mis.twca.com.tw"
seed 17-wildcard-mixed.pem 1 "$tmp/r17.pem"
osreq "$tmp/r18.pem" "-newkey ec -pkeyopt ec_paramgen_curve:P-384" \
	"/C=TW/O=台灣網路認證股份有限公司/jurisdictionC=US$(
	)/businessCategory=Nonsense/CN=www.twca.com.tw" \
	-utf8
seed 18-ev-utf8-org.pem 2 "$tmp/r18.pem"
osreq "$tmp/r19.pem" "-newkey ec -pkeyopt ec_paramgen_curve:P-256" \
	"/C=TW/O=$ORG/O=Other Org/CN=a.example.com.tw+CN=b.example.com.tw$(
	)/OU=IT" \
	-multivalue-rdn
seed 19-ssl-repeated-rdn.pem 0 "$tmp/r19.pem"
osreq "$tmp/r20.pem" "-newkey ec -pkeyopt ec_paramgen_curve:P-256" \
	"/C=TW/O=$ORG"
seed 20-ssl-no-names.pem 0 "$tmp/r20.pem"
osreq "$tmp/r21.pem" "-newkey ec -pkeyopt ec_paramgen_curve:P-256" \
	"/C=XX/O=$ORG /CN=www.example.com.tw" \
	-addext "subjectAltName=DNS:www.example.com.tw,$(
	)DNS:wildcard.example.com.tw"
seed 21-wildcard-no-star.pem 1 "$tmp/r21.pem"

# ---- re-signed by the target ------------------------------------------

for n in 05 16 17 19; do
	pem2der "$tmp/r$n.pem" "$tmp/r$n.der"
done
seed 50-resign-ssl-bad-names.der 6 "$tmp/r16.der"
seed 51-resign-wildcard-mixed.der 7 "$tmp/r17.der"
seed 52-resign-ev.der 8 "$tmp/r05.der"
seed 53-resign-renew.der 9 "$tmp/r01.der"
seed 54-resign-repeated-rdn.pem 6 "$tmp/r19.pem"

# ---- garbled copies -----------------------------------------------------

head -n 8 "$tmp/r01.pem" >"$tmp/g.pem"
seed 30-cut-pem.pem 0 "$tmp/g.pem"
grep -v -- '-----END' "$tmp/r01.pem" >"$tmp/g.pem"
seed 31-no-end-line.pem 0 "$tmp/g.pem"
head -c $(($(size "$tmp/r01.der") - 100)) "$tmp/r01.der" >"$tmp/g.der"
seed 32-cut-der.der 0 "$tmp/g.der"
{ cat "$tmp/r01.pem"; echo "and some text"; } >"$tmp/g.pem"
seed 33-trailing-text.pem 0 "$tmp/g.pem"
cat "$tmp/r01.pem" "$tmp/r03.pem" >"$tmp/g.pem"
seed 34-two-blocks.pem 0 "$tmp/g.pem"
sed '3s/^..../!@#$/' "$tmp/r01.pem" >"$tmp/g.pem"
seed 35-bad-base64.pem 0 "$tmp/g.pem"
cp "$tmp/r01.der" "$tmp/g.der"
printf 'X' | dd of="$tmp/g.der" bs=1 seek=$(($(size "$tmp/g.der") - 3)) \
	conv=notrunc 2>/dev/null
seed 36-bad-signature.der 0 "$tmp/g.der"
# The CN's first byte ("www." is at a fixed place in certtool's subject).
cp "$tmp/r01.der" "$tmp/g.der"
off=$(grep -abo 'www.example' "$tmp/r01.der" | head -n 1 | cut -d: -f1)
printf 'v' | dd of="$tmp/g.der" bs=1 seek="$off" conv=notrunc 2>/dev/null
seed 37-altered-subject.der 0 "$tmp/g.der"
openssl pkey -in "$tmp/os.key" -pubout -out "$tmp/g.pem"
seed 38-public-key.pem 0 "$tmp/g.pem"
: >"$tmp/g"
seed 39-empty 0 "$tmp/g"
printf '  \n\t\r\n' >"$tmp/g"
seed 40-blank 2 "$tmp/g"
printf '\060\204\377\377\377\377\002\001\000' >"$tmp/g"
seed 41-der-huge-length.der 0 "$tmp/g"
{ cat "$tmp/r01.der"; printf 'tail'; } >"$tmp/g.der"
seed 42-der-trailing.der 0 "$tmp/g.der"
cat "$tmp/r01.der" "$tmp/r01.der" >"$tmp/g.der"
seed 43-der-twice.der 0 "$tmp/g.der"

n=$(find "$out" -maxdepth 1 -type f | wc -l)
echo "make-seeds: $n seeds in $out"
