#!/bin/sh
# Install the Debian packages a target needs, when missing:
#   deps.sh build | unit | demo | check | fuzz | bench
# Each group is only what that target uses: `make unit` needs no server,
# browser or valgrind.  Without root (or without apt-get) print the exact
# command instead.
BUILD="gcc make pkg-config libcurl4-openssl-dev libjansson-dev libsqlite3-dev
libpcre2-dev"
UNIT="$BUILD libcmocka-dev"
# The demo and the integration suite start real qbittorrent-nox instances in
# a private network namespace (unshare from util-linux, ip from iproute2).
SERVERS="qbittorrent-nox python3 iproute2 util-linux"
# debootstrap brings the newer qbittorrent-nox releases from Debian's archive
# (tests/qbt-versions.sh); the rest is what individual tests use.
CHECK="$UNIT $SERVERS sqlite3 jq mandoc valgrind chromium curl debootstrap
ca-certificates systemd shellcheck"
PKGS=
for group in "${@:-build}"; do
	case $group in
	build)	PKGS="$PKGS $BUILD" ;;
	unit)	PKGS="$PKGS $UNIT" ;;
	demo)	PKGS="$PKGS $BUILD $SERVERS" ;;
	check)	PKGS="$PKGS $CHECK" ;;
	fuzz)	PKGS="$PKGS $BUILD clang" ;;
	bench)	PKGS="$PKGS $BUILD $SERVERS curl jq" ;;
	*)	echo "deps.sh: unknown group '$group'" >&2; exit 64 ;;
	esac
done
missing=
for p in $PKGS; do
	case " $missing " in *" $p "*) continue ;; esac
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	# A fresh machine has no package lists yet: without them the install fails.
	apt-get update -qq >/dev/null 2>&1 ||
		echo "deps.sh: apt-get update failed; trying the lists we have" >&2
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
		echo "apt-get install failed; run as root: apt-get install$missing" >&2
		exit 1
	}
	exit 0
fi
echo "qbitrr-sweep needs these Debian packages; as root run:" >&2
echo "  apt-get install$missing" >&2
exit 1
