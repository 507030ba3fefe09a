#!/bin/sh
# Regenerate the public keys test-validate-key reads.  Run from anywhere:
#
#	sh tests/data/keys/make-keys.sh
#
# Only the public halves (SubjectPublicKeyInfo, PEM) are kept: the tests
# need nothing else, and no private key ever sits in the repository.  The
# keys are committed, so that the tests do not depend on this script, on
# openssl or on the time key generation takes; rerun it only to add keys.
#
# Ordinary keys come from openssl.  Keys no honest generator makes (primes
# close together, a small factor, the ROCA structure, a point off the curve)
# come from make-weak-keys.py, which needs only python3.
set -eu

dir=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# pub NAME: write the public half of $tmp/key.pem to NAME.pem.
pub() {
	openssl pkey -in "$tmp/key.pem" -pubout -out "$dir/$1.pem"
	rm -f "$tmp/key.pem"
}

# rsa NAME BITS [EXPONENT]
rsa() {
	openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" \
		-pkeyopt "rsa_keygen_pubexp:${3:-65537}" \
		-out "$tmp/key.pem" 2>/dev/null
	pub "$1"
}

# ec NAME CURVE
ec() {
	openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" \
		-pkeyopt ec_param_enc:named_curve -out "$tmp/key.pem"
	pub "$1"
}

rsa rsa-2048 2048
rsa rsa-3072 3072
rsa rsa-4096 4096
rsa rsa-8192 8192		# the largest size allowed
rsa rsa-8200 8200		# too large, a multiple of 8
rsa rsa-1024 1024		# too small
rsa rsa-2040 2040		# too small, a multiple of 8
rsa rsa-2052 2052		# large enough, not a multiple of 8
rsa rsa-2048-e3 2048 3		# exponent 3
rsa rsa-1024-e3 1024 3		# too small and exponent 3

ec ec-p256 P-256
ec ec-p384 P-384
ec ec-p521 P-521
ec ec-p224 P-224
ec ec-p192 P-192

openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 \
	-out "$tmp/dsa-params.pem"
openssl genpkey -paramfile "$tmp/dsa-params.pem" -out "$tmp/key.pem"
pub dsa-2048

openssl genpkey -algorithm ED25519 -out "$tmp/key.pem"
pub ed25519

# Needs ec-p256.pem (for the off-curve point) from above.
python3 "$dir/make-weak-keys.py" "$dir"
