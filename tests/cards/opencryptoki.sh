#!/bin/sh
# tests/cards/opencryptoki.sh: an opencryptoki software token as a test
# card that counts wrong PINs and locks like a real one (../shared
# CARDS.md).  It needs root: its slot daemon pkcsslotd and its token
# directory are the system's.
#
#   opencryptoki.sh start DIR [OWNER_PID]
#   opencryptoki.sh blank DIR [OWNER_PID]
#   opencryptoki.sh stop DIR
#
# start: wipes the software token's directory (found with dpkg -L
# opencryptoki), starts pkcsslotd, initialises the token (label
# "mssl-ock", SO PIN $MSSL_OCK_SO_PIN, user PIN $MSSL_CARD_PIN), generates
# an RSA-2048 key pair on it (CKA_ID 01) with a self-signed certificate,
# and writes DIR/ock.env (OCK_MODULE, OCK_STDLL_DIR: where its token
# libraries are, OCK_LABEL, OCK_PIN, OCK_SO_PIN),
# DIR/mssl-ock.pub.der and DIR/mssl-ock.crt.der (read back from the card).
# blank: as start, but leaves the token uninitialised, as a card arrives
# for enrolment (C_InitToken is then the test's to do, once: initialising
# it again breaks it); DIR/ock.env has OCK_MODULE, OCK_STDLL_DIR and
# OCK_SO_PIN, the token's own default SO PIN.
# stop: stops that pkcsslotd by its PID and wipes the token again.
#
# Only one test run at a time may own the token: a lock directory names
# the owner's PID (OWNER_PID, default the caller); others wait for it
# (up to $MSSL_TEST_OCK_WAIT seconds, default 300), and take over from a
# run that died.  Exit 77 (skip) with the reason on stderr when the token
# cannot be used here: not root, not installed, a pkcsslotd someone else
# started, a token these tests did not make (MSSL_TEST_OCK_WIPE=1 allows
# wiping it).
set -eu

cmd=${1:?usage: opencryptoki.sh start|blank|stop DIR [OWNER_PID]}
dir=${2:?usage: opencryptoki.sh start|blank|stop DIR [OWNER_PID]}
owner=${3:-$PPID}
pin=${MSSL_CARD_PIN:-12345678}
# opencryptoki's own default SO PIN; the card gets another one.
default_so=87654321
so_pin=${MSSL_OCK_SO_PIN:-55667788}
label=mssl-ock
lock=/run/lock/mssl-test-opencryptoki
marker=.mssl-test-token

skip() {
	echo "$*" >&2
	exit 77
}

# The package's files, as dpkg knows them.
pkgfile() {
	dpkg -L "$1" 2>/dev/null | grep -e "$2" | head -n 1
}

