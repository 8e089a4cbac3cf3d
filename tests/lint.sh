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
exit $rc
