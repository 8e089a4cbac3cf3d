#!/bin/sh
# Install the Debian packages the build and the tests need, when missing.
# Without root (or without apt-get) print the exact command instead.
PKGS="gcc make pkg-config libcurl4-openssl-dev libjansson-dev libsqlite3-dev
libinih-dev libcmocka-dev qbittorrent-nox python3 sqlite3 jq mandoc iproute2
util-linux valgrind chromium curl"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null 2>&1 || true
	# shellcheck disable=SC2086
	apt-get install -y -qq $missing >/dev/null || {
		echo "apt-get install failed; run as root: apt-get install$missing" >&2
		exit 1
	}
	exit 0
fi
echo "qbitrr-sweep needs these Debian packages; as root run:" >&2
echo "  apt-get install$missing" >&2
exit 1
