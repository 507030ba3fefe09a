#!/bin/sh
# ca-init.sh: create a private (demo or test) CA for mssl's ca-gnutls
# backend: a root CA and an issuing CA under it, with the issuing CA's key
# in a PEM file or generated on a PKCS#11 token (SoftHSM2 by default).
#
#   tools/ca-init.sh --dir DIR [--name "Demo CA"] [--country TW]
#       [--key-type ecdsa-p256|ecdsa-p384|rsa-2048|rsa-3072]
#       [--token-label L [--module /usr/lib/softhsm/libsofthsm2.so]
#        [--pin-file F] [--root-key-file] [--label-prefix P]]
#       [--permit-dns example.com ...] [--root-days N] [--issuing-days N]
#
# Writes DIR/root.pem, DIR/issuing.pem, DIR/chain.pem (issuing CA then
# root), the keys (DIR/root-key.pem, DIR/issuing-key.pem, mode 0600) or
# token objects labelled "Proot-ca" and "Pissuing-ca" (P: --label-prefix,
# empty by default; --root-key-file keeps the root key in a file), and
# DIR/ca-gnutls.conf, the [ca-gnutls] section to use, which it also prints
# on stdout.
#
# With --token-label and a SoftHSM2 module, the token is created when it
# does not exist yet: in the token directory of $SOFTHSM2_CONF, or, when
# that variable is unset, of DIR/softhsm2.conf (written here, token
# directory DIR/softhsm-tokens).  Its random user PIN goes to DIR/token.pin
# and its SO PIN to DIR/token.so-pin (mode 0600).  For an existing token
# (any module) give its user PIN in --pin-file.  Every process that uses a
# SoftHSM2 token needs the same SOFTHSM2_CONF in its environment.
#
# Root CA: cA TRUE, keyCertSign + cRLSign, 20 years.  Issuing CA: cA TRUE,
# pathLenConstraint 0, keyCertSign + cRLSign, 10 years, and name
# constraints when --permit-dns is given.  Both have SKI; the issuing CA
# has AKI.  Signed with SHA-256 (SHA-384 for P-384 keys).
#
# Needs certtool and p11tool (gnutls-bin) and, for SoftHSM2 tokens,
# softhsm2-util (softhsm2).
set -eu

prog=ca-init.sh
die() {
	echo "$prog: $*" >&2
	exit 1
}
say() {
	echo "$prog: $*" >&2
}
usage() {
	sed -n '6,10p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

dir=
name="mssl Demo CA"
country=
key_type=ecdsa-p256
token_label=
module=
pin_file=
root_key_file=no
label_prefix=
permit_dns=
root_days=7305
issuing_days=3653

while [ $# -gt 0 ]; do
	case "$1" in
	--dir) dir=${2?}; shift ;;
	--name) name=${2?}; shift ;;
	--country) country=${2?}; shift ;;
	--key-type) key_type=${2?}; shift ;;
	--token-label) token_label=${2?}; shift ;;
	--module) module=${2?}; shift ;;
	--pin-file) pin_file=${2?}; shift ;;
	--root-key-file) root_key_file=yes ;;
	--label-prefix) label_prefix=${2?}; shift ;;
	--permit-dns) permit_dns="$permit_dns ${2?}"; shift ;;
	--root-days) root_days=${2?}; shift ;;
	--issuing-days) issuing_days=${2?}; shift ;;
	-h | --help) usage ;;
	*) echo "$prog: unknown option $1" >&2; usage ;;
	esac
	shift
done

[ -n "$dir" ] || usage
case "$key_type" in
ecdsa-p256) gen="--key-type ecdsa --curve secp256r1"
	p11gen="--generate-privkey=ecdsa --curve=secp256r1"; hash=SHA256 ;;
ecdsa-p384) gen="--key-type ecdsa --curve secp384r1"
	p11gen="--generate-privkey=ecdsa --curve=secp384r1"; hash=SHA384 ;;
rsa-2048) gen="--key-type rsa --bits 2048"
	p11gen="--generate-privkey=rsa --bits=2048"; hash=SHA256 ;;
rsa-3072) gen="--key-type rsa --bits 3072"
	p11gen="--generate-privkey=rsa --bits=3072"; hash=SHA256 ;;
*) die "--key-type must be ecdsa-p256, ecdsa-p384, rsa-2048 or rsa-3072" ;;
esac
case "$root_days$issuing_days" in
*[!0-9]*) die "--root-days and --issuing-days take a number of days" ;;
esac
case "$name" in
*'"'* | *\\*) die "--name may not contain quotes or backslashes" ;;
esac
if [ -n "$country" ]; then
	case "$country" in
	[A-Z][A-Z]) ;;
	*) die "--country takes a two-letter upper-case ISO 3166 code" ;;
	esac
