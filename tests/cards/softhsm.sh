#!/bin/sh
# tests/cards/softhsm.sh: make SoftHSM2 test cards.
#
#   softhsm.sh DIR LABEL:KIND...
#
# Creates DIR/softhsm2.conf (point SOFTHSM2_CONF at it) with its token
# directory DIR/tokens, and one token per LABEL:KIND, KIND being ec
# (ECDSA P-256) or rsa (RSA-2048), or blank (initialised, no key).  Each
# keyed card gets a key pair generated on the card (CKA_ID 01, label
# "login") and a self-signed certificate made with that key by certtool
# and written back with the same CKA_ID, as an enrolled card has.  For
# each card the script also leaves, read back from the card by
# pkcs11-tool: DIR/LABEL.pub.der (SubjectPublicKeyInfo) and
# DIR/LABEL.crt.der.
#
# PINs: $MSSL_CARD_PIN (default 12345678, the issued PIN) and
# $MSSL_CARD_SO_PIN (default 87654321).  Exit 77 (skip) when a tool is
# missing, 1 on failure; prints what failed on stderr.
set -eu

dir=${1:?usage: softhsm.sh DIR LABEL:KIND...}
shift
pin=${MSSL_CARD_PIN:-12345678}
so_pin=${MSSL_CARD_SO_PIN:-87654321}

module=
for m in /usr/lib/softhsm/libsofthsm2.so \
	/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
	/usr/lib/*/softhsm/libsofthsm2.so; do
	if [ -f "$m" ]; then
		module=$m
		break
	fi
done
for tool in softhsm2-util pkcs11-tool certtool; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "softhsm.sh: $tool not found (Debian packages softhsm2, opensc, gnutls-bin)" >&2
		exit 77
	fi
done
if [ -z "$module" ]; then
	echo "softhsm.sh: libsofthsm2.so not found (Debian package softhsm2)" >&2
	exit 77
fi

mkdir -p "$dir/tokens"
cat >"$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
SOFTHSM2_CONF=$dir/softhsm2.conf
export SOFTHSM2_CONF

# Run quietly; show the output only when the command fails.
q() {
	if ! "$@" >"$dir/.out" 2>&1; then
		echo "softhsm.sh: failed: $*" >&2
		cat "$dir/.out" >&2
		exit 1
	fi
}

for spec in "$@"; do
	label=${spec%%:*}
	kind=${spec#*:}
	case $kind in
	ec) keytype=EC:prime256v1 ;;
	rsa) keytype=rsa:2048 ;;
	blank) keytype= ;;
	*)
		echo "softhsm.sh: unknown kind '$kind' in '$spec'" >&2
		exit 1
		;;
	esac
	q softhsm2-util --init-token --free --label "$label" \
		--so-pin "$so_pin" --pin "$pin"
	[ -n "$keytype" ] || continue
	p11="pkcs11-tool --module $module --token-label $label"
	q $p11 --login --pin "$pin" --keypairgen --key-type "$keytype" \
		--id 01 --label login
	cat >"$dir/$label.tmpl" <<TMPL
cn = "mssl test card $label"
organization = "mssl tests"
serial = 1
expiration_days = 365
signing_key
tls_www_client
TMPL
	key="pkcs11:token=$label;id=%01;type=private"
	pub="pkcs11:token=$label;id=%01;type=public"
	GNUTLS_PIN=$pin q certtool --provider "$module" \
		--generate-self-signed --load-privkey "$key" \
		--load-pubkey "$pub" --template "$dir/$label.tmpl" \
		--outder --outfile "$dir/$label.self.der"
	q $p11 --login --pin "$pin" --write-object "$dir/$label.self.der" \
		--type cert --id 01 --label login
	q $p11 --read-object --type pubkey --id 01 -o "$dir/$label.pub.der"
	q $p11 --read-object --type cert --id 01 -o "$dir/$label.crt.der"
done
rm -f "$dir/.out"
echo "$SOFTHSM2_CONF"
