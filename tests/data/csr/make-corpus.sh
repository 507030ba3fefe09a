#!/bin/sh
# Regenerate the CSR corpus that tests/test-corpus.sh runs through
# "mssl-admin check".  Run from anywhere:
#
#	sh tests/data/csr/make-corpus.sh            every case
#	sh tests/data/csr/make-corpus.sh CASE...    only these cases
#	sh tests/data/csr/make-corpus.sh -e         only the expect files
#
# One directory per case: the request (request.pem, or request.der) and
# 'expect', which is written below right next to the command that makes
# the request, so that the two are edited together.  Requests are made by
# real tools: openssl req, certtool --generate-request; python3 only
# damages finished requests (a flipped signature bit) and builds the weak
# RSA keys from chosen primes (with tests/data/keys/make-weak-keys.py).
# Private keys are thrown away.  The requests are committed, so the tests
# never run this script; rerun it only to add or change cases.  Keys are
# random: a rerun changes every request but no expectation, since no
# expect file holds a value that depends on the key.
#
# The accounts the cases run against are made by account.sh (beside this
# script).  The expect format, one item a line, '#' starts a comment:
#
#	# why                     the first line says what the case is for
#	account ID                default 70759028-01
#	product ssl|wildcard|ev
#	renew SERIAL              --renew SERIAL (certificates of account.sh)
#	validators none           run with no validator configured
#	exit 0|1|2                0 issuable, 1 refused, 2 unusable input
#	finding CODE [VALUE]      the error and warning codes, exactly, in any
#	                          order (a VALUE, when given, must be the value
#	                          of one finding with that code); notices may
#	                          be listed too, and must then be found
#	accepted NAME             the verdict of one DNS name
#	refused NAME
#	key ALG BITS [CURVE]      the key as parsed ("ECDSA 256 P-256")
#	error csr.ID              exit 2: the parse error's id
set -eu

dir=$(cd "$(dirname "$0")" && pwd)
keys=$dir/../keys
tmp=$(mktemp -d "${TMPDIR:-/tmp}/make-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

expect_only=false
if [ "${1-}" = "-e" ]; then
	expect_only=true
	shift
fi
only=" $* "

# The subject every request has unless the case is about the subject.
S="/C=TW/ST=Taiwan/L=Taipei/O=Taiwan-CA Inc."
# What an EV request adds for account 70759028-01.
EV="/serialNumber=70759028/jurisdictionC=TW/businessCategory=Private Organization"

# ---- helpers ---------------------------------------------------------------

# begin CASE: start a case; the helpers below do nothing for a case that
# is not being regenerated.
begin() {
	C=$1
	out=$dir/$C
	make=true
	if $expect_only; then
		make=false
	elif [ "$only" != "  " ]; then
		case $only in
		*" $C "*) ;;
		*) make=false ;;
		esac
	fi
	if $make; then
		echo "$C" >&2
		rm -rf "$out"
	fi
	mkdir -p "$out"
}

# expect: the case's expect file, from standard input (always written).
expect() {
	if $make || $expect_only; then
		cat >"$out/expect"
	else
		cat >/dev/null
	fi
}

# newkey SPEC FILE: a new private key (PEM).
newkey() {
	case $1 in
	rsa:*)
		openssl genpkey -algorithm RSA \
			-pkeyopt "rsa_keygen_bits:${1#rsa:}" -out "$2" 2>/dev/null
		;;
	rsa-e3:*)
		openssl genpkey -algorithm RSA \
			-pkeyopt "rsa_keygen_bits:${1#rsa-e3:}" \
			-pkeyopt rsa_keygen_pubexp:3 -out "$2" 2>/dev/null
		;;
	rsa-pss:*)
		openssl genpkey -algorithm RSA-PSS \
			-pkeyopt "rsa_keygen_bits:${1#rsa-pss:}" -out "$2" \
			2>/dev/null
		;;
	ec:*)
		openssl genpkey -algorithm EC \
			-pkeyopt "ec_paramgen_curve:${1#ec:}" \
			-pkeyopt ec_param_enc:named_curve -out "$2"
		;;
	dsa)
		openssl genpkey -genparam -algorithm DSA \
			-pkeyopt dsa_paramgen_bits:2048 -out "$tmp/dsa-params.pem"
		openssl genpkey -paramfile "$tmp/dsa-params.pem" -out "$2"
		;;
	ed25519 | ed448)
		openssl genpkey -algorithm "$1" -out "$2"
		;;
	weak:*)
		python3 "$tmp/weak.py" "$keys/make-weak-keys.py" "${1#weak:}" "$2"
		;;
	ct-rsa:*)
		certtool --generate-privkey --key-type=rsa --bits="${1#ct-rsa:}" \
			--outfile "$2" 2>/dev/null
		;;
	ct-ec:*)
		certtool --generate-privkey --key-type=ecdsa \
			--curve="${1#ct-ec:}" --outfile "$2" 2>/dev/null
		;;
	*)
		echo "unknown key $1" >&2
		exit 1
		;;
	esac
}

# req KEY SUBJECT SAN [OPENSSL-ARGS...]: request.pem with openssl req.
# SUBJECT in openssl's /X=v form; SAN as for subjectAltName, or "-".
req() {
	$make || return 0
	k=$1 subj=$2 san=$3
	shift 3
	newkey "$k" "$tmp/key.pem"
	if [ "$san" = - ]; then
		openssl req -new -utf8 -key "$tmp/key.pem" -subj "$subj" \
			-out "$out/request.pem" "$@"
	else
		openssl req -new -utf8 -key "$tmp/key.pem" -subj "$subj" \
			-addext "subjectAltName=$san" -out "$out/request.pem" "$@"
	fi
}

# ctreq KEY: request.pem with certtool; the template on standard input.
ctreq() {
	if ! $make; then
		cat >/dev/null
		return 0
	fi
	cat >"$tmp/template"
	newkey "$1" "$tmp/key.pem"
	certtool --generate-request --load-privkey "$tmp/key.pem" \
		--template "$tmp/template" --outfile "$out/request.pem" \
		>/dev/null 2>&1
}

# raw: request.pem from standard input, as is (unusable input).
raw() {
	if $make; then
		cat >"$out/request.pem"
	else
		cat >/dev/null
	fi
}

# good_csr FILE: a sound request for www.twca.com.tw (material for the
# unusable cases).
good_csr() {
	newkey rsa:2048 "$tmp/good.key"
	openssl req -new -key "$tmp/good.key" -subj "$S/CN=www.twca.com.tw" \
		-addext "subjectAltName=DNS:www.twca.com.tw" -out "$1"
}

