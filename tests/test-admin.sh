#!/bin/sh
# Integration tests of mssl-admin(8): the real binary against a fresh
# SQLite store in a temporary directory.  Speaks TAP (tests/tap.sh).
#
# Exit statuses under test: 0 done, 1 refused or failed, 2 bad usage or
# input.  "Nothing written" is checked against the database itself: bad
# usage leaves the file byte-for-byte alike in content (data, audit log and
# its head); a refused operation or bad input leaves every data table alike
# and adds exactly one audit record saying "refused" (SPEC §9: refusals
# are recorded too).

: "${MSSL_TOP_BUILDDIR:?run me through make check (MSSL_TOP_BUILDDIR)}"
: "${MSSL_PLUGIN_BUILDDIR:?run me through make check (MSSL_PLUGIN_BUILDDIR)}"
: "${MSSL_TEST_SRCDIR:=$(cd "$(dirname "$0")" && pwd)}"
: "${MSSL_LOCALEDIR:=$MSSL_TOP_BUILDDIR/locale}"
export MSSL_LOCALEDIR

. "$MSSL_TEST_SRCDIR/tap.sh"

ADMIN=$MSSL_TOP_BUILDDIR/daemon/mssl-admin
PO=$MSSL_TEST_SRCDIR/../po/zh_TW.po
[ -x "$ADMIN" ] || tap_bail "$ADMIN is not built"
command -v sqlite3 >/dev/null || tap_bail "the sqlite3 program is needed"
command -v python3 >/dev/null || tap_bail "python3 is needed"

# A known environment: English messages, a known operator name, no
# configuration from the caller.
unset LC_ALL LC_MESSAGES LANGUAGE MSSL_CONFIG
LANG=C
SUDO_USER=mssl-test-operator
export LANG SUDO_USER

T=$(mktemp -d "${TMPDIR:-/tmp}/test-admin.XXXXXX") ||
	tap_bail "cannot create a temporary directory"
trap 'rm -rf "$T"; tap_cleanup' EXIT
trap 'exit 1' HUP INT TERM

# new_store DIR: DIR/mssl.conf for a store DIR/mssl.db (not yet created).
new_store() {
	mkdir -p "$1" || tap_bail "cannot create $1"
	cat >"$1/mssl.conf" <<EOF
# mssl-admin test configuration
[mssl]
plugin_dir = $MSSL_PLUGIN_BUILDDIR
store = store-sqlite

[store-sqlite]
path = $1/mssl.db
synchronous = off
EOF
}

new_store "$T/main"
CONF=$T/main/mssl.conf
DB=$T/main/mssl.db

adm() {
	"$ADMIN" --config "$CONF" "$@"
}

sql() {
	sqlite3 -batch "$DB" "$@"
}

# Every data table, row by row; then the audit log and its head.
DATA_TABLES="accounts domains contacts persons cards certificates ledger
	notices sessions login_challenges unlock_requests"
data_snapshot() {
	for tbl in $DATA_TABLES; do
		sqlite3 -batch "$DB" "SELECT '$tbl', * FROM $tbl ORDER BY rowid"
	done
}
full_snapshot() {
	data_snapshot
	sqlite3 -batch "$DB" "SELECT 'audit', * FROM audit ORDER BY seq;
		SELECT 'meta', * FROM meta ORDER BY key"
}
audit_count() {
	sql "SELECT count(*) FROM audit"
}
last_audit() {
	sql "SELECT action || ' ' || outcome FROM audit ORDER BY seq DESC LIMIT 1"
}

# unchanged NAME CMD...: CMD exits 2 and the store is unchanged in every
# row, the audit log included (bad usage is refused before any operation).
unchanged() {
	un_name=$1
	shift
	full_snapshot >"$T/before"
	expect_rc "$un_name: exit 2" 2 "$@"
	check "$un_name: message on stderr" test -s "$tap_err"
	empty "$un_name: nothing on stdout" "$tap_out"
	full_snapshot >"$T/after"
	check "$un_name: nothing written" cmp -s "$T/before" "$T/after"
}

# refused NAME RC RULE CMD...: CMD exits RC naming [RULE] on stderr, no
# data row changes and the refusal is audited as one "refused" record.
refused() {
	rf_name=$1
	rf_rc=$2
	rf_rule=$3
	shift 3
	data_snapshot >"$T/before"
	rf_n=$(audit_count)
	expect_rc "$rf_name: exit $rf_rc" "$rf_rc" "$@"
	has "$rf_name: stderr names [$rf_rule]" "$tap_err" "[$rf_rule]"
	data_snapshot >"$T/after"
	check "$rf_name: no data written" cmp -s "$T/before" "$T/after"
	is "$rf_name: refusal audited once" \
		"$(audit_count) $(last_audit | sed 's/.* //')" \
		"$((rf_n + 1)) refused"
}

