#!/bin/sh
# mssl-card(1) end to end on real test cards: SoftHSM2 cards made by
# tests/cards/softhsm.sh, and (as root) an opencryptoki token that locks
# (tests/cards/opencryptoki.sh; skipped with the reason where it cannot
# run).  Speaks TAP (tests/tap.sh).
#
# Exit statuses under test: 0 done, 1 refused or failed (wrong PIN,
# locked card, no card), 2 bad usage or input.  PINs go in through
# --pin-fd / --so-pin-fd only.

: "${MSSL_TOP_BUILDDIR:?run me through make check (MSSL_TOP_BUILDDIR)}"
: "${MSSL_TEST_SRCDIR:=$(cd "$(dirname "$0")" && pwd)}"
: "${MSSL_LOCALEDIR:=$MSSL_TOP_BUILDDIR/locale}"
export MSSL_LOCALEDIR

. "$MSSL_TEST_SRCDIR/tap.sh"

CARD=$MSSL_TOP_BUILDDIR/tokens/mssl-card
[ -x "$CARD" ] || tap_bail "$CARD is not built"

unset LC_ALL LC_MESSAGES LANGUAGE MSSL_CARD_MODULE
LANG=C
export LANG

T=$(mktemp -d "${TMPDIR:-/tmp}/test-card.XXXXXX") ||
	tap_bail "cannot create a temporary directory"