alive() {
	[ -n "$1" ] && [ -r "/proc/$1/comm" ] &&
		[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}

slotd_pidfile() {
	for f in /run/opencryptoki/pkcsslotd.pid /var/run/pkcsslotd.pid; do
		if [ -f "$f" ]; then
			echo "$f"
			return
		fi
	done
	echo /var/run/pkcsslotd.pid
}

stop_slotd() {
	p=$1
	alive "$p" pkcsslotd || return 0
	kill "$p" 2>/dev/null || true
	i=0
	while alive "$p" pkcsslotd && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if alive "$p" pkcsslotd; then
		kill -9 "$p" 2>/dev/null || true
	fi
}

# Empty the token directory (keeping TOK_OBJ) and its shared memory.
wipe() {
	rm -rf "${state:?}"/* "$state/$marker"
	mkdir -p "$state/TOK_OBJ"
	chgrp pkcs11 "$state" "$state/TOK_OBJ" 2>/dev/null || true
	chmod 0770 "$state" "$state/TOK_OBJ"
	rm -f "/dev/shm/$(echo "${state#/}" | tr / .)"
}

q() {
	if ! "$@" >"$dir/.out" 2>&1; then
		echo "opencryptoki.sh: failed: $*" >&2
		cat "$dir/.out" >&2
		exit 1
	fi
}

[ "$(id -u)" = 0 ] || skip "opencryptoki needs root (pkcsslotd and its token directory)"
dpkg -s opencryptoki >/dev/null 2>&1 ||
	skip "opencryptoki is not installed (Debian package opencryptoki)"
state=$(pkgfile opencryptoki '/swtok$')
module=$(pkgfile libopencryptoki0 '/pkcs11/libopencryptoki\.so$')
[ -n "$module" ] || module=$(pkgfile opencryptoki '/pkcs11/libopencryptoki\.so$')
slotd=$(command -v pkcsslotd || echo /usr/sbin/pkcsslotd)
[ -n "$state" ] && [ -d "$state" ] || skip "opencryptoki's swtok directory is missing"
[ -n "$module" ] && [ -f "$module" ] || skip "libopencryptoki.so is missing"
[ -x "$slotd" ] || skip "pkcsslotd is missing"
command -v pkcs11-tool >/dev/null 2>&1 || skip "pkcs11-tool is missing (Debian package opensc)"

case $cmd in
start | blank)
	mkdir -p "$dir"
	# Tests run in parallel (make -j check): wait for the owner.
	waited=0
	while ! mkdir "$lock" 2>/dev/null; do
		prev=$(cat "$lock/owner" 2>/dev/null || true)
		if [ -n "$prev" ] && kill -0 "$prev" 2>/dev/null; then
			[ $waited -lt $((${MSSL_TEST_OCK_WAIT:-300} * 10)) ] ||
				skip "another test run (pid $prev) kept the opencryptoki token too long"
			sleep 0.1
			waited=$((waited + 1))
			continue
		fi
		if [ -z "$prev" ] && [ $waited -lt 20 ]; then
			# Just made by another run, owner not written yet.
			sleep 0.1
			waited=$((waited + 1))
			continue
		fi
		# A run that died: stop what it left running, take over.
		stop_slotd "$(cat "$lock/slotd" 2>/dev/null || true)"
		[ -f "$state/$marker" ] && wipe
		rm -rf "$lock"
	done
	echo "$owner" >"$lock/owner"
	trap 'rm -rf "$lock"' EXIT
	pidfile=$(slotd_pidfile)
	running=$(cat "$pidfile" 2>/dev/null || true)
	alive "$running" pkcsslotd &&
		skip "pkcsslotd is already running (pid $running): not touching a token in use"
	if [ -f "$state/NVTOK.DAT" ] && [ ! -f "$state/$marker" ] &&
		[ "${MSSL_TEST_OCK_WIPE:-0}" != 1 ]; then
		skip "$state holds a token these tests did not make (MSSL_TEST_OCK_WIPE=1 to wipe it)"
	fi
	wipe
	: >"$state/$marker"
	# What its tmpfiles.d snippet makes at boot, for containers.
	for d in /var/lock/opencryptoki /var/lock/opencryptoki/swtok \
		/var/log/opencryptoki; do
		mkdir -p "$d"
		chgrp pkcs11 "$d" 2>/dev/null || true
		chmod 0770 "$d"
	done
	rm -f "$pidfile"
	if ! "$slotd" >"$dir/.out" 2>&1; then
		cat "$dir/.out" >&2
		skip "pkcsslotd does not start here"
	fi
	i=0
	while [ ! -s "$pidfile" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	slotd_pid=$(cat "$pidfile" 2>/dev/null || true)
	alive "$slotd_pid" pkcsslotd || skip "pkcsslotd did not stay up"
	echo "$slotd_pid" >"$lock/slotd"
	echo "$slotd_pid" >"$dir/pkcsslotd.pid"
	trap - EXIT
	stdll=$(pkgfile libopencryptoki0 '/stdll/libpkcs11_sw\.so')
	stdll=${stdll%/*}
	if [ "$cmd" = blank ]; then
		rm -f "$dir/.out"
		cat >"$dir/ock.env" <<ENV
OCK_MODULE=$module
OCK_STDLL_DIR=$stdll
OCK_SO_PIN=$default_so
ENV
		exit 0
	fi

	p11="pkcs11-tool --module $module"
	q $p11 --init-token --label "$label" --so-pin "$default_so"
	q $p11 --token-label "$label" --login --login-type so \
		--so-pin "$default_so" --change-pin --new-pin "$so_pin"
	q $p11 --token-label "$label" --login --login-type so \
		--so-pin "$so_pin" --init-pin --pin "$pin"
	q $p11 --token-label "$label" --login --pin "$pin" --keypairgen \
		--key-type rsa:2048 --id 01 --label login
	cat >"$dir/$label.tmpl" <<TMPL
cn = "mssl test card $label"
organization = "mssl tests"
serial = 1
expiration_days = 365
signing_key
tls_www_client
TMPL
	GNUTLS_PIN=$pin q certtool --provider "$module" \
		--generate-self-signed \
		--load-privkey "pkcs11:token=$label;id=%01;type=private" \
		--load-pubkey "pkcs11:token=$label;id=%01;type=public" \
		--template "$dir/$label.tmpl" \
		--outder --outfile "$dir/$label.self.der"
	q $p11 --token-label "$label" --login --pin "$pin" \
		--write-object "$dir/$label.self.der" --type cert --id 01 \
		--label login
	q $p11 --token-label "$label" --read-object --type pubkey --id 01 \
		-o "$dir/$label.pub.der"
	q $p11 --token-label "$label" --read-object --type cert --id 01 \
		-o "$dir/$label.crt.der"
	rm -f "$dir/.out"
	cat >"$dir/ock.env" <<ENV
OCK_MODULE=$module
OCK_STDLL_DIR=$stdll
OCK_LABEL=$label
OCK_PIN=$pin
OCK_SO_PIN=$so_pin
ENV
	;;
stop)
	# Only the daemon this run started, by the PID it recorded.
	stop_slotd "$(cat "$dir/pkcsslotd.pid" 2>/dev/null || true)"
	rm -f "$dir/pkcsslotd.pid"
	if [ -f "$state/$marker" ]; then
		wipe
	fi
	rm -rf "$lock"
	;;
*)
	echo "usage: opencryptoki.sh start|blank|stop DIR [OWNER_PID]" >&2
	exit 2
	;;
esac