# po_format MSGID ARG...: the zh_TW translation of MSGID from po/zh_TW.po
# as it stands now, formatted with ARGs (%s-style conversions only);
# nothing when MSGID has no translation.
po_format() {
	python3 - "$PO" "$@" <<'EOF'
import ast, sys
po, msgid, args = sys.argv[1], sys.argv[2], tuple(sys.argv[3:])
table, key, cur, part = {}, None, None, None
def flush():
    if key is not None and cur is not None:
        table[key] = cur
for line in open(po, encoding="utf-8"):
    line = line.strip()
    if line.startswith("msgid "):
        flush()
        key, cur, part = ast.literal_eval(line[6:]), None, "id"
    elif line.startswith("msgstr "):
        cur, part = ast.literal_eval(line[7:]), "str"
    elif line.startswith('"') and part == "id":
        key += ast.literal_eval(line)
    elif line.startswith('"') and part == "str":
        cur += ast.literal_eval(line)
    else:
        part = None
flush()
s = table.get(msgid)
if s:
    print(s % args)
EOF
}

TAB=$(printf '\t')
A=70759028-01 # a valid UBN and serial
B=70759028-02 # the same organisation's second account
C=12345675-01 # valid, never created
BAD_ID=70759029-01 # fails the UBN checksum

create() { # create ID ORG [OPTION...]
	cr_id=$1
	cr_org=$2
	shift 2
	adm account create --id "$cr_id" --org-en "$cr_org" --products ssl \
		--supervisor-name "Chen Mei" \
		--supervisor-email "mei.chen@example.com" "$@"
}

# ---- help and usage before any store is opened ---------------------------

expect_rc "--help exits 0" 0 "$ADMIN" --help
has "--help prints the usage" "$tap_out" "account create"
expect_rc "--version exits 0" 0 "$ADMIN" --version
has "--version names the program" "$tap_out" "mssl-admin"

new_store "$T/nostore"
NOCONF=$T/nostore/mssl.conf
NODB=$T/nostore/mssl.db
expect_rc "no command: exit 2" 2 "$ADMIN" --config "$NOCONF"
has "no command: usage on stderr" "$tap_err" "Usage:"
expect_rc "unknown command: exit 2" 2 "$ADMIN" --config "$NOCONF" frobnicate
has "unknown command: named on stderr" "$tap_err" "frobnicate"
expect_rc "unknown verb: exit 2" 2 "$ADMIN" --config "$NOCONF" account frob
has "unknown verb: named on stderr" "$tap_err" "account frob"
expect_rc "unknown global option: exit 2" 2 \
	"$ADMIN" --config "$NOCONF" --frobnicate account list
has "unknown global option: named on stderr" "$tap_err" "--frobnicate"
check "usage errors before the command: store not even created" \
	test ! -e "$NODB"
# The header of mssl-admin.c: "2 bad usage or input (nothing written)".
# A usage error of the command's own arguments must not create the store.
expect_rc "command usage error: exit 2" 2 \
	"$ADMIN" --config "$NOCONF" account show
check "command usage error: store not created" test ! -e "$NODB"
rm -f "$NODB" "$NODB-wal" "$NODB-shm"

# ---- accounts --------------------------------------------------------------

expect_rc "account create" 0 create "$A" "Acme Trading Co., Ltd." \
	--org-zh "艾克米貿易股份有限公司" --supervisor-phone "+886-2-2345-6789"
has "account create: confirms" "$tap_out" "$A"
is "account create: one account row" \
	"$(sql "SELECT id, org_name_en, status FROM accounts")" \
	"$A|Acme Trading Co., Ltd.|1"
is "account create: supervisor contact row" \
	"$(sql "SELECT kind, name, email FROM contacts WHERE account_id = '$A'")" \
	"supervisor|Chen Mei|mei.chen@example.com"
is "account create: audited" "$(last_audit)" "account.create ok"
expect_rc "account create --json" 0 adm --json account create --id "$B" \
	--org-en "Acme Services Ltd" --products ssl,wildcard \
	--supervisor-name "Lin Wei" --supervisor-email lin.wei@example.com
json_ok "account create --json: id and status" "$tap_out" \
	"d == {'id': '$B', 'status': 'created'}"

expect_rc "domain add" 0 adm domain add "$A" acme.com.tw
has "domain add: confirms" "$tap_out" "acme.com.tw"
expect_rc "domain add, upper case" 0 adm domain add "$A" WWW.Acme-Group.COM
is "domain rows" \
	"$(sql "SELECT name FROM domains WHERE account_id = '$A' ORDER BY name")" \
	"acme.com.tw
www.acme-group.com"

expect_rc "account show" 0 adm account show "$A"
has "account show: account ID" "$tap_out" "$A"
has "account show: organisation name" "$tap_out" "Acme Trading Co., Ltd."
has "account show: Chinese name" "$tap_out" "艾克米貿易股份有限公司"
check "account show: balance" \
	grep -Eq '^Cert-year balance:[[:space:]]+0$' "$tap_out"
