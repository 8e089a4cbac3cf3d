#!/bin/sh
# Run the test suites and print one closing line "N passed, N failed".
#   run-tests.sh unit BIN...         cmocka unit tests (sanitizer build)
#   run-tests.sh integration         real qbittorrent-nox + fake Arrs
#   run-tests.sh all BIN...          lint + unit + integration
#   run-tests.sh valgrind            one full sweep of the test setup under valgrind
# The integration suite runs in a private network namespace when we are root,
# so nothing can leave the machine and ports never clash.
mode=$1
shift
top=$(cd "$(dirname "$0")/.." && pwd)
log=$(mktemp -d "${TMPDIR:-/tmp}/qbitrr-tests.XXXXXX")
passed=0
failed=0

count() {	# count TAP lines of file $1
	p=$(grep -c '^ok ' "$1")
	f=$(grep -c '^not ok ' "$1")
	passed=$((passed + p))
	failed=$((failed + f))
}

run_lint() {
	if sh "$top/tests/lint.sh" >"$log/lint.out" 2>&1; then
		echo "ok - lint"
		passed=$((passed + 1))
	else
		echo "not ok - lint"
		sed 's/^/# /' "$log/lint.out"
		failed=$((failed + 1))
	fi
}

run_unit() {
	for bin in "$@"; do
		name=$(basename "$bin")
		CMOCKA_MESSAGE_OUTPUT=TAP "$bin" >"$log/$name.out" 2>&1
		rc=$?
		count "$log/$name.out"
		# A failure shows its own diagnostics (cmocka's "# ..." lines after it).
		awk '/^not ok/ {show=1} /^ok/ {show=0} show' "$log/$name.out" | sed "s/^/$name: /"
		if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log/$name.out"; then
			echo "not ok - $name exited $rc"
			tail -20 "$log/$name.out" | sed 's/^/# /'
			failed=$((failed + 1))
		fi
		echo "$name: $(grep -c '^ok ' "$log/$name.out") passed"
	done
}

run_integration() {
	export QBITRR_SWEEP="${QBITRR_SWEEP:-$top/build/san/qbitrr-sweep}"
	# The newer qbittorrent-nox builds (test_versions.py) need the Debian
	# archive when missing: build them before the network goes away.
	if ! sh "$top/tests/qbt-versions.sh" ensure trixie sid >"$log/qbt-versions.out"; then
		echo "not ok - qbittorrent-nox builds (tests/qbt-versions.sh)"
		failed=$((failed + 1))
	fi
	cmd="python3 $top/tests/integration/run.py $*"
	if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
	    unshare --net true 2>/dev/null; then
		unshare --net sh -c "ip link set lo up && $cmd" >"$log/integration.out" 2>&1
	else
		sh -c "$cmd" >"$log/integration.out" 2>&1
	fi
	rc=$?
	cat "$log/integration.out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed'
	count "$log/integration.out"
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log/integration.out"; then
		echo "not ok - integration suite exited $rc"
		failed=$((failed + 1))
	fi
}

case $mode in
unit)	run_unit "$@" ;;
integration)	run_integration ;;
all)	run_lint; run_unit "$@"; run_integration ;;
valgrind)
	QBITRR_SWEEP="$top/build/hooks/qbitrr-sweep" QBITRR_VALGRIND=1 run_integration -k valgrind ;;
*)	echo "usage: run-tests.sh unit|integration|all|valgrind" >&2; exit 64 ;;
esac
rm -rf "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
