#!/bin/sh
# Persons and cards through the real tools: mssl-admin person/card
# commands (SPEC §3, §8) on a SoftHSM2 card, and the holder's unlock with
# mssl-card.  Speaks TAP (tests/tap.sh).  Exit statuses: 0 done, 1
# refused, 2 bad usage or input; bad input writes nothing.

: "${MSSL_TOP_BUILDDIR:?run me through make check (MSSL_TOP_BUILDDIR)}"
: "${MSSL_PLUGIN_BUILDDIR:?run me through make check (MSSL_PLUGIN_BUILDDIR)}"
: "${MSSL_TEST_SRCDIR:=$(cd "$(dirname "$0")" && pwd)}"
: "${MSSL_LOCALEDIR:=$MSSL_TOP_BUILDDIR/locale}"
export MSSL_LOCALEDIR

. "$MSSL_TEST_SRCDIR/tap.sh"

ADMIN=$MSSL_TOP_BUILDDIR/daemon/mssl-admin
CARD=$MSSL_TOP_BUILDDIR/tokens/mssl-card
[ -x "$ADMIN" ] || tap_bail "$ADMIN is not built"
[ -x "$CARD" ] || tap_bail "$CARD is not built"
for tool in sqlite3 certtool python3; do
	command -v $tool >/dev/null || tap_bail "$tool is needed"
done

unset LC_ALL LC_MESSAGES LANGUAGE MSSL_CONFIG
LANG=C
SUDO_USER=mssl-test-operator
export LANG SUDO_USER

T=$(mktemp -d "${TMPDIR:-/tmp}/test-admin-cards.XXXXXX") ||
	tap_bail "cannot create a temporary directory"
trap 'rm -rf "$T"; tap_cleanup' EXIT
trap 'exit 1' HUP INT TERM

SOFTHSM2_CONF=$(sh "$MSSL_TEST_SRCDIR/cards/softhsm.sh" "$T/hsm" \
	dora:blank 2>"$T/err") || tap_bail "softhsm.sh: $(cat "$T/err")"
export SOFTHSM2_CONF

# The card CA and the master secret.
(
	cd "$T" &&
		printf 'cn = "test card CA"\nca\ncert_signing_key\nexpiration_days = 3650\n' >ca.tmpl &&
		certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
			--outfile ca-key.pem --no-text 2>/dev/null &&
		certtool --generate-self-signed --load-privkey ca-key.pem \
			--template ca.tmpl --outfile ca.pem --no-text 2>/dev/null &&
		head -c 64 /dev/urandom >master.key && chmod 600 master.key
) || tap_bail "cannot make the card CA"

CONF=$T/mssl.conf
DB=$T/mssl.db
cat >"$CONF" <<EOF
[mssl]
plugin_dir = $MSSL_PLUGIN_BUILDDIR
store = store-sqlite

[store-sqlite]
path = $DB
synchronous = off

[login]
origin = https://mssl.test

[cards]
ca_cert = $T/ca.pem
ca_key = $T/ca-key.pem
master_secret_file = $T/master.key
EOF

adm() {
	"$ADMIN" --config "$CONF" "$@"
}
sql() {
	sqlite3 -batch "$DB" "$@"
}
dora() {
	"$CARD" --module softhsm2 --token pkcs11:token=dora "$@"
}
A=70759028-01

expect_rc "account create" 0 adm account create --id $A \
	--org-en "Acme Trading Co., Ltd." --products ssl \
	--supervisor-name "Chen Mei" --supervisor-email mei.chen@example.com

# ---- persons ----------------------------------------------------------

snap() {
	sql "SELECT * FROM persons; SELECT * FROM cards"
}
before=$(snap)
expect_rc "person add: bad role is bad usage" 2 adm person add $A \
	--name "Dora Wu" --email dora@example.com --role boss
expect_rc "person add: bad e-mail is bad input" 2 adm person add $A \
	--name "Dora Wu" --email "not an address" --role manager
has "person add: the error names the field" "$tap_err" "email"
expect_rc "person add: name with a line break" 2 adm person add $A \
	--name "Dora
Wu" --email dora@example.com --role manager
expect_rc "person add: unknown account is refused" 1 adm person add \
	12345675-01 --name "Dora Wu" --email dora@example.com --role manager
is "bad input wrote no person or card" "$(snap)" "$before"

expect_rc "person add" 0 adm --json person add $A --name "Dora Wu" \
	--email dora@example.com --role manager
P=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' \
	<"$tap_out")
expect_rc "person list --json" 0 adm --json person list $A
is "person list shows her as an active manager" \
	"$(python3 -c 'import json,sys; p=json.load(sys.stdin)[0]; print(p["name"], p["role"], p["status"])' <"$tap_out")" \
	"Dora Wu manager active"

# ---- enrolment -------------------------------------------------------------

printf '%s\n' wrong-so >"$T/so-bad"
expect_rc "card enroll: a wrong transport SO PIN is refused" 1 adm card \
	enroll --person "$P" --module softhsm2 --token pkcs11:token=dora \
	--so-pin-fd 3 3<"$T/so-bad"
is "a failed enrolment registers no card" "$(sql 'SELECT count(*) FROM cards')" 0
printf '%s\n' 87654321 >"$T/so"
expect_rc "card enroll: --key must be known" 2 adm card enroll --person "$P" \
	--module softhsm2 --key dsa --so-pin-fd 3 3<"$T/so"