has "account show: domain" "$tap_out" "acme.com.tw"
has "account show: normalised domain" "$tap_out" "www.acme-group.com"
has "account show: supervisor" "$tap_out" "[supervisor] Chen Mei <mei.chen@example.com>"
expect_rc "account show --json" 0 adm --json account show "$A"
json_ok "account show --json: fields" "$tap_out" "
d['id'] == '$A' and d['org_name_en'] == 'Acme Trading Co., Ltd.' and
d['org_name_zh'] == '艾克米貿易股份有限公司' and d['products'] == 'ssl' and
d['status'] == 'active' and d['balance'] == 0 and
d['created'].endswith('Z') and
d['domains'] == ['acme.com.tw', 'www.acme-group.com'] and
len(d['contacts']) == 1 and d['contacts'][0]['kind'] == 'supervisor' and
d['contacts'][0]['phone'] == '+886-2-2345-6789'"
refused "account show, no such account" 1 account.not_found \
	adm account show "$C"

expect_rc "account list" 0 adm account list
has "account list: header" "$tap_out" "ORGANISATION"
has "account list: first account" "$tap_out" "Acme Trading Co., Ltd."
has "account list: second account" "$tap_out" "Acme Services Ltd"
is "account list: header and two lines" "$(wc -l <"$tap_out" | tr -d ' ')" 3
expect_rc "account list --json" 0 adm --json account list
json_ok "account list --json: both accounts in ID order" "$tap_out" \
	"[a['id'] for a in d] == ['$A', '$B'] and
	 d[1]['products'] == 'ssl,wildcard' and d[1]['balance'] == 0"

# ---- bad usage: exit 2, nothing written -------------------------------------

unchanged "unknown option" adm account create --id "$C" \
	--org-en "New Co" --products ssl --supervisor-name X \
	--supervisor-email x@example.com --colour blue
has "unknown option: named" "$tap_err" "--colour"
unchanged "missing required option" adm account create --id "$C" \
	--org-en "New Co" --products ssl --supervisor-name X
has "missing required option: named" "$tap_err" "--supervisor-email"
unchanged "option without its value" adm account create --id
unchanged "flag given a value" adm domain add "$A" acme.org --force=yes
unchanged "extra argument" adm account show "$A" extra
has "extra argument: named" "$tap_err" "extra"
unchanged "missing argument" adm domain add "$A"
unchanged "non-numeric years" adm topup "$A" three
has "non-numeric years: names the input" "$tap_err" "three"
unchanged "fractional years" adm topup "$A" 1.5
unchanged "years beyond int32" adm topup "$A" 99999999999
unchanged "non-numeric --limit" adm ledger show "$A" --limit ten
unchanged "negative --limit" adm ledger show "$A" --limit -1
unchanged "--expires-days 0" adm notice add --title T --body B \
	--expires-days 0
unchanged "--from 0" adm audit export --from 0
unchanged "suspend without --reason" adm account suspend "$A"
unchanged "contact add without --email" adm contact add "$A" --name X
unchanged "ledger check with two IDs" adm ledger check "$A" "$B"
unchanged "--json usage error" adm --json account show

# ---- bad input: exit 2 naming the rule, nothing but the refusal audited ------

refused "bad account ID checksum" 2 account.id_checksum \
	create "$BAD_ID" "Bad Sum Ltd"
is "bad account ID checksum: no account row" \
	"$(sql "SELECT count(*) FROM accounts WHERE id = '$BAD_ID'")" 0
refused "malformed account ID" 2 account.id_format create 7075902801 "X Ltd"
refused "bad supervisor e-mail" 2 email.invalid \
	adm account create --id "$C" --org-en "Mail Ltd" --products ssl \
	--supervisor-name X --supervisor-email "not an address"
is "bad e-mail: no account row" \
	"$(sql "SELECT count(*) FROM accounts WHERE id = '$C'")" 0
refused "EV without jurisdiction" 2 account.ev_country \
	create "$C" "EV Ltd" --products ev
refused "non-ASCII English name" 2 account.org_name_en \
	create "$C" "艾克米"
data_snapshot >"$T/before"
expect_rc "unknown product: exit 2" 2 create "$C" "P Ltd" --products gold
has "unknown product: [products.unknown]" "$tap_err" "[products.unknown]"
data_snapshot >"$T/after"
check "unknown product: no data written" cmp -s "$T/before" "$T/after"

refused "public-suffix domain" 2 domain.public_suffix adm domain add "$A" com.tw
has "public-suffix domain: names it" "$tap_err" "com.tw"
refused "IP address domain" 2 domain.ip_address adm domain add "$A" 192.0.2.10
refused "IDN domain" 2 domain.idn adm domain add "$A" "例子.tw"
refused "single-label domain" 2 domain.single_label adm domain add "$A" intranet
is "bad domains: no domain rows" \
	"$(sql "SELECT count(*) FROM domains WHERE name IN
		('com.tw', '192.0.2.10', '例子.tw', 'intranet')")" 0

# ---- refused: exit 1, nothing written -------------------------------------------

