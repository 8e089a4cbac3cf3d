#!/bin/sh
# Lint: man pages clean under mandoc -Tlint, no banned C functions.
top=$(cd "$(dirname "$0")/.." && pwd)
rc=0
for page in "$top"/man/*.[0-9]; do
	[ -f "$page" ] || continue
	out=$(mandoc -Tlint -W warning "$page" 2>&1)
	if [ -n "$out" ]; then
		echo "$out"
		rc=1
	fi
done
# Functions that make overflows easy (curl's checksrc and OpenBSD habits).
if grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok)\(' "$top"/src/*.c; then
	echo "banned function used (see above)"
	rc=1
fi
# The clients and the state file know records, not decisions.
if grep -n '#include "policy.h"' "$top"/src/qbit.[ch] "$top"/src/arr.[ch] \
    "$top"/src/state.[ch] "$top"/src/http.[ch] "$top"/src/records.[ch]; then
	echo "a client or the state module includes policy.h (see above)"
	rc=1
fi
# No two objects need each other: the modules depend one way.
if ls "$top"/build/rel/*.o >/dev/null 2>&1; then
	cycles=$(for o in "$top"/build/rel/*.o; do
		n=$(basename "$o" .o)
		nm --defined-only -g "$o" | awk -v n="$n" 'NF == 3 { print "D", n, $3 }'
		nm -u "$o" | awk -v n="$n" '{ print "U", n, $NF }'
	done | awk '$1 == "D" { def[$3] = $2; next }
		{ use[NR] = $2 " " $3 }
		END {
			for (i in use) {
				split(use[i], u, " ")
				if ((u[2] in def) && def[u[2]] != u[1])
					need[u[1] " " def[u[2]]] = 1
			}
			for (k in need) {
				split(k, p, " ")
				if ((p[2] " " p[1]) in need && p[1] < p[2])
					print p[1] ".o and " p[2] ".o need each other"
			}
		}')
	if [ -n "$cycles" ]; then
		echo "$cycles"
		rc=1
	fi
fi
exit $rc