expect_rc "card enroll" 0 adm card enroll --person "$P" --module softhsm2 \
	--token pkcs11:token=dora --so-pin-fd 3 3<"$T/so"
has "card enroll: says the issued PIN must change" "$tap_out" "must change it"
C=$(sql "SELECT id FROM cards")
is "card registered on the issued PIN" "$(sql "SELECT state FROM cards")" issued_pin
expect_rc "card list" 0 adm card list $A
has "card list shows the holder" "$tap_out" "Dora Wu"
printf '%s\n' 12345678 >"$T/pin"
expect_rc "the card takes the issued PIN" 0 dora --pin-fd 3 login-test 3<"$T/pin"
expect_rc "the card signs with its new key" 0 dora --pin-fd 3 sign-test 3<"$T/pin"
printf '%s\n' 87654321 >"$T/so"
printf '%s\n%s\n' pin-1111 pin-1111 >"$T/pin2"
expect_rc "the transport SO PIN no longer works" 1 dora --so-pin-fd 3 \
	--pin-fd 4 pin unblock 3<"$T/so" 4<"$T/pin2"
has "the card says the SO PIN is wrong" "$tap_err" "SO PIN"
expect_rc "card enroll: an enrolled card is not enrolled twice" 1 adm card \
	enroll --person "$P" --module softhsm2 --token pkcs11:token=dora \
	--so-pin-fd 3 3<"$T/so"

# ---- unlock -----------------------------------------------------------------

expect_rc "unlock-approve needs --verified-with" 2 adm card unlock-approve "$C"
expect_rc "unlock-approve" 0 adm --json card unlock-approve "$C" \
	--verified-with "Chen Mei, by phone" --show-code
CODE=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])' \
	<"$tap_out")
is "the card is locked" "$(sql "SELECT state FROM cards")" locked
is "the notice goes to the holder" \
	"$(sql "SELECT to_addr FROM mail_outbox ORDER BY id DESC LIMIT 1")" \
	dora@example.com
expect_rc "unlock-approve without --show-code keeps the code off the screen" \
	0 adm card unlock-approve "$C" --verified-with "Chen Mei"
CODE2=$(sql "SELECT body FROM mail_outbox ORDER BY id DESC LIMIT 1" |
	sed -n 's/.*Unlock code: \([A-Z0-9-]*\).*/\1/p' | head -n 1)
check "the second notice carries a code" test -n "$CODE2"
check "the screen did not show it" sh -c "! grep -q -- '$CODE2' '$tap_out'"

printf '%s\n' WRONG-CODE-XX >"$T/code-bad"
printf '%s\n%s\n' pin-9876 pin-9876 >"$T/newpin"
expect_rc "mssl-card unlock: a wrong code is refused" 1 dora \
	--account $A --config "$CONF" --code-fd 3 --pin-fd 4 unlock \
	3<"$T/code-bad" 4<"$T/newpin"
has "mssl-card unlock: the refusal" "$tap_err" "unlock was refused"
printf '%s\n' "$CODE2" >"$T/code"
expect_rc "mssl-card unlock needs --account" 2 dora --config "$CONF" unlock
expect_rc "mssl-card unlock" 0 dora --account $A --config "$CONF" \
	--code-fd 3 --pin-fd 4 unlock 3<"$T/code" 4<"$T/newpin"
is "the card is active again" "$(sql "SELECT state FROM cards")" active
printf '%s\n' pin-9876 >"$T/pin"
expect_rc "the new PIN works on the card" 0 dora --pin-fd 3 login-test 3<"$T/pin"
printf '%s\n%s\n' pin-5555 pin-5555 >"$T/newpin"
expect_rc "the code works once" 1 dora --account $A --config "$CONF" \
	--code-fd 3 --pin-fd 4 unlock 3<"$T/code" 4<"$T/newpin"
printf '%s\n' "$CODE" >"$T/code1"
expect_rc "the first approval's code is void once the card is unlocked" 1 \
	dora --account $A --config "$CONF" --code-fd 3 --pin-fd 4 unlock \
	3<"$T/code1" 4<"$T/newpin"
is "audit: two unlock steps done" \
	"$(sql "SELECT count(*) FROM audit WHERE action='card.unlock' AND outcome='ok'")" 2

# ---- suspension and revocation -------------------------------------------

expect_rc "card suspend needs --reason" 2 adm card suspend "$C"
expect_rc "card suspend" 0 adm card suspend "$C" --reason "on leave"
expect_rc "card resume" 0 adm card resume "$C" --reason "back"
is "a resumed card must get a new PIN at its next login" \
	"$(sql "SELECT state FROM cards")" issued_pin
expect_rc "card revoke" 0 adm card revoke "$C" --reason "card lost"
expect_rc "a revoked card stays revoked" 1 adm card resume "$C" --reason x
expect_rc "zh_TW: the refusal" 1 env LC_ALL=zh_TW.UTF-8 "$ADMIN" \
	--config "$CONF" card resume "$C" --reason x
check "zh_TW: the message is in Chinese" grep -q '卡' "$tap_err"
expect_rc "person suspend" 0 adm person suspend "$P" --reason "left"
is "person suspended" "$(sql "SELECT status FROM persons")" suspended
expect_rc "person resume" 0 adm person resume "$P" --reason "rehired"
expect_rc "person suspend of nobody" 1 adm person suspend 999 --reason x

tap_done