refused "duplicate account" 1 account.exists create "$A" "Another Name Ltd"
is "duplicate account: name unchanged" \
	"$(sql "SELECT org_name_en FROM accounts WHERE id = '$A'")" \
	"Acme Trading Co., Ltd."
refused "domain agreed to another account" 1 domain.other_account \
	adm domain add "$B" acme.com.tw
has "domain agreed to another account: names it" "$tap_err" "$A"
is "domain of another account: no row for the second" \
	"$(sql "SELECT count(*) FROM domains WHERE account_id = '$B'")" 0
expect_rc "domain agreed to another account, --force" 0 \
	adm domain add "$B" acme.com.tw --force
is "--force: row added" \
	"$(sql "SELECT count(*) FROM domains WHERE name = 'acme.com.tw'")" 2
sql "SELECT detail FROM audit ORDER BY seq DESC LIMIT 1" >"$T/detail"
has "--force: audited as forced" "$T/detail" "forced: also agreed to $A"
refused "domain agreed twice to the same account" 1 domain.exists \
	adm domain add "$A" www.acme-group.com
refused "remove a domain not agreed" 1 domain.not_found \
	adm domain remove "$A" not-agreed.com.tw
expect_rc "domain remove" 0 adm domain remove "$B" ACME.com.tw
is "domain remove: row gone" \
	"$(sql "SELECT count(*) FROM domains WHERE account_id = '$B'")" 0
expect_rc "domain list --json" 0 adm --json domain list "$A"
json_ok "domain list --json" "$tap_out" \
	"[x['domain'] for x in d] == ['acme.com.tw', 'www.acme-group.com']"

# ---- error shape with --json ---------------------------------------------------

CHECKSUM_MSGID='The account ID %s does not start with a valid unified business number: %.8s fails its checksum; check it for a mistyped digit.'
ZH_CHECKSUM=$(po_format "$CHECKSUM_MSGID" "$BAD_ID" "${BAD_ID%-*}")
check "po/zh_TW.po translates the checksum message" test -n "$ZH_CHECKSUM"

expect_rc "--json bad input: exit 2" 2 adm --json account create --id "$BAD_ID" \
	--org-en "Bad Sum Ltd" --products ssl --supervisor-name X \
	--supervisor-email x@example.com
empty "--json bad input: nothing on stdout" "$tap_out"
cp "$tap_err" "$T/json-err"
json_ok "--json error shape" "$T/json-err" \
	"list(d) == ['error'] and
	 sorted(d['error']) == ['code', 'field', 'message', 'message_zh', 'status']"
json_ok "--json error: code, status, field" "$T/json-err" \
	"d['error']['code'] == 'account.id_checksum' and
	 d['error']['status'] == 'MSSL_EINPUT' and d['error']['field'] == 'id'"
json_ok "--json error: English message names the ID" "$T/json-err" \
	"'$BAD_ID' in d['error']['message'] and d['error']['message'].isascii()"
json_ok "--json error: message_zh non-empty, not the English one" \
	"$T/json-err" \
	"d['error']['message_zh'] and
	 d['error']['message_zh'] != d['error']['message'] and
	 not d['error']['message_zh'].isascii()"
json_ok "--json error: message_zh is the po translation" "$T/json-err" \
	"d['error']['message_zh'] == '''$ZH_CHECKSUM'''"
expect_rc "--json public suffix: exit 2" 2 adm --json domain add "$A" com.tw
json_ok "--json public suffix: code, field, both languages" "$tap_err" \
	"d['error']['code'] == 'domain.public_suffix' and
	 d['error']['field'] == 'domain' and
	 d['error']['message_zh'] and
	 d['error']['message_zh'] != d['error']['message']"
expect_rc "--json refusal: exit 1" 1 adm --json adjust "$A" -5 --memo x
json_ok "--json refusal: code, status, field" "$tap_err" \
	"d['error']['code'] == 'ledger.balance' and
	 d['error']['status'] == 'MSSL_EBALANCE' and
	 d['error']['field'] == 'delta' and d['error']['message_zh']"
expect_rc "--json not found: exit 1" 1 adm --json account show "$C"
json_ok "--json not found: null-free shape" "$tap_err" \
	"d['error']['code'] == 'account.not_found' and
	 d['error']['status'] == 'MSSL_ENOENT'"

# ---- messages in Traditional Chinese ------------------------------------------

zh_case() { # zh_case NAME ENV...: the checksum refusal in Chinese
	zc_name=$1
	shift
	expect_rc "$zc_name: exit 2" 2 env "$@" "$ADMIN" --config "$CONF" \
		account create --id "$BAD_ID" --org-en "Bad Sum Ltd" \
		--products ssl --supervisor-name X --supervisor-email x@example.com
	has "$zc_name: the zh_TW translation" "$tap_err" "$ZH_CHECKSUM"
	lacks "$zc_name: not the English message" "$tap_err" "fails its checksum"
	has "$zc_name: rule id kept" "$tap_err" "[account.id_checksum]"
}
zh_case "LANG=zh_TW.UTF-8" LANG=zh_TW.UTF-8
zh_case "LANG=zh_TW.UTF-8 LANGUAGE=zh_TW" LANG=zh_TW.UTF-8 LANGUAGE=zh_TW
zh_case "LANGUAGE=zh_TW alone" LANGUAGE=zh_TW
expect_rc "LANGUAGE=en overrides LANG=zh_TW: exit 2" 2 \
	env LANG=zh_TW.UTF-8 LANGUAGE=en "$ADMIN" --config "$CONF" \
	domain add "$A" com.tw