# longname LENGTH: a DNS name of LENGTH characters ending in .twca.com.tw,
# made of 63-character labels and one shorter label first.
longname() {
	python3 -c '
import sys
n = int(sys.argv[1]) - len(".twca.com.tw")
labels = []
while n > 0:
    k = min(63, n)
    if n - k == 1:
        k -= 2      # never leave one character for the next label
    labels.append(chr(ord("a") + len(labels)) * k)
    n -= k + 1
print(".".join(labels) + ".twca.com.tw")' "$1"
}

# label LENGTH: a name whose first label has LENGTH characters, under
# twca.com.tw.
label() {
	python3 -c 'import sys; print("a" * int(sys.argv[1]) + ".twca.com.tw")' "$1"
}

# A sequence of N DNS SANs hN.twca.com.tw, for the many-SAN cases.
hosts() {
	i=1
	while [ "$i" -le "$1" ]; do
		printf ',DNS:h%d.twca.com.tw' "$i"
		i=$((i + 1))
	done
}

# Weak RSA keys: primes chosen with make-weak-keys.py, written as an RSA
# private key (PKCS #1) that openssl signs with.
cat >"$tmp/weak.py" <<'EOF'
import base64
import importlib.util
import math
import sys

spec = importlib.util.spec_from_file_location("weak", sys.argv[1])
w = importlib.util.module_from_spec(spec)
spec.loader.exec_module(w)
kind, path, e = sys.argv[2], sys.argv[3], 65537
while True:
    if kind == "fermat":        # primes a few bits apart
        p = w.random_prime(1024)
        q = w.next_prime(p + w.rng.getrandbits(64))
    elif kind == "factor":      # a factor 743 and one big prime
        lo = ((1 << 2047) + 742) // 743
        p, q = 743, w.next_prime(w.rng.randrange(lo, ((1 << 2048) - 1) // 743))
    elif kind == "roca":        # both primes of the Infineon form
        p, q = w.infineon_prime(1024, 126), w.infineon_prime(1024, 126)
    else:
        sys.exit("unknown weak key " + kind)
    n = p * q
    if n.bit_length() == 2048 and math.gcd(e, (p - 1) * (q - 1)) == 1:
        break
assert kind != "fermat" or w.fermat_round(n, 1) == 0
assert kind != "roca" or (w.roca_per_prime(n) and w.roca_dlog(n))
d = pow(e, -1, (p - 1) * (q - 1))
key = w.der(0x30, b"".join(w.der_int(x) for x in (
    0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p))))
b64 = base64.b64encode(key).decode()
with open(path, "w") as f:
    f.write("-----BEGIN RSA PRIVATE KEY-----\n")
    f.write("".join(b64[i:i + 64] + "\n" for i in range(0, len(b64), 64)))
    f.write("-----END RSA PRIVATE KEY-----\n")
EOF

# ---- good requests -----------------------------------------------------------

begin good-rsa2048
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# The everyday request: RSA 2048, O/C/ST/L right, CN one label under twca.com.tw.
product ssl
exit 0
accepted www.twca.com.tw
key RSA 2048
EOF

begin good-rsa3072-certtool
ctreq ct-rsa:3072 <<'EOF'
cn = "www.twca.com.tw"
organization = "Taiwan-CA Inc."
country = TW
state = "Taiwan"
locality = "Taipei"
dns_name = "www.twca.com.tw"
dns_name = "twca.com.tw"
EOF
expect <<'EOF'
# RSA 3072 made by certtool (PrintableString fields), two DNS SANs.
product ssl
exit 0
accepted www.twca.com.tw
accepted twca.com.tw
key RSA 3072
EOF

begin good-rsa4096
req rsa:4096 "$S/CN=twca.com.tw" "DNS:twca.com.tw,DNS:www.twca.com.tw"
expect <<'EOF'
# RSA 4096 for the agreed domain itself and its www host.
product ssl
exit 0
accepted twca.com.tw
accepted www.twca.com.tw
key RSA 4096
EOF

begin good-rsa8192
req rsa:8192 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# RSA 8192, the largest size validate-key allows, is issuable.
product ssl
exit 0
accepted www.twca.com.tw
key RSA 8192
EOF

begin good-ecdsa-p256
req ec:P-256 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# ECDSA on P-256 is allowed.
product ssl
exit 0
accepted www.twca.com.tw
key ECDSA 256 P-256
EOF

begin good-ecdsa-p384-certtool
ctreq ct-ec:secp384r1 <<'EOF'
cn = "www.twca.com.tw"
organization = "Taiwan-CA Inc."
country = TW
locality = "Taipei"
dns_name = "www.twca.com.tw"
EOF
expect <<'EOF'
# ECDSA on P-384 made by certtool (and no ST: L alone is enough).
product ssl
exit 0
accepted www.twca.com.tw
key ECDSA 384 P-384
EOF

begin good-sha1-signature
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw" -sha1
expect <<'EOF'
# A SHA-1 self-signature still proves possession of the key; not refused.
product ssl
exit 0
accepted www.twca.com.tw
EOF

begin good-der
if $make; then
	newkey rsa:2048 "$tmp/key.pem"
	openssl req -new -key "$tmp/key.pem" -subj "$S/CN=www.twca.com.tw" \
		-addext "subjectAltName=DNS:www.twca.com.tw" -outform DER \
		-out "$out/request.der"
fi
expect <<'EOF'
# A binary (DER) request is read as well as PEM.
product ssl
exit 0
accepted www.twca.com.tw
EOF

begin good-pem-new-label
if $make; then
	good_csr "$tmp/r.pem"
	sed 's/CERTIFICATE REQUEST-----/NEW CERTIFICATE REQUEST-----/' \
		"$tmp/r.pem" >"$out/request.pem"
fi
expect <<'EOF'
# The "NEW CERTIFICATE REQUEST" PEM label older Windows and Java tools write.
product ssl
exit 0
accepted www.twca.com.tw
EOF

begin good-pem-with-text
if $make; then
	newkey rsa:2048 "$tmp/key.pem"
	openssl req -new -key "$tmp/key.pem" -subj "$S/CN=www.twca.com.tw" \
		-addext "subjectAltName=DNS:www.twca.com.tw" -text \
		-out "$out/request.pem"
fi
expect <<'EOF'
# openssl req -text: a readable dump before the PEM block is ignored.
product ssl
exit 0
accepted www.twca.com.tw
EOF

begin good-pem-crlf
if $make; then
	good_csr "$tmp/r.pem"
	sed 's/$/\r/' "$tmp/r.pem" >"$out/request.pem"
fi
expect <<'EOF'
# CRLF line ends, as a request saved on Windows has.
product ssl
exit 0
accepted www.twca.com.tw
EOF

begin good-no-san
req rsa:2048 "$S/CN=www.twca.com.tw" -
expect <<'EOF'
# CN only, no SAN extension: issuable; the CN will be added as a SAN (notice).
product ssl
exit 0
finding name.cn_not_in_san www.twca.com.tw
accepted www.twca.com.tw
EOF

begin good-only-st
req rsa:2048 "/C=TW/ST=Taiwan/O=Taiwan-CA Inc./CN=www.twca.com.tw" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# ST without L is enough for the locality rule.
product ssl
exit 0
accepted www.twca.com.tw
EOF

begin good-mixed-case
req rsa:2048 "$S/CN=WWW.TWCA.Com.Tw" "DNS:WWW.TWCA.Com.Tw"
expect <<'EOF'
# Names compare without regard to case: WWW.TWCA.Com.Tw is under twca.com.tw.
product ssl
exit 0
accepted WWW.TWCA.Com.Tw
EOF

begin good-hyphen-inside
req rsa:2048 "$S/CN=my-web-01.twca.com.tw" "DNS:my-web-01.twca.com.tw"
expect <<'EOF'
# '-' and digits inside a label are allowed.
product ssl
exit 0
accepted my-web-01.twca.com.tw
EOF

begin good-label-63
L63=$(label 63)
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw,DNS:$L63"
expect <<EOF
# A 63-character label, the longest allowed (the name is in a SAN: CN <= 64).
product ssl
exit 0
accepted www.twca.com.tw
accepted $L63
EOF

begin good-mis-apex
req rsa:2048 "$S/CN=mis.twca.com.tw" "DNS:mis.twca.com.tw"
expect <<'EOF'
# mis.twca.com.tw is itself an agreed domain (and one label under twca.com.tw).
product ssl
exit 0
accepted mis.twca.com.tw
EOF

begin good-many-sans
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw$(hosts 99)"
expect <<'EOF'
# 100 DNS SANs, all one label under twca.com.tw.
product ssl
exit 0
accepted www.twca.com.tw
accepted h1.twca.com.tw
accepted h99.twca.com.tw
EOF

begin account2-ok
req rsa:2048 "/C=TW/L=Taichung/O=Example Taiwan Ltd./CN=www.example.com.tw" \
	"DNS:www.example.com.tw"
expect <<'EOF'
# The second account's own domain and organisation: issuable.
account 04595257-01
product ssl
exit 0
accepted www.example.com.tw
EOF

# ---- SPEC §4.3 -------------------------------------------------------------

begin spec-twca-apex
req rsa:2048 "$S/CN=twca.com.tw" "DNS:twca.com.tw"
expect <<'EOF'
# SPEC 4.3: agreed twca.com.tw; twca.com.tw itself is accepted.
product ssl
exit 0
accepted twca.com.tw
EOF

begin spec-twca-www
req ec:P-256 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# SPEC 4.3: agreed twca.com.tw; www.twca.com.tw is accepted.
product ssl
exit 0
accepted www.twca.com.tw
EOF

begin spec-twca-level2
req rsa:2048 "$S/CN=www.level2.twca.com.tw" "DNS:www.level2.twca.com.tw"
expect <<'EOF'
# SPEC 4.3: agreed twca.com.tw; www.level2.twca.com.tw is two labels down: refused.
product ssl
exit 1
finding domain.too_deep www.level2.twca.com.tw
refused www.level2.twca.com.tw
EOF

begin spec-mis-ww2
req rsa:2048 "$S/CN=ww2.mis.twca.com.tw" "DNS:ww2.mis.twca.com.tw"
expect <<'EOF'
# SPEC 4.3: agreed mis.twca.com.tw; ww2.mis.twca.com.tw is accepted.
product ssl
exit 0
accepted ww2.mis.twca.com.tw
EOF

begin spec-mis-level2
req rsa:2048 "$S/CN=www.level2.mis.twca.com.tw" \
	"DNS:www.level2.mis.twca.com.tw"
expect <<'EOF'
# SPEC 4.3: agreed mis.twca.com.tw; www.level2.mis.twca.com.tw is refused.
product ssl
exit 1
finding domain.too_deep www.level2.mis.twca.com.tw
refused www.level2.mis.twca.com.tw
EOF

begin spec-all-four
req rsa:2048 "$S/CN=twca.com.tw" \
	"DNS:twca.com.tw,DNS:www.twca.com.tw,DNS:www.level2.twca.com.tw,DNS:ww2.mis.twca.com.tw,DNS:www.level2.mis.twca.com.tw"
expect <<'EOF'
# SPEC 4.3's examples in one request: each name gets its own verdict.
product ssl
exit 1
finding domain.too_deep www.level2.twca.com.tw
finding domain.too_deep www.level2.mis.twca.com.tw
accepted twca.com.tw
accepted www.twca.com.tw
refused www.level2.twca.com.tw
accepted ww2.mis.twca.com.tw
refused www.level2.mis.twca.com.tw
EOF

# ---- wildcards -----------------------------------------------------------

begin wildcard-ok
req rsa:2048 "$S/CN=*.twca.com.tw" "DNS:*.twca.com.tw,DNS:twca.com.tw"
expect <<'EOF'
# Wildcard product: *.twca.com.tw stands for one label under the agreed domain.
product wildcard
exit 0
accepted *.twca.com.tw
accepted twca.com.tw
EOF

begin wildcard-mis
req ec:P-256 "$S/CN=*.mis.twca.com.tw" "DNS:*.mis.twca.com.tw"
expect <<'EOF'
# A wildcard under the second agreed domain mis.twca.com.tw.
product wildcard
exit 0
accepted *.mis.twca.com.tw
EOF

begin wildcard-too-deep
req rsa:2048 "$S/CN=*.level2.twca.com.tw" "DNS:*.level2.twca.com.tw"
expect <<'EOF'
# *.level2.twca.com.tw covers names two labels under twca.com.tw: refused.
product wildcard
exit 1
finding domain.too_deep *.level2.twca.com.tw
refused *.level2.twca.com.tw
EOF

begin wildcard-in-ssl
req rsa:2048 "$S/CN=*.twca.com.tw" "DNS:*.twca.com.tw"
expect <<'EOF'
# A wildcard name in an SSL (not Wildcard) request is refused.
product ssl
exit 1
finding name.wildcard_product *.twca.com.tw
refused *.twca.com.tw
EOF

begin wildcard-partial
req rsa:2048 "$S/CN=w*.twca.com.tw" "DNS:w*.twca.com.tw"
expect <<'EOF'
# A partial wildcard label (w*) is not allowed, so the request has no wildcard.
product wildcard
exit 1
finding name.wildcard_position w*.twca.com.tw
finding name.wildcard_missing
refused w*.twca.com.tw
EOF

begin wildcard-middle
req rsa:2048 "$S/CN=*.twca.com.tw" "DNS:*.twca.com.tw,DNS:www.*.twca.com.tw"
expect <<'EOF'
# '*' in the middle of a name; the leftmost wildcard beside it is fine.
product wildcard
exit 1
finding name.wildcard_position www.*.twca.com.tw
finding domain.too_deep www.*.twca.com.tw
accepted *.twca.com.tw
refused www.*.twca.com.tw
EOF

begin wildcard-double
req rsa:2048 "$S/CN=*.*.twca.com.tw" "DNS:*.*.twca.com.tw"
expect <<'EOF'
# Two wildcard labels: only the leftmost may be '*', and it covers two labels.
product wildcard
exit 1
finding name.wildcard_position *.*.twca.com.tw
finding domain.too_deep *.*.twca.com.tw
refused *.*.twca.com.tw
EOF

begin wildcard-alone
req rsa:2048 "$S/CN=*" -
expect <<'EOF'
# A bare "*" is no wildcard name and under no agreed domain.
product wildcard
exit 1
finding name.wildcard_position *
finding name.wildcard_missing
finding domain.not_agreed *
refused *
EOF

begin wildcard-missing
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# A Wildcard request without any wildcard name (an SSL cert at Wildcard price).
product wildcard
exit 1
finding name.wildcard_missing
accepted www.twca.com.tw
EOF

begin wildcard-public-suffix
req rsa:2048 "$S/CN=*.com.tw" "DNS:*.com.tw"
expect <<'EOF'
# *.com.tw: the public suffix is no agreed domain.
product wildcard
exit 1
finding domain.not_agreed *.com.tw
refused *.com.tw
EOF

# ---- DNS names -------------------------------------------------------------

begin name-trailing-dot
req rsa:2048 "$S/CN=www.twca.com.tw." "DNS:www.twca.com.tw."
expect <<'EOF'
# A fully qualified name with its trailing dot is refused (and not matched).
product ssl
exit 1
finding name.trailing_dot www.twca.com.tw.
finding domain.not_agreed www.twca.com.tw.
refused www.twca.com.tw.
EOF

begin name-hyphen-start
req rsa:2048 "$S/CN=-www.twca.com.tw" "DNS:-www.twca.com.tw"
expect <<'EOF'
# A label may not begin with '-'.
product ssl
exit 1
finding name.hyphen -www.twca.com.tw
refused -www.twca.com.tw
EOF

begin name-hyphen-end
req rsa:2048 "$S/CN=www-.twca.com.tw" "DNS:www-.twca.com.tw"
expect <<'EOF'
# A label may not end with '-'.
product ssl
exit 1
finding name.hyphen www-.twca.com.tw
refused www-.twca.com.tw
EOF

begin name-label-64
L64=$(label 64)
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw,DNS:$L64"
expect <<EOF
# A 64-character label, one more than DNS allows.
product ssl
exit 1
finding name.label_too_long $L64
accepted www.twca.com.tw
refused $L64
EOF

begin name-253
N253=$(longname 253)
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw,DNS:$N253"
expect <<EOF
# A 253-character name is not too long, only too deep under twca.com.tw.
product ssl
exit 1
finding domain.too_deep $N253
accepted www.twca.com.tw
refused $N253
EOF

begin name-254
N254=$(longname 254)
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw,DNS:$N254"
expect <<EOF
# A 254-character name is longer than DNS allows (and too deep).
product ssl
exit 1
finding name.too_long $N254
finding domain.too_deep $N254
accepted www.twca.com.tw
refused $N254
EOF

begin ip-cn
req rsa:2048 "$S/CN=192.168.1.1" -
expect <<'EOF'
# SPEC 4.2: an IP address as CN is refused (192.168.1.1).
product ssl
exit 1
finding name.ip_address 192.168.1.1
finding domain.not_agreed 192.168.1.1
refused 192.168.1.1
EOF

begin ip-cn-ipv6
req rsa:2048 "$S/CN=2001:db8::1" -
expect <<'EOF'
# An IPv6 address as CN is refused too.
product ssl
exit 1
finding name.ip_address 2001:db8::1
finding domain.not_agreed 2001:db8::1
refused 2001:db8::1
EOF

begin ip-cn-decimal
req rsa:2048 "$S/CN=3232235777" -
expect <<'EOF'
# 3232235777 is 192.168.1.1 written as one number: still an IP address.
product ssl
exit 1
finding name.ip_address 3232235777
finding domain.not_agreed 3232235777
refused 3232235777
EOF

begin ip-san-v4
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw,IP:192.168.1.1"
expect <<'EOF'
# An IPv4 iPAddress SAN is refused; the DNS name itself is fine.
product ssl
exit 1
finding name.san_type IP:192.168.1.1
accepted www.twca.com.tw
EOF

begin ip-san-v6
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw,IP:2001:db8::1"
expect <<'EOF'
# An IPv6 iPAddress SAN is refused.
product ssl
exit 1
finding name.san_type IP:2001:db8::1
accepted www.twca.com.tw
EOF

begin email-san
req rsa:2048 "$S/CN=www.twca.com.tw" \
	"DNS:www.twca.com.tw,email:admin@twca.com.tw"
expect <<'EOF'
# An e-mail (rfc822Name) SAN does not belong in an SSL certificate.
product ssl
exit 1
finding name.san_type email:admin@twca.com.tw
accepted www.twca.com.tw
EOF

begin uri-san
req rsa:2048 "$S/CN=www.twca.com.tw" \
	"DNS:www.twca.com.tw,URI:https://www.twca.com.tw/"
expect <<'EOF'
# A URI SAN does not belong in an SSL certificate.
product ssl
exit 1
finding name.san_type URI:https://www.twca.com.tw/
accepted www.twca.com.tw
EOF

begin name-punycode
req rsa:2048 "$S/CN=xn--fiq228c.twca.com.tw" "DNS:xn--fiq228c.twca.com.tw"
expect <<'EOF'
# An xn-- label is an internationalised name in ASCII form: refused.
product ssl
exit 1
finding name.punycode xn--fiq228c.twca.com.tw
refused xn--fiq228c.twca.com.tw
EOF

begin name-chinese-cn
req rsa:2048 "$S/CN=網站.twca.com.tw" -
expect <<'EOF'
# Chinese characters in the CN (UTF8String): no internationalised names.
product ssl
exit 1
finding name.idn 網站.twca.com.tw
refused 網站.twca.com.tw
EOF

begin name-chinese-only
req rsa:2048 "$S/CN=台灣網路認證" -
expect <<'EOF'
# A CN that is a Chinese company name, not a DNS name at all.
product ssl
exit 1
finding name.idn 台灣網路認證
finding domain.not_agreed 台灣網路認證
refused 台灣網路認證
EOF

begin name-underscore
req rsa:2048 "$S/CN=www_1.twca.com.tw" "DNS:www_1.twca.com.tw"
expect <<'EOF'
# '_' is not allowed in a host name.
product ssl
exit 1
finding name.underscore www_1.twca.com.tw
refused www_1.twca.com.tw
EOF

begin name-space
req rsa:2048 "$S/CN=my site.twca.com.tw" -
expect <<'EOF'
# A space inside a name.
product ssl
exit 1
finding name.characters my site.twca.com.tw
refused my site.twca.com.tw
EOF

begin name-email-as-cn
req rsa:2048 "$S/CN=admin@twca.com.tw" -
expect <<'EOF'
# An e-mail address typed as the CN: '@' is no DNS character.
product ssl
exit 1
finding name.characters admin@twca.com.tw
finding domain.not_agreed admin@twca.com.tw
refused admin@twca.com.tw
EOF

begin name-empty-label
req rsa:2048 "$S/CN=www..twca.com.tw" "DNS:www..twca.com.tw"
expect <<'EOF'
# Two dots in a row (an empty label).
product ssl
exit 1
finding name.empty_label www..twca.com.tw
finding domain.too_deep www..twca.com.tw
refused www..twca.com.tw
EOF

begin name-leading-dot
req rsa:2048 "$S/CN=.twca.com.tw" "DNS:.twca.com.tw"
expect <<'EOF'
# A leading dot: an empty leftmost label is not "one label under" twca.com.tw.
product ssl
exit 1
finding name.empty_label .twca.com.tw
finding domain.not_agreed .twca.com.tw
refused .twca.com.tw
EOF

begin name-single-label
req rsa:2048 "$S/CN=intranet" -
expect <<'EOF'
# An intranet host name with no domain.
product ssl
exit 1
finding domain.not_agreed intranet
refused intranet
EOF

begin name-public-suffix
req rsa:2048 "$S/CN=com.tw" "DNS:com.tw"
expect <<'EOF'
# The parent of the agreed domain (a public suffix) is not agreed.
product ssl
exit 1
finding domain.not_agreed com.tw
refused com.tw
EOF

begin san-not-cn
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:ww2.twca.com.tw"
expect <<'EOF'
# The SANs lack the CN: issuable, the CN is added (a notice), both names checked.
product ssl
exit 0
finding name.cn_not_in_san www.twca.com.tw
accepted www.twca.com.tw
accepted ww2.twca.com.tw
EOF

begin san-duplicates
req rsa:2048 "$S/CN=www.twca.com.tw" \
	"DNS:www.twca.com.tw,DNS:WWW.twca.com.tw,DNS:ww2.twca.com.tw,DNS:www.twca.com.tw"
expect <<'EOF'
# Repeated SANs (in any case) are only noticed: the certificate carries each once.
product ssl
exit 0
finding name.duplicate_san WWW.twca.com.tw
finding name.duplicate_san www.twca.com.tw
accepted www.twca.com.tw
accepted ww2.twca.com.tw
EOF

begin cn-missing
req rsa:2048 "$S" "DNS:www.twca.com.tw"
expect <<'EOF'
# No CN, names only in the SAN extension: the subject needs its CN.
product ssl
exit 1
finding subject.cn_missing
accepted www.twca.com.tw
EOF

begin no-names
req rsa:2048 "$S" -
expect <<'EOF'
# Neither a CN nor a SAN: nothing to certify.
product ssl
exit 1
finding name.no_names
finding subject.cn_missing
EOF

begin many-sans-one-bad
req rsa:2048 "$S/CN=www.twca.com.tw" \
	"DNS:www.twca.com.tw$(hosts 56),DNS:www.twca.com.tw.evil.com,$(hosts 98 | cut -d, -f58-)"
expect <<'EOF'
# 100 SANs, one of them (the 58th) under someone else's domain.
product ssl
exit 1
finding domain.not_agreed www.twca.com.tw.evil.com
accepted h56.twca.com.tw
refused www.twca.com.tw.evil.com
accepted h57.twca.com.tw
accepted h98.twca.com.tw
EOF

begin evil-suffix
req rsa:2048 "$S/CN=twca.com.tw.evil.com" "DNS:twca.com.tw.evil.com"
expect <<'EOF'
# twca.com.tw.evil.com only starts with the agreed domain.
product ssl
exit 1
finding domain.not_agreed twca.com.tw.evil.com
refused twca.com.tw.evil.com
EOF

begin evil-prefix
req rsa:2048 "$S/CN=eviltwca.com.tw" "DNS:eviltwca.com.tw"
expect <<'EOF'
# eviltwca.com.tw ends with the agreed domain's text but not on a label boundary.
product ssl
exit 1
finding domain.not_agreed eviltwca.com.tw
refused eviltwca.com.tw
EOF

begin other-account-domain
req rsa:2048 "$S/CN=www.example.com.tw" "DNS:www.example.com.tw"
expect <<'EOF'
# example.com.tw is agreed for account 04595257-01, not for this one.
product ssl
exit 1
finding domain.not_agreed www.example.com.tw
refused www.example.com.tw
EOF

begin cross-account-twca
req rsa:2048 "/C=TW/L=Taichung/O=Example Taiwan Ltd./CN=www.twca.com.tw" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# Account 04595257-01 asks for a name under 70759028-01's domain.
account 04595257-01
product ssl
exit 1
finding domain.not_agreed www.twca.com.tw
refused www.twca.com.tw
EOF

# ---- subject -----------------------------------------------------------------

begin org-case
req rsa:2048 "/C=TW/ST=Taiwan/L=Taipei/O=TAIWAN-CA INC./CN=www.twca.com.tw" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# O must equal the organisation's English name exactly: letter case differs.
product ssl
exit 1
finding org.mismatch
EOF

begin org-extra-space
req rsa:2048 "/C=TW/ST=Taiwan/L=Taipei/O=Taiwan-CA  Inc./CN=www.twca.com.tw" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# O with two spaces where the account's name has one.
product ssl
exit 1
finding org.mismatch
EOF

begin org-other
req rsa:2048 \
	"/C=TW/ST=Taiwan/L=Taipei/O=Example Taiwan Ltd./CN=www.twca.com.tw" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# Another organisation's name (that of account 04595257-01).
product ssl
exit 1
finding org.mismatch
EOF

begin org-chinese
req rsa:2048 "/C=TW/ST=Taiwan/L=Taipei/O=臺灣網路認證股份有限公司/CN=www.twca.com.tw" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# The Chinese company name in O: the English name is required.
product ssl
exit 1
finding org.mismatch
EOF

begin org-missing
req rsa:2048 "/C=TW/ST=Taiwan/L=Taipei/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# No O at all.
product ssl
exit 1
finding org.missing
EOF

begin cn-only
req ec:P-256 "/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# A domain-validation style request (CN only): O, C and L/ST are all missing.
product ssl
exit 1
finding org.missing
finding subject.country_missing
finding subject.locality_missing
accepted www.twca.com.tw
EOF

begin country-missing
req rsa:2048 "/ST=Taiwan/L=Taipei/O=Taiwan-CA Inc./CN=www.twca.com.tw" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# No C.
product ssl
exit 1
finding subject.country_missing
EOF

begin country-invalid
ctreq ct-rsa:2048 <<'EOF'
cn = "www.twca.com.tw"
organization = "Taiwan-CA Inc."
country = TWN
state = "Taiwan"
locality = "Taipei"
dns_name = "www.twca.com.tw"
EOF
expect <<'EOF'
# C=TWN: a three-letter code (certtool lets it through; ISO 3166 alpha-2 is required).
product ssl
exit 1
finding subject.country_invalid
EOF

begin country-lower
req rsa:2048 "/C=tw/ST=Taiwan/L=Taipei/O=Taiwan-CA Inc./CN=www.twca.com.tw" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# C=tw: country codes are upper case.
product ssl
exit 1
finding subject.country_invalid
EOF

begin ou-present
req rsa:2048 "$S/OU=IT Department/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# An OU, which certificates no longer carry.
product ssl
exit 1
finding subject.ou
EOF

begin locality-missing
req rsa:2048 "/C=TW/O=Taiwan-CA Inc./CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# Neither L nor ST.
product ssl
exit 1
finding subject.locality_missing
EOF

begin repeated-cn
req rsa:2048 "$S/CN=www.twca.com.tw/CN=twca.com.tw" -
expect <<'EOF'
# Two CN attributes: which one is meant?
product ssl
exit 1
finding subject.repeated
EOF

begin field-too-long-l
ctreq ct-rsa:2048 <<EOF
cn = "www.twca.com.tw"
organization = "Taiwan-CA Inc."
country = TW
locality = "$(python3 -c 'print(("Taipei " * 29)[:200])')"
dns_name = "www.twca.com.tw"
EOF
expect <<'EOF'
# L of 200 characters, over X.520's 128 (certtool writes it; openssl would not).
product ssl
exit 1
finding subject.field_too_long
EOF

begin field-too-long-cn
ctreq ct-rsa:2048 <<'EOF'
cn = "www1234567890123456789012345678901234567890123456789012345678.twca.com.tw"
organization = "Taiwan-CA Inc."
country = TW
locality = "Taipei"
dns_name = "www1234567890123456789012345678901234567890123456789012345678.twca.com.tw"
EOF
expect <<'EOF'
# A valid 72-character DNS name as CN: over X.520's 64 for a CN.
product ssl
exit 1
finding subject.field_too_long
accepted www1234567890123456789012345678901234567890123456789012345678.twca.com.tw
EOF

begin subject-control-char
req rsa:2048 "/C=TW/ST=Taiwan/L=Taipei$(printf '\001')City/O=Taiwan-CA Inc./CN=www.twca.com.tw" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# A control character (U+0001) inside L.
product ssl
exit 1
finding subject.characters
EOF

# ---- EV ------------------------------------------------------------------------

begin ev-ok
req rsa:2048 "$S/CN=www.twca.com.tw$EV" "DNS:www.twca.com.tw"
expect <<'EOF'
# EV happy path: serialNumber = UBN, jurisdictionC = TW, Private Organization.
product ev
exit 0
accepted www.twca.com.tw
EOF

begin ev-ok-certtool
ctreq ct-ec:secp384r1 <<'EOF'
dn = "2.5.4.15=Private Organization,1.3.6.1.4.1.311.60.2.1.3=TW,2.5.4.5=70759028,C=TW,ST=Taiwan,L=Taipei,O=Taiwan-CA Inc.,CN=www.twca.com.tw"
dns_name = "www.twca.com.tw"
dns_name = "twca.com.tw"
EOF
expect <<'EOF'
# EV made by certtool, ECDSA P-384, the EV attributes given by OID.
product ev
exit 0
accepted www.twca.com.tw
accepted twca.com.tw
EOF

begin ev-wildcard
req rsa:2048 "$S/CN=*.twca.com.tw$EV" "DNS:*.twca.com.tw"
expect <<'EOF'
# EV certificates may not carry wildcards.
product ev
exit 1
finding ev.wildcard
finding name.wildcard_product *.twca.com.tw
refused *.twca.com.tw
EOF

begin ev-no-serial
req rsa:2048 "$S/CN=www.twca.com.tw/jurisdictionC=TW/businessCategory=Private Organization" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# EV without serialNumber (the registration number).
product ev
exit 1
finding ev.serial_number
EOF

begin ev-wrong-serial
req rsa:2048 "$S/CN=www.twca.com.tw/serialNumber=04595257/jurisdictionC=TW/businessCategory=Private Organization" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# EV serialNumber of another company (04595257).
product ev
exit 1
finding ev.serial_number
EOF

begin ev-serial-account-id
req rsa:2048 "$S/CN=www.twca.com.tw/serialNumber=70759028-01/jurisdictionC=TW/businessCategory=Private Organization" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# EV serialNumber is the UBN, not the account ID 70759028-01.
product ev
exit 1
finding ev.serial_number
EOF

begin ev-no-jurisdiction
req rsa:2048 "$S/CN=www.twca.com.tw/serialNumber=70759028/businessCategory=Private Organization" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# EV without jurisdictionC.
product ev
exit 1
finding ev.jurisdiction_country
EOF

begin ev-wrong-jurisdiction
req rsa:2048 "$S/CN=www.twca.com.tw/serialNumber=70759028/jurisdictionC=US/businessCategory=Private Organization" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# EV jurisdictionC=US, but the account is incorporated in TW.
product ev
exit 1
finding ev.jurisdiction_country
EOF

begin ev-jurisdiction-state
req rsa:2048 "$S/CN=www.twca.com.tw$EV/jurisdictionST=Taipei City" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# EV jurisdictionST given, but the account's jurisdiction is national (none).
product ev
exit 1
finding ev.jurisdiction_state
EOF

begin ev-jurisdiction-locality
req rsa:2048 "$S/CN=www.twca.com.tw$EV/jurisdictionL=Taipei" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# EV jurisdictionL given, but the account has no jurisdiction locality.
product ev
exit 1
finding ev.jurisdiction_locality
EOF

begin ev-bad-category
req rsa:2048 "$S/CN=www.twca.com.tw/serialNumber=70759028/jurisdictionC=TW/businessCategory=Private Company" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# businessCategory "Private Company" is none of the four EV categories.
product ev
exit 1
finding ev.business_category
EOF

begin ev-no-category
req rsa:2048 "$S/CN=www.twca.com.tw/serialNumber=70759028/jurisdictionC=TW" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# EV without businessCategory.
product ev
exit 1
finding ev.business_category
EOF

begin ev-other-category
req rsa:2048 "$S/CN=www.twca.com.tw/serialNumber=70759028/jurisdictionC=TW/businessCategory=Government Entity" \
	"DNS:www.twca.com.tw"
expect <<'EOF'
# A valid EV category, but not the account's (Private Organization).
product ev
exit 1
finding ev.business_category
EOF

begin ev-not-allowed
req rsa:2048 "/C=TW/L=Taichung/O=Example Taiwan Ltd./CN=www.example.com.tw/serialNumber=04595257/jurisdictionC=TW/businessCategory=Private Organization" \
	"DNS:www.example.com.tw"
expect <<'EOF'
# EV for account 04595257-01, which has neither the EV product nor EV data.
account 04595257-01
product ev
exit 1
finding request.product_not_bought
finding ev.not_allowed
accepted www.example.com.tw
EOF

# ---- keys ----------------------------------------------------------------------

begin key-rsa1024
req rsa:1024 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# RSA 1024 is too small.
product ssl
exit 1
finding key.rsa_too_small
key RSA 1024
EOF

begin key-rsa2048-e3
req rsa-e3:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# RSA public exponent 3 (openssl genpkey -pkeyopt rsa_keygen_pubexp:3).
product ssl
exit 1
finding key.rsa_exponent
key RSA 2048
EOF

begin key-rsa1024-e3
req rsa-e3:1024 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# Too small and exponent 3: both findings at once.
product ssl
exit 1
finding key.rsa_too_small
finding key.rsa_exponent
EOF

begin key-rsa2052
req rsa:2052 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# RSA 2052: large enough, but not a multiple of 8 bits.
product ssl
exit 1
finding key.rsa_size
key RSA 2052
EOF

begin key-rsa8200
req rsa:8200 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# RSA 8200 is over the 8192-bit limit.
product ssl
exit 1
finding key.rsa_too_large
key RSA 8200
EOF

begin key-p224
req ec:P-224 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# ECDSA on P-224 is not allowed.
product ssl
exit 1
finding key.ec_curve
key ECDSA 224 P-224
EOF

begin key-p192
req ec:P-192 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# ECDSA on P-192 is not allowed.
product ssl
exit 1
finding key.ec_curve
key ECDSA 192 P-192
EOF

begin key-p521
req ec:P-521 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# ECDSA on P-521 is refused unless allow_p521 = yes (the corpus uses the default).
product ssl
exit 1
finding key.ec_curve
key ECDSA 521 P-521
EOF

begin key-brainpool
req ec:brainpoolP256r1 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# ECDSA on brainpoolP256r1, a curve GnuTLS does not know: refused by its
# curve, and because its signature cannot be checked (no proof of possession).
product ssl
exit 1
finding key.ec_curve
finding csr.signature_unverified
EOF

begin key-dsa
req dsa "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# A DSA key (openssl req signs with DSA-SHA256) is not allowed.
product ssl
exit 1
finding key.algorithm
key DSA 2048
EOF

begin key-ed25519
req ed25519 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# Ed25519 keys are not allowed in server certificates.
product ssl
exit 1
finding key.algorithm
EOF

begin key-ed448
req ed448 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# Ed448 keys are not allowed.
product ssl
exit 1
finding key.algorithm
EOF

begin key-rsa-pss
req rsa-pss:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# An RSASSA-PSS key (id-RSASSA-PSS SPKI): only rsaEncryption keys are allowed.
product ssl
exit 1
finding key.algorithm
EOF

begin key-fermat
req weak:fermat "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# RSA 2048 whose primes lie close together: Fermat's method factors it.
product ssl
exit 1
finding key.fermat
key RSA 2048
EOF

begin key-small-factor
req weak:factor "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# RSA 2048 with the prime factor 743.
product ssl
exit 1
finding key.small_factor
key RSA 2048
EOF

begin key-roca
req weak:roca "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# RSA 2048 with the Infineon prime structure (ROCA, CVE-2017-15361).
product ssl
exit 1
finding key.roca
key RSA 2048
EOF

begin key-blocked
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# account.sh puts this request's key on the blocked list (key block --csr).
product ssl
exit 1
finding key.blocked
EOF

# ---- renewal and products --------------------------------------------------

begin renew-same-cn
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# SPEC 6: renewing issued certificate 1001 (CN www.twca.com.tw) with the same CN.
product ssl
renew 1001
exit 0
accepted www.twca.com.tw
EOF

begin renew-same-cn-case
req rsa:2048 "$S/CN=WWW.twca.com.tw" "DNS:WWW.twca.com.tw"
expect <<'EOF'
# The renewal CN compares without regard to case.
product ssl
renew 1001
exit 0
accepted WWW.twca.com.tw
EOF

begin renew-different-cn
req rsa:2048 "$S/CN=ww2.twca.com.tw" "DNS:ww2.twca.com.tw"
expect <<'EOF'
# A renewal must keep the CN: ww2.twca.com.tw is not www.twca.com.tw.
product ssl
renew 1001
exit 1
finding request.renew_cn
accepted ww2.twca.com.tw
EOF

begin renew-no-cn
req rsa:2048 "$S" "DNS:www.twca.com.tw"
expect <<'EOF'
# A renewal request with the name only in a SAN has no CN to keep.
product ssl
renew 1001
exit 1
finding request.renew_cn
finding subject.cn_missing
EOF

begin renew-unknown
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# Renewing a serial that does not exist.
product ssl
renew 9999
exit 1
finding request.renew_unknown
EOF

begin renew-revoked
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# Renewing revoked certificate 1002.
product ssl
renew 1002
exit 1
finding request.renew_state
EOF

begin renew-pending
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# Renewing certificate 1003, which was never issued (pending).
product ssl
renew 1003
exit 1
finding request.renew_state
EOF

begin renew-other-account
req rsa:2048 "$S/CN=www.example.com.tw" "DNS:www.example.com.tw"
expect <<'EOF'
# Certificate 2001 belongs to account 04595257-01: unknown to this account.
product ssl
renew 2001
exit 1
finding request.renew_unknown
finding domain.not_agreed www.example.com.tw
EOF

begin product-not-bought
req rsa:2048 "/C=TW/L=Taichung/O=Example Taiwan Ltd./CN=*.example.com.tw" \
	"DNS:*.example.com.tw"
expect <<'EOF'
# Account 04595257-01 bought SSL only and asks for a Wildcard certificate.
account 04595257-01
product wildcard
exit 1
finding request.product_not_bought
accepted *.example.com.tw
EOF

begin no-validators
req rsa:2048 "$S/CN=www.twca.com.tw" "DNS:www.twca.com.tw"
expect <<'EOF'
# With no validator configured nothing is issuable, however good the request.
product ssl
validators none
exit 1
finding request.no_validators
refused www.twca.com.tw
EOF

# ---- unusable input ------------------------------------------------------------

begin bad-garbage
raw <<'EOF'
Hello, please issue a certificate for www.twca.com.tw.
EOF
expect <<'EOF'
# Plain text, not a request at all.
product ssl
exit 2
error csr.garbage
EOF

begin bad-binary-garbage
if $make; then
	printf '\004\003\002\001\000\377\376\375' >"$out/request.pem"
fi
expect <<'EOF'
# Binary bytes that are no DER structure.
product ssl
exit 2
error csr.garbage
EOF

begin bad-empty
if $make; then
	: >"$out/request.pem"
fi
expect <<'EOF'
# An empty upload.
product ssl
exit 2
error csr.empty
EOF

begin bad-whitespace
if $make; then
	printf '  \n\t\r\n\n' >"$out/request.pem"
fi
expect <<'EOF'
# Only blank lines.
product ssl
exit 2
error csr.empty
EOF

begin bad-truncated-pem
if $make; then
	good_csr "$tmp/r.pem"
	head -n 8 "$tmp/r.pem" >"$out/request.pem"
fi
expect <<'EOF'
# A paste cut off half way: no END line.
product ssl
exit 2
error csr.truncated
EOF

begin bad-truncated-body
if $make; then
	good_csr "$tmp/r.pem"
	sed '4,6d' "$tmp/r.pem" >"$out/request.pem"
fi
expect <<'EOF'
# Three base64 lines lost from the middle: the DER is shorter than it says.
product ssl
exit 2
error csr.truncated
EOF

begin bad-trailing-junk
if $make; then
	good_csr "$out/request.pem"
	echo "Thanks, Alice" >>"$out/request.pem"
fi
expect <<'EOF'
# Text after the END line.
product ssl
exit 2
error csr.trailing_data
EOF

begin bad-two-csrs
if $make; then
	good_csr "$out/request.pem"
	good_csr "$tmp/r.pem"
	cat "$tmp/r.pem" >>"$out/request.pem"
fi
expect <<'EOF'
# Two requests in one file.
product ssl
exit 2
error csr.multiple
EOF

begin bad-no-end-before-begin
if $make; then
	good_csr "$tmp/r.pem"
	sed '$d' "$tmp/r.pem" >"$out/request.pem"
	good_csr "$tmp/r.pem"
	cat "$tmp/r.pem" >>"$out/request.pem"
fi
expect <<'EOF'
# The first of two requests lacks its END line.
product ssl
exit 2
error csr.truncated
EOF

begin bad-signature
if $make; then
	good_csr "$tmp/r.pem"
	openssl req -in "$tmp/r.pem" -outform DER -out "$tmp/r.der"
	python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[-1] ^= 1              # the last byte of the signature
open(sys.argv[1], "wb").write(b)' "$tmp/r.der"
	openssl req -inform DER -in "$tmp/r.der" -out "$out/request.pem"
fi
expect <<'EOF'
# One bit of the signature flipped: no proof of possession.
product ssl
exit 2
error csr.signature
EOF

begin bad-certificate
if $make; then
	newkey rsa:2048 "$tmp/key.pem"
	openssl req -x509 -new -key "$tmp/key.pem" -days 30 \
		-subj "$S/CN=www.twca.com.tw" -out "$out/request.pem"
fi
expect <<'EOF'
# A certificate pasted where the request belongs.
product ssl
exit 2
error csr.wrong_type
EOF

begin bad-private-key
if $make; then
	# The shape of a real key, its secret replaced by 'A's: the label alone
	# must make the parser refuse it, and no key sits in the repository.
	newkey ec:P-256 "$tmp/key.pem"
	sed '/^-----/!s/./A/g' "$tmp/key.pem" >"$out/request.pem"
fi
expect <<'EOF'
# A private key pasted instead of the request: refused by its PEM label, unread.
product ssl
exit 2
error csr.wrong_type
EOF

begin bad-public-key
if $make; then
	newkey rsa:2048 "$tmp/key.pem"
	openssl pkey -in "$tmp/key.pem" -pubout -out "$out/request.pem"
fi
expect <<'EOF'
# The public key alone (PUBLIC KEY), not a request.
product ssl
exit 2
error csr.wrong_type
EOF

begin bad-oversized
if $make; then
	good_csr "$tmp/r.pem"
	python3 -c '
import sys
sys.stdout.write("Certificate request for www.twca.com.tw\n" * 1800)' \
		>"$out/request.pem"
	cat "$tmp/r.pem" >>"$out/request.pem"
fi
expect <<'EOF'
# Over 64 KiB (a valid request after 72 KB of text): refused before parsing.
product ssl
exit 2
error csr.too_large
EOF

begin bad-base64
if $make; then
	good_csr "$tmp/r.pem"
	sed '5s/^\(.\{20\}\)./\1%/' "$tmp/r.pem" >"$out/request.pem"
fi
expect <<'EOF'
# A character that is not base64 ('%') inside the PEM body.
product ssl
exit 2
error csr.base64
EOF

begin bad-der-trailing
if $make; then
	good_csr "$tmp/r.pem"
	openssl req -in "$tmp/r.pem" -outform DER -out "$out/request.der"
	printf 'junk' >>"$out/request.der"
fi
expect <<'EOF'
# A DER request followed by other bytes.
product ssl
exit 2
error csr.trailing_data
EOF

begin bad-der-two
if $make; then
	good_csr "$tmp/r.pem"
	openssl req -in "$tmp/r.pem" -outform DER -out "$out/request.der"
	good_csr "$tmp/r.pem"
	openssl req -in "$tmp/r.pem" -outform DER -out "$tmp/r.der"
	cat "$tmp/r.der" >>"$out/request.der"
fi
expect <<'EOF'
# Two DER requests back to back.
product ssl
exit 2
error csr.multiple
EOF

begin bad-der-truncated
if $make; then
	good_csr "$tmp/r.pem"
	openssl req -in "$tmp/r.pem" -outform DER -out "$tmp/r.der"
	head -c 300 "$tmp/r.der" >"$out/request.der"
fi
expect <<'EOF'
# A DER request cut after 300 bytes.
product ssl
exit 2
error csr.truncated
EOF

begin bad-san-too-long
req rsa:2048 "$S/CN=www.twca.com.tw" \
	"DNS:www.twca.com.tw,DNS:$(python3 -c 'print("a" * 1100)').twca.com.tw"
expect <<'EOF'
# A SAN of 1112 characters: no valid name is that long; refused unread.
product ssl
exit 2
error csr.san_too_long
EOF
