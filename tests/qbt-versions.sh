#!/bin/sh
# Newer real qbittorrent-nox builds for the integration suite (issue 11).
#
#   qbt-versions.sh ensure SUITE...   build what is missing, print one
#                                     "SUITE VERSION LAUNCHER" line each
#   qbt-versions.sh path SUITE        print the cached tree's folder
#
# Each SUITE (trixie, sid, ...) is Debian's own qbittorrent-nox installed with
# debootstrap into $QBT_CACHE/qbt-SUITE (default /var/cache/qbitrr-sweep).  It
# runs from the host, not chrooted, through the tree's own loader and
# libraries (qbittorrent-lab.md section 10), via the launcher script written
# into the tree.  A tree is built in a temporary folder and renamed into place
# only when complete, so a killed build never looks like a cache.  A missing
# cache is built, never skipped: that needs root and the Debian archive.
set -u
cache=${QBT_CACHE:-/var/cache/qbitrr-sweep}
# The Debian archive the host's apt already uses (QBT_MIRROR wins).
mirror=${QBT_MIRROR:-$(sh "$(dirname "$0")/debian-mirror.sh")} || exit 1

die() { echo "qbt-versions: $*" >&2; exit 1; }

launcher_text() {	# the launcher written into a tree
	cat <<'EOF'
#!/bin/sh
# Run this tree's qbittorrent-nox from the host through the tree's loader.
d=$(cd "$(dirname "$0")" && pwd)
m=$(cat "$d/.multiarch")
ld=$(ls "$d"/lib64/ld-linux*.so.* "$d"/usr/lib/"$m"/ld-linux*.so.* 2>/dev/null | head -n 1)
QT_PLUGIN_PATH="$d/usr/lib/$m/qt6/plugins:$d/usr/lib/$m/qt5/plugins"
export QT_PLUGIN_PATH
exec "$ld" --library-path \
    "$d/usr/lib/$m:$d/lib/$m:$d/usr/lib/$m/libproxy" \
    "$d/usr/bin/qbittorrent-nox" "$@"
EOF
}

scrub() {	# remove a build folder, unmounting what debootstrap left mounted in it
	awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts 2>/dev/null |
	    sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$1"
}

build() {	# build $cache/qbt-$1 atomically
	suite=$1
	final=$cache/qbt-$suite
	[ "$(id -u)" = 0 ] || die "$final is missing and building it needs root" \
	    "(debootstrap); run as root: sh $0 ensure $suite"
	command -v debootstrap >/dev/null 2>&1 ||
	    die "debootstrap is not installed (run 'make deps')"
	mkdir -p "$cache" || die "cannot create $cache"
	# Leftovers of a killed build of this suite (we hold its lock).
	for old in "$cache"/.build-"$suite".*; do
		[ -d "$old" ] && scrub "$old"
	done
	tmp=$(mktemp -d "$cache/.build-$suite.XXXXXX") || die "mktemp in $cache failed"
	echo "qbt-versions: building qbittorrent-nox from Debian $suite into $final" \
	    "(debootstrap, a few minutes, about 350 MB)" >&2
	if ! debootstrap --variant=minbase --include=qbittorrent-nox \
	    "$suite" "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
		tail -n 20 "$tmp/debootstrap.log" >&2
		scrub "$tmp"
		die "debootstrap of $suite from $mirror failed"
	fi
	root=$tmp/root
	m=$(ls "$root/usr/lib" | grep -E -- '-linux-gnu' | head -n 1)
	[ -n "$m" ] || { scrub "$tmp"; die "$suite: no multiarch library folder"; }
	printf '%s\n' "$m" >"$root/.multiarch"
	launcher_text >"$root/qbt-run"
	chmod 755 "$root/qbt-run"
	# Prove the tree runs before it becomes the cache.
	v=$(HOME=$tmp "$root/qbt-run" --version 2>"$tmp/version.err" |
	    sed -n 's/^qBittorrent v//p')
	if [ -z "$v" ]; then
		cat "$tmp/version.err" >&2
		scrub "$tmp"
		die "$suite: the built qbittorrent-nox does not run from the host"
	fi
	printf '%s\n' "$v" >"$root/.qbt-version"
	# Trim what a test never reads.
	rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/locale" \
	    "$root/var/cache/apt/archives"/*.deb
	rm -rf "$final.old"
	[ -e "$final" ] && mv "$final" "$final.old"
	mv "$root" "$final" || { scrub "$tmp"; die "cannot move the tree to $final"; }
	scrub "$tmp"
	rm -rf "$final.old"
}

ensure() {
	for suite in "$@"; do
		case $suite in
		*[!a-z0-9-]*|'') die "bad suite name '$suite'" ;;
		esac
		final=$cache/qbt-$suite
		if [ ! -x "$final/qbt-run" ] || [ ! -s "$final/.qbt-version" ]; then
			# One builder at a time per suite; the second waits and reuses.
			mkdir -p "$cache" 2>/dev/null
			if command -v flock >/dev/null 2>&1 && [ -w "$cache" ]; then
				(
					flock 9
					[ -x "$final/qbt-run" ] && [ -s "$final/.qbt-version" ] ||
					    build "$suite"
				) 9>"$cache/.lock-$suite" || exit 1
			else
				build "$suite"
			fi
		fi
		echo "$suite $(cat "$final/.qbt-version") $final/qbt-run"
	done
}

case ${1:-} in
ensure)	shift; ensure "$@" ;;
path)	echo "$cache/qbt-$2" ;;
*)	echo "usage: qbt-versions.sh ensure SUITE... | path SUITE" >&2; exit 64 ;;
esac