has "LANGUAGE=en overrides LANG=zh_TW: English" "$tap_err" "is a public suffix"
expect_rc "LANG=zh_TW.UTF-8, public suffix: exit 2" 2 \
	env LANG=zh_TW.UTF-8 "$ADMIN" --config "$CONF" domain add "$A" com.tw
lacks "LANG=zh_TW.UTF-8, public suffix: not English" "$tap_err" \
	"is a public suffix"
check "LANG=zh_TW.UTF-8, public suffix: non-ASCII text" \
	python3 -c 'import sys; sys.exit(open(sys.argv[1], "rb").read().isascii())' \
	"$tap_err"

# ---- cert-years: top-up, adjust, ledger ------------------------------------------

expect_rc "topup" 0 adm topup "$A" 10 --memo "first sale"
has "topup: new balance" "$tap_out" "balance 10"
expect_rc "topup --json" 0 adm --json topup "$A" 5
json_ok "topup --json" "$tap_out" \
	"d == {'account': '$A', 'delta': 5, 'balance': 15}"
expect_rc "adjust" 0 adm adjust "$A" -3 --memo "correction"
has "adjust: new balance" "$tap_out" "balance 12"
refused "adjust below zero" 1 ledger.balance adm adjust "$A" -13 --memo "too much"
has "adjust below zero: names the balance" "$tap_err" "12"
refused "adjust without memo" 2 ledger.memo adm adjust "$A" -1
refused "adjust by zero" 2 ledger.delta adm adjust "$A" 0 --memo nothing
refused "topup of zero" 2 ledger.years adm topup "$A" 0
refused "topup of a negative number" 2 ledger.years adm topup "$A" -4
refused "topup, no such account" 1 account.not_found adm topup "$C" 1
is "ledger rows" \
	"$(sql "SELECT id, kind, delta, balance_after, actor, ifnull(memo, '-')
		FROM ledger ORDER BY id")" \
	"1|1|10|10|operator:mssl-test-operator|first sale
2|1|5|15|operator:mssl-test-operator|-
3|4|-3|12|operator:mssl-test-operator|correction" 
expect_rc "account show after top-ups" 0 adm --json account show "$A"
json_ok "account show: balance 12" "$tap_out" "d['balance'] == 12"

expect_rc "ledger show" 0 adm ledger show "$A"
is "ledger show: newest first" "$(sed 1d "$tap_out" | cut -c1-6 | tr -d ' ' | tr '\n' ' ')" "3 2 1 "
has "ledger show: memo" "$tap_out" "first sale"
has "ledger show: actor" "$tap_out" "operator:mssl-test-operator"
expect_rc "ledger show --json" 0 adm --json ledger show "$A"
json_ok "ledger show --json: newest first, kinds and balances" "$tap_out" \
	"[(e['id'], e['kind'], e['delta'], e['balance_after']) for e in d] ==
	 [(3, 'adjustment', -3, 12), (2, 'top-up', 5, 15), (1, 'top-up', 10, 10)]
	 and d[2]['memo'] == 'first sale' and d[1]['memo'] is None and
	 d[0]['certificate'] is None and
	 d[0]['actor'] == 'operator:mssl-test-operator'"
expect_rc "ledger show --limit 2" 0 adm --json ledger show "$A" --limit 2
json_ok "ledger show --limit 2: the two newest" "$tap_out" \
	"[e['id'] for e in d] == [3, 2]"
expect_rc "ledger show --oldest-first" 0 adm --json ledger show "$A" --oldest-first
json_ok "ledger show --oldest-first" "$tap_out" "[e['id'] for e in d] == [1, 2, 3]"
expect_rc "ledger show --oldest-first --offset 1 --limit 1" 0 \
	adm --json ledger show "$A" --oldest-first --offset 1 --limit 1
json_ok "ledger show --offset 1 --limit 1" "$tap_out" "[e['id'] for e in d] == [2]"
expect_rc "ledger show of an account without entries" 0 adm --json ledger show "$B"
json_ok "ledger show: empty" "$tap_out" "d == []"

expect_rc "ledger check" 0 adm ledger check
has "ledger check: entries counted" "$tap_out" "3 entries"
expect_rc "ledger check --json" 0 adm --json ledger check "$A"
json_ok "ledger check --json" "$tap_out" "d == {'consistent': True, 'entries': 3}"
sql "UPDATE ledger SET balance_after = 16 WHERE id = 2" ||
	tap_bail "cannot corrupt the ledger"
