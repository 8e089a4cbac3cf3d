#!/bin/sh
# Prove the README's two commands on a fresh Debian 12: a minbase tree with
# only git, make and ca-certificates (made by debootstrap, cached as a tarball
# between runs; nothing installed later is ever cached), a clone of this
# repository's HEAD inside it, then `make demo` and `make check` as a new
# user would type them.  Run as root; CI runs it from .ci/run.
#
#   FRESH_RUNS=3 sh tests/fresh-debian.sh    make check three times in a row
#   FRESH_KEEP=1                              keep the tree afterwards
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${QBITRR_CACHE:-/var/cache/qbitrr-sweep}
base=$cache/bookworm-base.tar.gz
runs=${FRESH_RUNS:-1}

say() { printf 'fresh-debian: %s\n' "$*" >&2; }
now() { date +%s; }

[ "$(id -u)" = 0 ] || { say "needs root (debootstrap, chroot)"; exit 1; }
start=$(now)
# The base tree: debootstrap once, then reuse the tarball.
if [ ! -s "$base" ]; then
	command -v debootstrap >/dev/null 2>&1 || sh "$top/tests/deps.sh" check || exit 1
	mirror=$(sh "$top/tests/debian-mirror.sh") || exit 1
	mkdir -p "$cache" || exit 1
	tmp=$(mktemp -d "$cache/bookworm-base.XXXXXX") || exit 1
	say "debootstrap bookworm (only git, make, ca-certificates) from $mirror"
	if ! debootstrap --variant=minbase --include=git,make,ca-certificates \
	    bookworm "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
		tail -20 "$tmp/debootstrap.log" >&2
		say "debootstrap failed"
		rm -rf "$tmp"
		exit 1
	fi
	# Written beside, renamed into place: a killed run never leaves half a cache.
	tar -C "$tmp/root" -czf "$tmp/base.tar.gz" . && mv "$tmp/base.tar.gz" "$base" || {
		rm -rf "$tmp"; exit 1; }
	rm -rf "$tmp"
	say "base tree cached in $base ($(($(now) - start)) s)"
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/qbitrr-fresh.XXXXXX") || exit 1
root=$work/root
cleanup() { [ -n "${FRESH_KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$root" && tar -C "$root" -xzf "$base" || exit 1
git clone -q --no-local "$top" "$root/root/qbitrr-sweep" || exit 1
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null

# What the user types, first the demo, then the test suite $runs times.
script='cd /root/qbitrr-sweep || exit 1
t0=$(date +%s)
echo "fresh-debian: make demo"
make demo || { echo "fresh-debian: make demo failed"; exit 1; }
echo "fresh-debian: make demo took $(($(date +%s) - t0)) s"
i=1
while [ $i -le '"$runs"' ]; do
	t0=$(date +%s)
	echo "fresh-debian: make check (run $i)"
	make check || { echo "fresh-debian: make check run $i failed"; exit 1; }
	echo "fresh-debian: make check run $i took $(($(date +%s) - t0)) s"
	i=$((i + 1))
done'

# A private mount namespace: every mount below goes away with it.
unshare --mount --propagation private sh -c '
	root=$1; script=$2
	# The tree is its own mount, as / is on a real machine (unshare --mount
	# inside it needs that).
	mount --bind "$root" "$root" &&
	mount --rbind /dev "$root/dev" &&
	mount -t proc proc "$root/proc" &&
	mount -t sysfs sysfs "$root/sys" &&
	mount -t tmpfs tmpfs "$root/tmp" || exit 1
	exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    sh -c "$script"' sh "$root" "$script"
rc=$?
say "finished with exit $rc after $(($(now) - start)) s"
exit $rc
