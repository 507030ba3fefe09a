#!/bin/sh
# Install the Debian 12 packages mssl needs to build, test and run, when
# they are missing, and the zh_TW.UTF-8 locale the bilingual messages use.
# Run as root.  Installs nothing when everything is there.
set -eu

PACKAGES="
autoconf automake libtool autopoint gettext pkg-config make gcc
libgnutls28-dev gnutls-bin libp11-kit-dev p11-kit opensc softhsm2
libsqlite3-dev sqlite3 libpq-dev
libuv1-dev libhttp-parser-dev libjansson-dev libinih-dev
libpsl-dev publicsuffix libidn2-dev iso-codes
libcurl4-gnutls-dev libcmocka-dev libgmp-dev locales
opencryptoki openssl python3-aiosmtpd wrk curl golang-cfssl
"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "mssl: missing Debian packages:$missing" >&2
		echo "mssl: run this as root, or: apt-get install$missing" >&2
		exit 1
	fi
	echo "mssl: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q || true
	apt-get install -y -q --no-install-recommends $missing
fi

# Traditional Chinese messages need the zh_TW.UTF-8 locale.
if ! locale -a 2>/dev/null | grep -qi '^zh_TW\.utf-\?8$'; then
	if [ "$(id -u)" = 0 ]; then
		localedef -i zh_TW -f UTF-8 zh_TW.UTF-8
	else
		echo "mssl: the zh_TW.UTF-8 locale is missing (run as root)" >&2
	fi
fi