expect_rc "corrupt ledger: check fails" 1 adm ledger check
has "corrupt ledger: [ledger.chain]" "$tap_err" "[ledger.chain]"
has "corrupt ledger: names the account" "$tap_err" "$A"
has "corrupt ledger: names the entry" "$tap_err" "entry 2"
expect_rc "corrupt ledger: check of that account fails" 1 adm ledger check "$A"
expect_rc "corrupt ledger: other account still consistent" 0 \
	adm ledger check "$B"
sql "UPDATE ledger SET balance_after = 15 WHERE id = 2"
sql "UPDATE ledger SET balance_after = 11 WHERE id = 3"
expect_rc "corrupt last entry: check fails" 1 adm --json ledger check
json_ok "corrupt last entry: names account and entry 3" "$tap_err" \
	"d['error']['status'] == 'MSSL_ELEDGER' and
	 '$A' in d['error']['message'] and 'entry 3' in d['error']['message']"
sql "UPDATE ledger SET balance_after = 12 WHERE id = 3"
expect_rc "repaired ledger: check passes" 0 adm ledger check

# ---- contacts, settings, suspension ----------------------------------------------

expect_rc "contact add" 0 adm contact add "$A" --kind technical \
	--name "Wang Tech" --email tech@acme.com.tw --phone "+886-2-1111-2222"
# Contact 1 is A's supervisor, 2 is B's.
has "contact add: names the new contact" "$tap_out" "Contact 3"
expect_rc "contact add --json, default kind" 0 adm --json contact add "$A" \
	--name "Huang Other" --email other@acme.com.tw
json_ok "contact add --json" "$tap_out" "d == {'account': '$A', 'id': 4}"
refused "contact add, bad e-mail" 2 email.invalid \
	adm contact add "$A" --name X --email "x@"
refused "contact add, bad kind" 2 contact.kind \
	adm contact add "$A" --kind boss --name X --email x@example.com
expect_rc "contact list" 0 adm contact list "$A"
has "contact list: technical contact" "$tap_out" "tech@acme.com.tw"
has "contact list: phone" "$tap_out" "+886-2-1111-2222"
expect_rc "contact list --json" 0 adm --json contact list "$A"
json_ok "contact list --json" "$tap_out" \
	"[(c['id'], c['kind']) for c in d] ==
	 [(1, 'supervisor'), (3, 'technical'), (4, 'other')] and
	 d[2]['phone'] is None and d[1]['email'] == 'tech@acme.com.tw'"

expect_rc "account set org_name_zh" 0 adm account set "$B" org_name_zh "艾克米服務"
is "account set: stored" \
	"$(sql "SELECT org_name_zh FROM accounts WHERE id = '$B'")" "艾克米服務"
expect_rc "account set --json" 0 adm --json account set "$B" org_name_en "Acme Svc Ltd"
json_ok "account set --json" "$tap_out" \
	"d == {'id': '$B', 'key': 'org_name_en', 'value': 'Acme Svc Ltd'}"
refused "account set, unknown key" 2 account.key adm account set "$B" colour blue
has "account set, unknown key: named" "$tap_err" "colour"
refused "account set, EV without jurisdiction" 2 account.ev_country \
	adm account set "$B" products ev
refused "account set, no such account" 1 account.not_found \
	adm account set "$C" org_name_zh X

expect_rc "account suspend" 0 adm account suspend "$B" --reason "unpaid invoice"
is "account suspend: stored" "$(sql "SELECT status FROM accounts WHERE id = '$B'")" 2
is "account suspend: reason audited" \
	"$(sql "SELECT detail FROM audit ORDER BY seq DESC LIMIT 1")" \
	"suspended: unpaid invoice"
expect_rc "account show of a suspended account" 0 adm --json account show "$B"
json_ok "account show: suspended" "$tap_out" "d['status'] == 'suspended'"
refused "suspend twice" 1 account.status \
	adm account suspend "$B" --reason "again"
unchanged "resume with an empty reason" adm account resume "$B" --reason ""
expect_rc "account resume --json" 0 adm --json account resume "$B" --reason "paid"
json_ok "account resume --json" "$tap_out" "d == {'id': '$B', 'status': 'active'}"
refused "resume twice" 1 account.status adm account resume "$B" --reason "again"

# ---- notices ----------------------------------------------------------------------

expect_rc "notice add, everyone" 0 adm notice add --title "Maintenance" \
	--body "Sunday 02:00-04:00"
has "notice add: confirms" "$tap_out" "Notice 1"
expect_rc "notice add, one account" 0 adm --json notice add --account "$A" \
	--title "Renew soon" --body "Two certificates expire this month."
json_ok "notice add --json" "$tap_out" "d == {'id': 2}"
NOW=$(date +%s)
expect_rc "notice add --expires-days" 0 adm notice add --title "Price change" \
	--body "From next month." --expires-days 7
refused "notice add, no such account" 1 account.not_found \
	adm notice add --account "$C" --title T --body B