fi
for d in $permit_dns; do
	case "$d" in
	*[!A-Za-z0-9.-]*) die "--permit-dns $d: not a DNS name" ;;
	esac
done
if [ -n "$token_label" ]; then
	# The label goes into a pkcs11: URI unescaped: keep it plain.
	case "$token_label$label_prefix" in
	*[!A-Za-z0-9._-]*)
		die "--token-label and --label-prefix may hold only A-Z a-z 0-9 . _ -" ;;
	esac
	[ -n "$module" ] || module=/usr/lib/softhsm/libsofthsm2.so
	[ -r "$module" ] || die "PKCS#11 module $module not found"
	command -v p11tool >/dev/null ||
		die "p11tool is missing (Debian package gnutls-bin)"
elif [ -n "$module" ] || [ -n "$pin_file" ] || [ "$root_key_file" = yes ] ||
	[ -n "$label_prefix" ]; then
	die "--module, --pin-file, --root-key-file and --label-prefix need --token-label"
fi
command -v certtool >/dev/null ||
	die "certtool is missing (Debian package gnutls-bin)"

umask 077
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
for f in root.pem issuing.pem root-key.pem issuing-key.pem; do
	[ ! -e "$dir/$f" ] ||
		die "$dir/$f exists: refusing to replace a CA (use a new --dir)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ca-init.XXXXXX")
cleanup() {
	if [ -d "$tmp" ]; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# Random digits for new PINs (SoftHSM2 accepts 4 to 255 characters).
random_pin() {
	od -An -N12 -tx1 /dev/urandom | tr -d ' \n'
}

# ---- the token ------------------------------------------------------------

p11() {
	GNUTLS_PIN=$pin p11tool --provider "$module" "$@"
}

if [ -n "$token_label" ]; then
	case "$module" in
	*softhsm*)
		softhsm=yes
		if [ -z "${SOFTHSM2_CONF:-}" ]; then
			SOFTHSM2_CONF=$dir/softhsm2.conf
		fi
		export SOFTHSM2_CONF
		if [ ! -e "$SOFTHSM2_CONF" ]; then
			tokendir=$(dirname "$SOFTHSM2_CONF")/softhsm-tokens
			mkdir -p "$tokendir"
			cat >"$SOFTHSM2_CONF" <<EOF
