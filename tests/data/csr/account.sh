#!/bin/sh
# The store the CSR corpus runs against (tests/test-corpus.sh):
#
#	sh account.sh ADMIN CONFIG DB
#
# ADMIN is the mssl-admin program, CONFIG its configuration file, DB the
# SQLite file of its [store-sqlite] section (not yet created).  Accounts,
# agreed domains and blocked keys go through mssl-admin, as an operator
# makes them; certificates, which only issuance makes, are written into
# the certificates table with sqlite3.
#
#   70759028-01  Taiwan-CA Inc.       ssl, wildcard, ev; EV: TW, Private
#                                     Organization (no state, no locality)
#                agreed: twca.com.tw, mis.twca.com.tw
#   04595257-01  Example Taiwan Ltd.  ssl only; agreed: example.com.tw
#
#   certificate 1001  70759028-01  www.twca.com.tw     issued
#               1002  70759028-01  www.twca.com.tw     revoked
#               1003  70759028-01  www.twca.com.tw     pending
#               2001  04595257-01  www.example.com.tw  issued
#
#   blocked: the key of the case key-blocked
set -eu

admin=$1
conf=$2
db=$3
dir=$(cd "$(dirname "$0")" && pwd)

adm() {
	"$admin" --config "$conf" "$@" >/dev/null
}

adm account create --id 70759028-01 --org-en "Taiwan-CA Inc." \
	--org-zh "臺灣網路認證股份有限公司" --products ssl,wildcard,ev \
	--ev-country TW --ev-category "Private Organization" \
	--supervisor-name "Chen Mei-Ling" --supervisor-email pki@twca.com.tw
adm domain add 70759028-01 twca.com.tw
adm domain add 70759028-01 mis.twca.com.tw

adm account create --id 04595257-01 --org-en "Example Taiwan Ltd." \
	--products ssl --supervisor-name "Lin Chih-Hao" \
	--supervisor-email it@example.com.tw
adm domain add 04595257-01 example.com.tw

adm key block --csr "$dir/key-blocked/request.pem" \
	--reason "CSR corpus: a key known to be compromised"

# Products: 1 ssl, 2 wildcard, 4 ev.  Times: 2025-01-01 to 2026-01-01 and
# on; only state, account and CN matter to the check.
sqlite3 -batch "$db" <<'EOF'
INSERT INTO certificates (serial, account_id, cn, product, state, years,
	not_before, not_after, requested_by, created)
VALUES ('1001', '70759028-01', 'www.twca.com.tw', 1, 'issued', 1,
	1735689600, 1767225600, 'corpus', 1735689600);
INSERT INTO certificates (serial, account_id, cn, product, state, years,
	not_before, not_after, requested_by, revoked_at, revoke_reason,
	created)
VALUES ('1002', '70759028-01', 'www.twca.com.tw', 1, 'revoked', 1,
	1735689600, 1767225600, 'corpus', 1740000000, 1, 1735689600);
INSERT INTO certificates (serial, account_id, cn, product, state, years,
	requested_by, created)
VALUES ('1003', '70759028-01', 'www.twca.com.tw', 1, 'pending', 1,
	'corpus', 1735689600);
INSERT INTO certificates (serial, account_id, cn, product, state, years,
	not_before, not_after, requested_by, created)
VALUES ('2001', '04595257-01', 'www.example.com.tw', 1, 'issued', 1,
	1735689600, 1767225600, 'corpus', 1735689600);
EOF
