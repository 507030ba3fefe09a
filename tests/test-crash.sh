#!/bin/sh
# Crash safety of issuance: kill -9 at each chosen point (after the
# pending row and debit are committed, after signing, just before the
# final commit), again and again; after each crash settle the pending
# rows and check that none is left, the ledger equals the balance,
# every charge has its issued certificate or its refund, serials are
# unique and the audit chain is intact.
. "${MSSL_TEST_SRCDIR:?run through make check}/tap.sh"

ADMIN=$MSSL_TOP_BUILDDIR/daemon/mssl-admin
CRASH=$MSSL_TOP_BUILDDIR/tests/crash-issue
T=$(mktemp -d "${TMPDIR:-/tmp}/test-crash.XXXXXX")
trap 'rm -rf "$T"' EXIT
A=70759028-01

"$ADMIN" ca init --dir "$T/ca" --name "Crash CA" --key-type ecdsa-p256 \
	>/dev/null 2>&1 || tap_bail "mssl-admin ca init failed"
cat >"$T/mssl.conf" <<CONF
[mssl]
plugin_dir = $MSSL_PLUGIN_BUILDDIR
store = store-sqlite
ca = ca-gnutls
validators = validate-names, validate-domains, validate-org, validate-key

[issuance]
pending_timeout_s = 1

[store-sqlite]
path = $T/mssl.db

$(cat "$T/ca/ca-gnutls.conf")
CONF
adm() { "$ADMIN" --config "$T/mssl.conf" "$@" >/dev/null 2>&1; }
sql() { sqlite3 "$T/mssl.db" "$1"; }

adm account create --id $A --org-en "Taiwan-CA Inc." --products ssl \
	--supervisor-name Wang --supervisor-email wang@twca.com.tw || tap_bail "account"
adm domain add $A twca.com.tw || tap_bail "domain"
adm topup $A 20 || tap_bail "topup"

n=0
for point in after_pending after_sign before_commit; do
	for round in 1 2; do
		n=$((n + 1))
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -keyout "$T/k$n.pem" -out "$T/r$n.pem" \
			-subj "/C=TW/L=Taipei/O=Taiwan-CA Inc./CN=h$n.twca.com.tw" \
			-addext "subjectAltName=DNS:h$n.twca.com.tw" 2>/dev/null ||
			tap_bail "openssl req"
		MSSL_CRASH_AT=$point "$CRASH" "$T/mssl.conf" $A "$T/r$n.pem" \
			>/dev/null 2>&1
		is "$point #$round: killed" "$?" 137
		is "$point #$round: left pending" \
			"$(sql "SELECT count(*) FROM certificates WHERE state='pending'")" 1
		sleep 2
		adm cert resolve-pending
		is "$point #$round: settled" \
			"$(sql "SELECT count(*) FROM certificates WHERE state='pending'")" 0
		check "$point #$round: ledger consistent" adm ledger check
		check "$point #$round: audit chain intact" adm audit verify
	done
done

# An issued certificate serves TLS: gnutls-serv with it and its chain,
# gnutls-cli trusting only the root must accept it.
echo "tls handshake pass" >"$T/pw"
"$ADMIN" --config "$T/mssl.conf" issue --account $A --csr "$T/r1.pem" \
	--vendor nginx --tech-name T --tech-email t@twca.com.tw \
	--seal-name Test --passphrase-fd 3 --out "$T/leaf.pem" \
	3<"$T/pw" >/dev/null 2>&1
is "issued with mssl-admin" "$?" 0
cat "$T/leaf.pem" "$T/ca/issuing.pem" >"$T/leaf-chain.pem"
# A port the kernel says is free, and a wait (up to 60 s: gnutls-serv is
# slow to start on a loaded machine) until the server listens on it or
# has died (the port taken after all: try another).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
listening() {
	python3 - "$1" "$2" <<'PY'
import socket, sys, time, os
port, pid = int(sys.argv[1]), int(sys.argv[2])
for _ in range(600):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            sys.exit(1)
        time.sleep(0.1)
sys.exit(1)
PY
}
ok=1
for _ in 1 2 3; do
	port=$(free_port)
	gnutls-serv --x509certfile "$T/leaf-chain.pem" \
		--x509keyfile "$T/k1.pem" --port "$port" --echo \
		>"$T/serv.out" 2>&1 &
	serv=$!
	if listening "$port" "$serv"; then
		echo ping | timeout 30 gnutls-cli --x509cafile "$T/ca/root.pem" \
			--port "$port" --verify-hostname h1.twca.com.tw \
			127.0.0.1 >"$T/cli.out" 2>&1
		ok=$?
		kill $serv 2>/dev/null
		wait $serv 2>/dev/null
		break
	fi
	kill $serv 2>/dev/null
	wait $serv 2>/dev/null
done
[ "$ok" = 0 ] || tap_diag "gnutls-serv:" "$(tail -5 "$T/serv.out")" \
	"gnutls-cli:" "$(tail -15 "$T/cli.out" 2>/dev/null)"
is "gnutls-cli accepts the issued certificate over TLS" "$ok" 0

# And issuances that are not killed still work, and are charged.
"$CRASH" "$T/mssl.conf" $A "$T/r1.pem" >/dev/null 2>&1
is "unkilled issuance succeeds" "$?" 0
is "every charge has its certificate issued or its refund" "$(sql "
	SELECT count(*) FROM ledger l WHERE l.kind = 2 AND NOT (
	  EXISTS (SELECT 1 FROM certificates c WHERE c.serial = l.cert_serial
		  AND c.state = 'issued') OR
	  EXISTS (SELECT 1 FROM ledger r WHERE r.kind = 3
		  AND r.cert_serial = l.cert_serial))")" 0
is "balance: 20 less the one issued (the reissue of h1 is free)" \
	"$(sql "SELECT balance_after FROM ledger ORDER BY id DESC LIMIT 1")" 19
is "serials unique" "$(sql "SELECT count(*) - count(DISTINCT serial) FROM certificates")" 0
is "crashed certificates failed" \
	"$(sql "SELECT count(*) FROM certificates WHERE state='failed'")" $n
tap_done
