#!/bin/sh
# sweep-report.sh: run one qbitrr-sweep sweep and mail a summary, but only
# when something happened: an action was taken (or failed), an instance
# could not be reached, or the sweep failed.  A quiet sweep mails nothing.
#
#   sweep-report.sh [qbitrr-sweep options]
#   sweep-report.sh -c /etc/qbitrr/qbitrr.ini -s /var/lib/qbitrr/qbitrr.db
#
# The arguments go to qbitrr-sweep as they are (add -n for a dry run).
# Environment:
#   QBITRR_REPORT_TO   where the mail goes (default: $MAILTO, else root)
#   QBITRR_SWEEP       the program (default: qbitrr-sweep on $PATH)
# Needs jq(1) and mail(1) (Debian: jq, bsd-mailx or mailutils).
#
# Exit status: that of qbitrr-sweep, except 75 (another run holds the lock,
# nothing to report), which gives 0.  See qbitrr-sweep(1).

set -eu

sweep=${QBITRR_SWEEP:-qbitrr-sweep}
to=${QBITRR_REPORT_TO:-${MAILTO:-root}}
host=$(uname -n)

for tool in jq mail; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "sweep-report.sh: $tool not found" >&2
		exit 69
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sweep-report.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rc=0
"$sweep" --json "$@" >"$tmp/sweep.json" 2>"$tmp/sweep.log" || rc=$?

case $rc in
75)
	# Another run is sweeping right now; it reports for itself.
	exit 0
	;;
esac

# Names, errors and reasons come from the servers: controls, line
# separators and bidi overrides are escaped (\uNNNN) before they reach a
# mail body.
safe='def hex4: [(. / 4096 | floor) % 16, (. / 256 | floor) % 16,
    (. / 16 | floor) % 16, . % 16] | map("0123456789abcdef"[.:.+1]) | join("");
def safe: tostring | [explode[] |
    if . < 32 or (. >= 127 and . < 160) or (. >= 8232 and . <= 8238) or
        (. >= 8294 and . <= 8297)
    then "\\u" + hex4 else [.] | implode end] | join("");'

report=$tmp/report
if [ -s "$tmp/sweep.json" ] &&
    jq -e 'type == "object" and has("instances") and has("actions")' \
    "$tmp/sweep.json" >/dev/null 2>&1; then
	# Counts: unreachable instances, actions in all and by result.
	down=$(jq '[.instances[] | select(.reachable | not)] | length' "$tmp/sweep.json")
	nact=$(jq '.actions | length' "$tmp/sweep.json")
	nbad=$(jq '[.actions[] | select(.result == "failed" or .result == "held")] | length' \
	    "$tmp/sweep.json")
	if [ "$down" -eq 0 ] && [ "$nact" -eq 0 ] && [ "$rc" -eq 0 ]; then
		exit 0	# nothing happened: no mail
	fi
	subject="qbitrr-sweep on $host: $nact action(s), $nbad failed or held, $down instance(s) unreachable"
	{
		printf 'qbitrr-sweep on %s, exit status %s.\n' "$host" "$rc"
		jq -r '"Started \(.started), \(.duration_ms) ms" +
		    (if .dry_run then " (dry run: nothing was changed)" else "" end) + "."' \
		    "$tmp/sweep.json"
		if [ "$down" -gt 0 ]; then
			printf '\nInstances unreachable:\n'
			jq -r "$safe"' .instances[] | select(.reachable | not) |
			    "  \(.name | safe) (\(.url | safe)): \(.error // "unknown error" | safe)"' \
			    "$tmp/sweep.json"
		fi
		if [ "$nact" -gt 0 ]; then
			printf '\nActions by result:\n'
			jq -r "$safe"' .actions | group_by(.result)[] |
			    "  \(.[0].result | safe): \(length) (" +
			    (group_by(.action) | map("\(.[0].action | safe) \(length)") | join(", ")) +
			    ")"' "$tmp/sweep.json"
			printf '\nActions:\n'
			jq -r "$safe"' .actions[] |
			    "  \(.result | safe)  \(.instance | safe)  \((.hash // "-")[0:8] | safe)  " +
			    "\(.name // .detail // "" | safe)  " +
			    "\(.action | safe)\(if .arr then " in \(.arr | safe)" else "" end)" +
			    " (\(.rule | safe): \(.reason | safe))" +
			    (if .detail and .hash then "; \(.detail | safe)" else "" end) +
			    (if .error then ": \(.error | safe)" else "" end)' "$tmp/sweep.json"
		fi
	} >"$report"
else
	# No JSON document: the sweep did not run (bad config, state file...).
	subject="qbitrr-sweep on $host failed (exit status $rc)"
	printf 'qbitrr-sweep on %s exited %s without a report.\n' "$host" "$rc" >"$report"
fi

if [ -s "$tmp/sweep.log" ]; then
	printf '\nLog:\n' >>"$report"
	sed 's/^/  /' "$tmp/sweep.log" >>"$report"
fi

mail -s "$subject" "$to" <"$report"
exit "$rc"
