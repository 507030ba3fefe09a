#!/bin/sh
# Count test results from the automake .trs files under the given build
# directories and print "N passed, N failed" (", N skipped" when any).
set -eu
pass=0 fail=0 skip=0
for d in "$@"; do
	for t in $(find "$d" -name '*.trs' 2>/dev/null); do
		p=$(grep -c '^:test-result: PASS' "$t" || true)
		x=$(grep -c '^:test-result: XFAIL' "$t" || true)
		f=$(grep -c -E '^:test-result: (FAIL|ERROR|XPASS)' "$t" || true)
		s=$(grep -c '^:test-result: SKIP' "$t" || true)
		pass=$((pass + p + x))
		fail=$((fail + f))
		skip=$((skip + s))
	done
done
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