is "notice rows" \
	"$(sql "SELECT id, ifnull(account_id, '-'), title FROM notices ORDER BY id")" \
	"1|-|Maintenance
2|$A|Renew soon
3|-|Price change"
expect_rc "notice list" 0 adm notice list
has "notice list: global" "$tap_out" "Maintenance"
has "notice list: for everyone" "$tap_out" "[everyone]"
has "notice list: per account" "$tap_out" "[$A] Renew soon"
expect_rc "notice list --json" 0 adm --json notice list
json_ok "notice list --json: all, newest first" "$tap_out" \
	"[n['id'] for n in d] == [3, 2, 1] and d[1]['account'] == '$A' and
	 d[2]['account'] is None and d[2]['expires'] is None and
	 d[0]['author'] == 'operator:mssl-test-operator'"
json_ok "notice list --json: expires in 7 days" "$tap_out" "
__import__('calendar').timegm(__import__('time').strptime(
    d[0]['expires'], '%Y-%m-%dT%H:%M:%SZ')) - $NOW in range(7 * 86400 - 60,
                                                        7 * 86400 + 60)"
expect_rc "notice list --account other" 0 adm --json notice list --account "$B"
json_ok "notice list --account: global ones, not another account's" \
	"$tap_out" "[n['id'] for n in d] == [3, 1]"
sql "UPDATE notices SET expires = 1 WHERE id = 3"
expect_rc "notice list after expiry" 0 adm --json notice list --account "$A"
json_ok "notice list: expired notice gone" "$tap_out" "[n['id'] for n in d] == [2, 1]"

# ---- configuration ------------------------------------------------------------------

expect_rc "MSSL_CONFIG without --config" 0 \
	env MSSL_CONFIG="$CONF" "$ADMIN" --json account list
json_ok "MSSL_CONFIG: the same store" "$tap_out" "len(d) == 2"
cat >"$T/bad.conf" <<EOF
[mssl]
plugin_dir = $MSSL_PLUGIN_BUILDDIR
store = store-sqlite
frobnicate = yes

[store-sqlite]
path = $DB
EOF
full_snapshot >"$T/before"
expect_rc "unknown config key: exit 2" 2 env MSSL_CONFIG="$T/bad.conf" \
	"$ADMIN" account list
has "unknown config key: FILE:LINE:" "$tap_err" "$T/bad.conf:4:"
has "unknown config key: the key" "$tap_err" "frobnicate"
has "unknown config key: rule id" "$tap_err" "[config.unknown_key]"
sed 's/^frobnicate = yes$/log_level = info/; s/^path = /pth = /' \
	"$T/bad.conf" >"$T/bad2.conf"
expect_rc "unknown store key: exit 2" 2 "$ADMIN" --config "$T/bad2.conf" \
	--json account list
json_ok "unknown store key: --json names FILE:LINE: and key" "$tap_err" \
	"d['error']['status'] == 'MSSL_ECONFIG' and
	 '$T/bad2.conf:7:' in d['error']['message'] and
	 'pth' in d['error']['message']"
expect_rc "missing config file: exit 2" 2 "$ADMIN" --config "$T/none.conf" \
	account list
has "missing config file: named" "$tap_err" "$T/none.conf"
full_snapshot >"$T/after"
check "config errors: nothing written" cmp -s "$T/before" "$T/after"
expect_rc "--config wins over MSSL_CONFIG" 0 env MSSL_CONFIG="$T/bad.conf" \
	"$ADMIN" --config "$CONF" account show "$A"

# ---- audit log ------------------------------------------------------------------------

check "audit rows cannot be changed in place (trigger)" \
	sh -c "! sqlite3 -batch '$DB' \"UPDATE audit SET detail = 'x' WHERE seq = 1\" 2>/dev/null"

N=$(audit_count)
expect_rc "audit verify" 0 adm audit verify
has "audit verify: record count" "$tap_out" "$N records"
is "audit verify: audited" "$(last_audit)" "audit.verify ok"
N=$(audit_count)
expect_rc "audit verify --json" 0 adm --json audit verify
json_ok "audit verify --json" "$tap_out" "d == {'intact': True, 'records': $N}"

N=$(audit_count)
expect_rc "audit export" 0 adm audit export
# The export is audited before its first line, so it shows its own record.
N=$(audit_count)
is "audit export: one line per record" "$(wc -l <"$tap_out" | tr -d ' ')" "$N"
check "audit export: 10 tab-separated fields, seq 1..N in order" \
	awk -F '\t' -v n="$N" 'NF != 10 || $1 != NR { bad = 1 }
		END { exit bad || NR != n }' "$tap_out"
cut -f 10 "$tap_out" >"$T/got"
sql "SELECT lower(hex(hash)) FROM audit WHERE seq <= $N ORDER BY seq" >"$T/want"
check "audit export: hashes as stored" cmp "$T/got" "$T/want"
has "audit export: operator and remote" "$tap_out" \
	"operator:mssl-test-operator${TAB}local:uid=$(id -u)"
