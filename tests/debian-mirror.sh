#!/bin/sh
# Print the Debian archive this machine's apt already uses (the first
# http(s) URI of a source that carries Debian's main archive), so the trees
# made with debootstrap come from the same registry as the host's packages.
# DEBIAN_MIRROR in the environment wins.
if [ -n "${DEBIAN_MIRROR:-}" ]; then
	echo "$DEBIAN_MIRROR"
	exit 0
fi
# deb822 .sources files first (Debian 12+), then one-line sources.list.
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\/.*\/debian\/?$/) { print $i; exit } }' "$f"
done | head -n 1 | grep . && exit 0
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\/.*\/debian\/?$/) { print $i; exit } }' "$f"
done | head -n 1 | grep . && exit 0
echo "debian-mirror.sh: no Debian archive in /etc/apt; set DEBIAN_MIRROR" >&2
exit 1