# SoftHSM2 configuration written by mssl's ca-init.sh.
directories.tokendir = $tokendir
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
			chmod 644 "$SOFTHSM2_CONF"
			say "wrote $SOFTHSM2_CONF (tokens in $tokendir)"
		fi
		;;
	*) softhsm=no ;;
	esac

	if p11tool --provider "$module" --list-tokens 2>/dev/null |
		grep -qx "	Label: $token_label"; then
		[ -n "$pin_file" ] ||
			die "token \"$token_label\" exists: give its user PIN with --pin-file"
	elif [ "$softhsm" = yes ]; then
		[ -z "$pin_file" ] ||
			die "token \"$token_label\" does not exist, so --pin-file has no PIN to give"
		command -v softhsm2-util >/dev/null ||
			die "softhsm2-util is missing (Debian package softhsm2)"
		random_pin >"$dir/token.pin"
		random_pin >"$dir/token.so-pin"
		softhsm2-util --init-token --free --label "$token_label" \
			--so-pin "$(cat "$dir/token.so-pin")" \
			--pin "$(cat "$dir/token.pin")" >/dev/null ||
			die "softhsm2-util could not create token \"$token_label\""
		pin_file=$dir/token.pin
		say "created SoftHSM2 token \"$token_label\" (PIN in $pin_file)"
	else
		die "no token labelled \"$token_label\" in $module: initialise it first"
	fi
	[ -r "$pin_file" ] || die "cannot read $pin_file"
	pin=$(cat "$pin_file")
	[ -n "$pin" ] || die "$pin_file is empty"
	case "$pin_file" in
	/*) ;;
	*) pin_file=$(cd "$(dirname "$pin_file")" && pwd)/$(basename "$pin_file") ;;
	esac

	turl="pkcs11:token=$token_label"
	objs="${label_prefix}issuing-ca"
	[ "$root_key_file" = yes ] || objs="$objs ${label_prefix}root-ca"
	for obj in $objs; do
		if p11 --login --list-privkeys "$turl;object=$obj" 2>/dev/null |
			grep -q 'URL:'; then
			die "token \"$token_label\" already holds a key labelled $obj (use --label-prefix)"
		fi
	done
fi

# ---- keys -------------------------------------------------------------------

# gen_key NAME: a key for NAME (root or issuing) in a file or on the token;
# sets key_NAME to the file or URI and writes $tmp/NAME-pub.pem.
gen_key() {
	if [ -n "$token_label" ] &&
		{ [ "$1" = issuing ] || [ "$root_key_file" = no ]; }; then
		# shellcheck disable=SC2086
		p11 --login $p11gen --label "$label_prefix$1-ca" --mark-sign \
			--outfile "$tmp/$1-pub.pem" "$turl" 2>/dev/null ||
			die "p11tool could not generate the $1 CA key on \"$token_label\""
		eval "key_$1=\"\$turl;object=$label_prefix$1-ca;type=private\""
		say "generated the $1 CA key ($key_type) on token \"$token_label\""
	else
		# shellcheck disable=SC2086
		certtool --generate-privkey $gen --no-text \
			--outfile "$dir/$1-key.pem" 2>/dev/null ||
			die "certtool could not generate the $1 CA key"
		chmod 600 "$dir/$1-key.pem"
		certtool --load-privkey "$dir/$1-key.pem" --pubkey-info \
			--no-text --outfile "$tmp/$1-pub.pem" 2>/dev/null ||
			die "certtool could not read $dir/$1-key.pem"
		eval "key_$1=\"\$dir/$1-key.pem\""
		say "generated the $1 CA key ($key_type) in $dir/$1-key.pem"
	fi
}

key_root=
key_issuing=
gen_key root
gen_key issuing

# certtool runs with the token's PIN in GNUTLS_PIN when a key is on it.
ct() {
	if [ -n "$token_label" ]; then
		GNUTLS_PIN=$pin certtool --provider "$module" "$@"
	else
		certtool "$@"
	fi
}

# ---- certificates -------------------------------------------------------

{
	echo "cn = \"$name Root CA\""
	echo "organization = \"$name\""
	[ -z "$country" ] || echo "country = $country"
	echo "expiration_days = $root_days"
	echo "ca"
	echo "cert_signing_key"
	echo "crl_signing_key"
} >"$tmp/root.tmpl"
ct --generate-self-signed --load-privkey "$key_root" \
	--load-pubkey "$tmp/root-pub.pem" --template "$tmp/root.tmpl" \
	--hash "$hash" --no-text --outfile "$tmp/root.pem" 2>"$tmp/err" ||
	die "certtool could not make the root certificate: $(cat "$tmp/err")"

{
	echo "cn = \"$name Issuing CA 1\""
	echo "organization = \"$name\""
	[ -z "$country" ] || echo "country = $country"
	echo "expiration_days = $issuing_days"
	echo "ca"
	echo "path_len = 0"
	echo "cert_signing_key"
	echo "crl_signing_key"
	for d in $permit_dns; do
		echo "nc_permit_dns = $d"
	done
} >"$tmp/issuing.tmpl"
ct --generate-certificate --load-pubkey "$tmp/issuing-pub.pem" \
	--load-ca-certificate "$tmp/root.pem" --load-ca-privkey "$key_root" \
	--template "$tmp/issuing.tmpl" --hash "$hash" --no-text \
	--outfile "$tmp/issuing.pem" 2>"$tmp/err" ||
	die "certtool could not make the issuing CA certificate: $(cat "$tmp/err")"

cat "$tmp/issuing.pem" "$tmp/root.pem" >"$tmp/chain.pem"
certtool --verify --load-ca-certificate "$tmp/root.pem" \
	--infile "$tmp/chain.pem" >"$tmp/err" 2>&1 ||
	die "the new chain does not verify: $(cat "$tmp/err")"
for f in root.pem issuing.pem chain.pem; do
	chmod 644 "$tmp/$f"
	mv "$tmp/$f" "$dir/$f"
done

{
	echo "# ca-gnutls section written by ca-init.sh for \"$name\"."
	echo "[ca-gnutls]"
	echo "key = $key_issuing"
	if [ -n "$token_label" ]; then
		echo "pin_file = $pin_file"
		echo "pkcs11_module = $module"
	fi
	echo "certificate = $dir/issuing.pem"
	echo "chain = $dir/chain.pem"
	echo "hash = $(echo "$hash" | tr '[:upper:]' '[:lower:]')"
} >"$dir/ca-gnutls.conf"
chmod 644 "$dir/ca-gnutls.conf"

say "root CA: $dir/root.pem; issuing CA: $dir/issuing.pem; chain: $dir/chain.pem"
if [ -n "$token_label" ] && [ "$softhsm" = yes ]; then
	say "processes using the token need: export SOFTHSM2_CONF=$SOFTHSM2_CONF"
fi
cat "$dir/ca-gnutls.conf"