has "audit export: refusals recorded" "$tap_out" "refused${TAB}ledger.balance:"
expect_rc "audit export --from 5" 0 adm audit export --from 5
is "audit export --from 5: starts at 5" "$(head -n 1 "$tap_out" | cut -f 1)" 5
is "audit export --from 5: the rest" "$(wc -l <"$tap_out" | tr -d ' ')" \
	"$(($(audit_count) - 4))"
expect_rc "audit export --json --from 3" 0 adm --json audit export --from 3
sql "SELECT seq, lower(hex(hash)) FROM audit WHERE seq >= 3 AND seq <= $(audit_count)
	ORDER BY seq" >"$T/hashes"
json_ok "audit export --json: seq and hash of each record" "$tap_out" "
[(r['seq'], r['hash']) for r in d] ==
[(int(s), h) for s, h in (l.strip().split('|') for l in open('$T/hashes'))]
and all(set(r) >= {'seq', 'time', 'role', 'actor', 'account', 'action',
                   'object', 'outcome', 'detail', 'hash'} for r in d)
and d[0]['role'] == 'operator' and d[0]['actor'] == 'mssl-test-operator'"

# Text typed by the operator (here a notice title, which is the record's
# object) must not break the export's one-record-per-line format.
new_store "$T/tsv"
CONF=$T/tsv/mssl.conf
DB=$T/tsv/mssl.db
expect_rc "notice title with a tab and a newline" 0 adm notice add \
	--title "Closed${TAB}Monday
2	2026-01-01T00:00:00Z	operator:forged" --body B
expect_rc "audit export of it" 0 adm audit export
check "audit export: still one line of 10 fields per record" \
	awk -F '\t' -v n="$(audit_count)" 'NF != 10 || $1 != NR { bad = 1 }
		END { exit bad || NR != n }' "$tap_out"

# Tampering, each on a store of its own (opened through MSSL_CONFIG).
# seed: seven operations and a passing verify: 8 records, then the
# checked verify of tamper_case makes 9.
seed() {
	create "$A" "Acme Trading Co., Ltd." >/dev/null &&
		adm domain add "$A" acme.com.tw >/dev/null &&
		adm topup "$A" 10 >/dev/null &&
		adm adjust "$A" -2 --memo fix >/dev/null &&
		adm contact add "$A" --name Y --email y@example.com >/dev/null &&
		adm notice add --title T --body B >/dev/null &&
		adm account list >/dev/null &&
		adm audit verify >/dev/null
}
tamper_case() { # tamper_case NAME SQL PYTHON-CHECK-OF-THE-JSON-ERROR
	new_store "$T/$1"
	CONF=$T/$1/mssl.conf
	DB=$T/$1/mssl.db
	seed || tap_bail "cannot seed the store for $1"
	expect_rc "$1: verify passes before" 0 \
		env MSSL_CONFIG="$CONF" "$ADMIN" audit verify
	has "$1: 8 records" "$tap_out" "8 records"
	sql "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; $2" ||
		tap_bail "cannot tamper with $DB"
	expect_rc "$1: verify fails" 1 \
		env MSSL_CONFIG="$CONF" "$ADMIN" --json audit verify
	json_ok "$1: error names the place" "$tap_err" \
		"d['error']['status'] == 'MSSL_ETAMPER' and ($3)"
	expect_rc "$1: verify fails again (the failure did not heal it)" 1 \
		env MSSL_CONFIG="$CONF" "$ADMIN" audit verify
	check "$1: human message has the rule id" \
		grep -q '\[audit\.[a-z]*\]' "$tap_err"
}
tamper_case edit-middle \
	"UPDATE audit SET actor_name = 'mallory' WHERE seq = 4" \
	"d['error']['code'] == 'audit.altered' and
	 __import__('re').search(r'\b4\b', d['error']['message'])"
tamper_case edit-middle-detail \
	"UPDATE audit SET detail = 'top-up +1 balance 1 entry 1' WHERE seq = 3" \
	"d['error']['code'] == 'audit.altered' and
	 __import__('re').search(r'\b3\b', d['error']['message'])"
tamper_case delete-middle \
	"DELETE FROM audit WHERE seq = 5" \
	"d['error']['code'] == 'audit.gap' and
	 __import__('re').search(r'\b5\b', d['error']['message'])"
tamper_case delete-last \
	"DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)" \
	"d['error']['code'] == 'audit.head' and
	 __import__('re').search(r'\b8\b', d['error']['message']) and
	 __import__('re').search(r'\b9\b', d['error']['message'])"
tamper_case swap \
	"UPDATE audit SET seq = -3 WHERE seq = 3;
	 UPDATE audit SET seq = 3 WHERE seq = 6;
	 UPDATE audit SET seq = 6 WHERE seq = -3" \
	"d['error']['code'] in ('audit.link', 'audit.altered', 'audit.gap') and
	 __import__('re').search(r'\b3\b', d['error']['message'])"

tap_done
