#!/bin/sh
# Quick start, command 2: install what is missing, build, run every test.
#   tools/test.sh [--sanitizers]
# Test logs stay in build/ (or build-san/); the last line counts them.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tools/deps.sh"
build="$top/build"
args=""
if [ "${1:-}" = "--sanitizers" ]; then
	build="$top/build-san"
	args="--enable-sanitizers"
fi
"$top/tools/build.sh" "$build" $args
cd "$build"
rc=0
make -j"$(nproc)" check >check.out 2>&1 || rc=$?
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP)' check.out | grep -v '^PASS' || true
[ $rc -eq 0 ] || find . -name '*.log' -path '*tests*' -newer Makefile \
	-exec grep -l -E '^(not ok|# FAIL|ERROR)' {} + 2>/dev/null |
	while read -r f; do echo "--- $f"; tail -30 "$f"; done
"$top/tools/count-tests.sh" "$build"
exit $rc