ock_started=
cleanup() {
	if [ -n "$ock_started" ]; then
		sh "$MSSL_TEST_SRCDIR/cards/opencryptoki.sh" stop "$T/ock" \
			>/dev/null 2>&1
	fi
	rm -rf "$T"
	tap_cleanup
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# ---- SoftHSM2 ---------------------------------------------------------

SOFTHSM2_CONF=$(sh "$MSSL_TEST_SRCDIR/cards/softhsm.sh" "$T/hsm" \
	card-ec:ec card-rsa:rsa 2>"$T/err") ||
	tap_bail "softhsm.sh: $(cat "$T/err")"
export SOFTHSM2_CONF
SOFTHSM2_ONE=$(sh "$MSSL_TEST_SRCDIR/cards/softhsm.sh" "$T/one" \
	card-one:rsa 2>"$T/err") ||
	tap_bail "softhsm.sh: $(cat "$T/err")"

card() {
	"$CARD" --module softhsm2 "$@"
}
ec() {
	"$CARD" --module softhsm2 --token pkcs11:token=card-ec "$@"
}
# pins LINE...: the lines on descriptor 3, for --pin-fd 3.
pins() {
	printf '%s\n' "$@" >"$T/pins"
}

expect_rc "usage: no command" 2 "$CARD"
expect_rc "usage: unknown command" 2 card frobnicate
has "usage: unknown command named" "$tap_err" 'unknown command "frobnicate"'
expect_rc "usage: unknown option" 2 card --pin=1234 list
expect_rc "usage: bad --pin-fd" 2 card --pin-fd x login-test
expect_rc "--help" 0 "$CARD" --help
has "--help lists pin unblock" "$tap_out" "pin unblock"

expect_rc "module not loadable" 2 "$CARD" --module /nonexistent/x.so list
has "module not loadable: words" "$tap_err" "PKCS#11 module not loadable: /nonexistent/x.so"
has "module not loadable: id" "$tap_err" "[token.module]"

expect_rc "list" 0 card list
has "list: EC card" "$tap_out" "card-ec"
has "list: RSA card" "$tap_out" "card-rsa"
has "list: URI" "$tap_out" "pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;serial="
has "list: blank token" "$tap_out" "blank: the card is not initialised"

expect_rc "info: several cards" 2 card info
has "info: several names both" "$tap_err" '"card-ec" (serial '
has "info: several names both (2)" "$tap_err" '"card-rsa" (serial '
has "info: several id" "$tap_err" "[token.several]"
expect_rc "info: no such card" 1 card --token pkcs11:token=none info
has "info: no such card id" "$tap_err" "[token.none]"
expect_rc "info: bad URI" 2 card --token "pkcs11:bogus=1" info
has "info: bad URI id" "$tap_err" "[token.uri]"
expect_rc "info by URI" 0 ec info
has "info: label" "$tap_out" "card-ec"
has "info: PIN ready" "$tap_out" "ready"
has "info: certificate" "$tap_out" "CN=mssl test card card-ec"
expect_rc "info: the only card" 0 env SOFTHSM2_CONF="$SOFTHSM2_ONE" \
	"$CARD" --module softhsm2 info
has "info: the only card is card-one" "$tap_out" "card-one"

pins 12345678
expect_rc "login-test" 0 ec --pin-fd 3 login-test 3<"$T/pins"
has "login-test: accepted" "$tap_out" "PIN accepted."
has "login-test: still the issued PIN" "$tap_out" "still the issued PIN"
pins 99999999
expect_rc "login-test: wrong PIN" 1 ec --pin-fd 3 login-test 3<"$T/pins"
has "login-test: wrong PIN words" "$tap_err" "Wrong PIN: 2 tries left."
has "login-test: wrong PIN id" "$tap_err" "[token.pin_incorrect]"
expect_rc "login-test: wrong PIN in Chinese" 1 env LANGUAGE=zh_TW \
	LANG=zh_TW.UTF-8 "$CARD" --module softhsm2 \
	--token pkcs11:token=card-ec --pin-fd 3 login-test 3<"$T/pins"
has "login-test: wrong PIN words in Chinese" "$tap_err" "PIN 碼錯誤：還剩 2 次機會。"
expect_rc "info after a wrong PIN" 0 ec info
has "info: count low in words" "$tap_out" "a wrong PIN was given: 2 tries left"
: >"$T/pins"
expect_rc "login-test: no PIN on the descriptor" 2 ec --pin-fd 3 login-test 3<"$T/pins"
expect_rc "login-test: no terminal, no --pin-fd" 2 setsid "$CARD" \
	--module softhsm2 --token pkcs11:token=card-ec login-test </dev/null

pins 12345678
for t in card-ec card-rsa; do
	expect_rc "sign-test $t" 0 "$CARD" --module softhsm2 \
		--token "pkcs11:token=$t" --pin-fd 3 sign-test 3<"$T/pins"
	has "sign-test $t: verified" "$tap_out" "Signature verified:"
done
has "sign-test: RSA-SHA256" "$tap_out" "RSA-SHA256, 256 bytes"

pins 12345678 abc 
expect_rc "pin change: policy (short)" 2 ec --pin-fd 3 pin change 3<"$T/pins"
has "pin change: policy id" "$tap_err" "[token.pin_policy]"
pins 12345678 new-pin-1 new-pin-2
expect_rc "pin change: new PINs differ" 2 ec --pin-fd 3 pin change 3<"$T/pins"
has "pin change: differ words" "$tap_err" "The two new PINs differ"
pins 11111111 new-pin-1 new-pin-1
expect_rc "pin change: wrong old PIN" 1 ec --pin-fd 3 pin change 3<"$T/pins"
has "pin change: wrong old PIN id" "$tap_err" "[token.pin_incorrect]"
pins 12345678 new-pin-1 new-pin-1
expect_rc "pin change" 0 ec --pin-fd 3 pin change 3<"$T/pins"
has "pin change: log in again" "$tap_out" "Log in again with the new PIN."
pins new-pin-1
expect_rc "login-test: new PIN" 0 ec --pin-fd 3 login-test 3<"$T/pins"
lacks "login-test: no longer the issued PIN" "$tap_out" "still the issued PIN"
pins 12345678
expect_rc "login-test: old PIN refused" 1 ec --pin-fd 3 login-test 3<"$T/pins"

printf '%s\n' 87654321 >"$T/so"
pins unblocked-1 unblocked-1
expect_rc "pin unblock" 0 ec --so-pin-fd 4 --pin-fd 3 pin unblock \
	3<"$T/pins" 4<"$T/so"
has "pin unblock: words" "$tap_out" "Card unblocked."
pins unblocked-1
expect_rc "login-test after unblock" 0 ec --pin-fd 3 login-test 3<"$T/pins"
printf '%s\n' 00000000 >"$T/so"
pins unblocked-2 unblocked-2
expect_rc "pin unblock: wrong SO PIN" 1 ec --so-pin-fd 4 --pin-fd 3 \
	pin unblock 3<"$T/pins" 4<"$T/so"
has "pin unblock: wrong SO PIN id" "$tap_err" "[token.so_pin_incorrect]"

# ---- opencryptoki: a token that locks -------------------------------------

if sh "$MSSL_TEST_SRCDIR/cards/opencryptoki.sh" start "$T/ock" $$ \
	>"$T/ock.log" 2>&1; then
	ock_started=1
	. "$T/ock/ock.env"
	# opencryptoki 3.8 leaks in its software token, which is unloaded
	# before exit, so LeakSanitizer cannot tell whose the leaks are:
	# no leak checks here (test-token-ock checks ours on this card).
	ock() {
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			"$CARD" --module "$OCK_MODULE" "$@"
	}
	pins "$OCK_PIN"
	expect_rc "ock: sign-test (CKM_RSA_PKCS + DigestInfo)" 0 \
		ock --pin-fd 3 sign-test 3<"$T/pins"
	has "ock: sign-test verified" "$tap_out" "Signature verified: RSA-SHA256"
	pins 00000000
	expect_rc "ock: wrong PIN 1" 1 ock --pin-fd 3 login-test 3<"$T/pins"
	has "ock: 2 tries left" "$tap_err" "Wrong PIN: 2 tries left."
	expect_rc "ock: wrong PIN 2" 1 ock --pin-fd 3 login-test 3<"$T/pins"
	has "ock: final try" "$tap_err" "1 try left, the next wrong PIN locks the card."
	has "ock: final try id" "$tap_err" "[token.pin_final_try]"
	expect_rc "ock: info on the final try" 0 ock info
	has "ock: info final try words" "$tap_out" "1 try left: the next wrong PIN locks the card"
	expect_rc "ock: wrong PIN 3" 1 ock --pin-fd 3 login-test 3<"$T/pins"
	has "ock: locked" "$tap_err" "The card is now locked: ask the CA for an unlock."
	has "ock: locked id" "$tap_err" "[token.pin_locked]"
	pins "$OCK_PIN"
	expect_rc "ock: right PIN refused when locked" 1 \
		ock --pin-fd 3 login-test 3<"$T/pins"
	has "ock: right PIN refused words" "$tap_err" "ask the CA for an unlock"
	expect_rc "ock: info when locked" 0 ock info
	has "ock: info locked words" "$tap_out" "locked: ask the CA for an unlock"
	printf '%s\n' "$OCK_SO_PIN" >"$T/so"
	pins longer-pin-9 longer-pin-9
	expect_rc "ock: unblock to a PIN too long for the card" 2 \
		ock --so-pin-fd 4 --pin-fd 3 pin unblock 3<"$T/pins" 4<"$T/so"
	has "ock: card PIN length words" "$tap_err" "The card accepts PINs of 4 to 8 characters."
	pins abcdef12 abcdef12
	expect_rc "ock: unblock" 0 ock --so-pin-fd 4 --pin-fd 3 pin unblock \
		3<"$T/pins" 4<"$T/so"
	pins abcdef12
	expect_rc "ock: new PIN after unblock" 0 ock --pin-fd 3 login-test 3<"$T/pins"
	pins "$OCK_PIN"
	expect_rc "ock: old PIN refused" 1 ock --pin-fd 3 login-test 3<"$T/pins"
	has "ock: old PIN words" "$tap_err" "Wrong PIN: 2 tries left."
elif [ $? -eq 77 ]; then
	tap_skip "opencryptoki card" "$(head -n 1 "$T/ock.log")"
else
	ock_started=1
	tap_not_ok "opencryptoki card started"
	sed 's/^/# /' "$T/ock.log"
fi

tap_done
