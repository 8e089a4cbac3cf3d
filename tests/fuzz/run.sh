#!/bin/sh
# Fuzz the config parser, the qBittorrent/Arr JSON readers and the escaping
# of server text with libFuzzer
# (clang), each harness for FUZZ_SECONDS (default 60) over a scratch copy of
# its committed seed corpus (tests/fuzz/corpus/<harness>/).  Binaries, logs
# and any crash/leak/timeout artifacts go to build/fuzz/.  Prints one line
# per harness and a closing "N passed, N failed"; exits non-zero on any
# finding.  Called by `make fuzz`.
#
#   FUZZ_SECONDS=600 sh tests/fuzz/run.sh              all harnesses, 10 min each
#   FUZZ_SECONDS=60 sh tests/fuzz/run.sh fuzz_config   one harness
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=$top/build/fuzz
secs=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-clang}
harnesses=${*:-fuzz_config fuzz_qbit_json fuzz_arr_json fuzz_text}

case $secs in
''|*[!0-9]*) echo "FUZZ_SECONDS must be a whole number of seconds" >&2; exit 2 ;;
esac

mkdir -p "$out" || exit 1
scratch=$(mktemp -d "${TMPDIR:-/tmp}/qbitrr-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM

# Does $cc build a libFuzzer program with the sanitizers we use?
probe() {
	command -v "$cc" >/dev/null 2>&1 || return 1
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
	    >"$scratch/probe.c"
	"$cc" -fsanitize=fuzzer,address,undefined -o "$scratch/probe" \
	    "$scratch/probe.c" >"$scratch/probe.log" 2>&1
}

if ! probe; then
	# Debian: clang and the compiler-rt runtime that matches it.
	major=$("$cc" --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
	pkgs="clang libclang-rt-${major:-14}-dev"
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing: $pkgs" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >/dev/null 2>&1 || true
		# shellcheck disable=SC2086
		apt-get install -y -qq $pkgs >/dev/null || {
			echo "apt-get install failed; run as root: apt-get install $pkgs" >&2
			exit 1
		}
	fi
	if ! probe; then
		echo "make fuzz needs clang with its libFuzzer runtime; as root run:" >&2
		echo "  apt-get install $pkgs" >&2
		if [ -s "$scratch/probe.log" ]; then
			sed 's/^/  /' "$scratch/probe.log" >&2
		else
			echo "  ($cc: command not found)" >&2
		fi
		exit 1
	fi
fi

for lib in libpcre2-8 jansson libcurl; do
	pkg-config --exists "$lib" 2>/dev/null || {
		echo "missing build dependency $lib: run 'make deps'" >&2
		exit 1
	}
done

# Sources and libraries of each harness.
srcs() {
	case $1 in
	fuzz_config)	echo "config.c config_keys.c config_value.c config_msg.c" \
			    "config_print.c config_read.c log.c util.c" ;;
	fuzz_qbit_json)	echo "qbit.c qbit_info.c records.c http.c log.c util.c" ;;
	fuzz_arr_json)	echo "arr.c records.c http.c log.c util.c" ;;
	fuzz_text)	echo "log.c util.c" ;;
	esac
}
libs() {
	case $1 in
	fuzz_config)	echo "libpcre2-8" ;;
	fuzz_text)	echo "jansson" ;;
	*)		echo "jansson libcurl" ;;
	esac
}

build() {	# build harness $1 into $out/$1
	files=
	for f in $(srcs "$1"); do
		files="$files src/$f"
	done
	# shellcheck disable=SC2046,SC2086
	"$cc" -g -O1 -fno-omit-frame-pointer \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -std=c11 -D_POSIX_C_SOURCE=200809L '-DQBITRR_VERSION="fuzz"' \
	    -Wall -Wextra -Isrc $(pkg-config --cflags $(libs "$1")) \
	    -o "$out/$1" "tests/fuzz/$1.c" $files \
	    $(pkg-config --libs $(libs "$1")) >"$out/$1.build.log" 2>&1
}

passed=0
failed=0
for h in $harnesses; do
	if [ -z "$(srcs "$h")" ]; then
		echo "$h: unknown harness"
		failed=$((failed + 1))
		continue
	fi
	if ! build "$h"; then
		echo "$h: build failed"
		sed 's/^/  /' "$out/$h.build.log"
		failed=$((failed + 1))
		continue
	fi
	# Fuzz a scratch copy: the committed seed corpus never grows.
	mkdir -p "$scratch/$h" "$out/artifacts/$h"
	if [ -d "tests/fuzz/corpus/$h" ]; then
		cp "tests/fuzz/corpus/$h"/* "$scratch/$h"/ 2>/dev/null
	fi
	touch "$scratch/$h.start"
	# A smaller quarantine and allocation stacks: faster, and the peak
	# RSS stays well below the limit (a leak is still a finding).
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=32:malloc_context_size=8} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
	"$out/$h" -max_total_time="$secs" -rss_limit_mb=512 -max_len=65536 \
	    -timeout=10 -print_final_stats=1 \
	    -artifact_prefix="$out/artifacts/$h/" \
	    "$scratch/$h" >"$out/$h.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$out/$h.log" | tail -n 1)
	if [ $rc -eq 0 ] && [ -n "$runs" ]; then
		echo "$h: $secs s, $runs runs, no findings"
		passed=$((passed + 1))
	else
		what=$(grep -m 1 -E '(==[0-9]+== ?ERROR|runtime error:|^SUMMARY)' "$out/$h.log")
		echo "$h: FINDING (exit $rc): ${what:-see log}"
		find "$out/artifacts/$h" -type f -newer "$scratch/$h.start" |
		    sed "s|^$top/|  artifact: |"
		echo "  log: build/fuzz/$h.log"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
