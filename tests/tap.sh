# tests/tap.sh: TAP helpers for the shell tests.  Source it, make
# assertions, end with tap_done (which prints the plan; a plan missing
# because the script died half way is an error).  POSIX sh; no 'local',
# so helpers use tap_-prefixed variables.
#
#   run CMD...                   run CMD: stdout in $tap_out, stderr in
#                                $tap_err (files), exit status in $tap_rc
#   expect_rc NAME RC CMD...     run CMD and assert its exit status
#   check NAME CMD...            pass when CMD succeeds (e.g. test ...)
#   is NAME GOT WANT             string equality
#   has NAME FILE TEXT           FILE contains the fixed string TEXT
#   lacks NAME FILE TEXT         FILE does not contain TEXT
#   empty NAME FILE              FILE is empty
#   json_ok NAME FILE EXPR       FILE parses as JSON and the Python
#                                expression EXPR over it (as 'd') is true
#   tap_skip NAME REASON, tap_diag TEXT..., tap_bail REASON

tap_n=0
tap_failed=0
tap_dir=$(mktemp -d "${TMPDIR:-/tmp}/tap.XXXXXX") || {
	echo "Bail out! cannot create a temporary directory"
	exit 99
}
tap_out=$tap_dir/stdout
tap_err=$tap_dir/stderr
tap_rc=0
: >"$tap_out"
: >"$tap_err"

# Scripts that set their own EXIT trap call this from it.
tap_cleanup() {
	rm -rf "$tap_dir"
}
trap tap_cleanup EXIT

tap_diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# Show what the last command printed (after a failure).
tap_show() {
	if [ -s "$tap_out" ]; then
		echo "# stdout:"
		sed 's/^/#   /' "$tap_out" | head -n 40
	fi
	if [ -s "$tap_err" ]; then
		echo "# stderr:"
		sed 's/^/#   /' "$tap_err" | head -n 40
	fi
}

tap_ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}

tap_not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
}

tap_skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

tap_bail() {
	echo "Bail out! $*"
	exit 99
}

# The driver counts the failures; a script that reaches its end exits 0
# (a non-zero exit would add an ERROR for the same failures).
tap_done() {
	echo "1..$tap_n"
	if [ "$tap_failed" -ne 0 ]; then
		echo "# $tap_failed of $tap_n failed"
	fi
	exit 0
}

run() {
	"$@" >"$tap_out" 2>"$tap_err"
	tap_rc=$?
	return 0
}

expect_rc() {
	tap_name=$1
	tap_want=$2
	shift 2
	run "$@"
	if [ "$tap_rc" -eq "$tap_want" ]; then
		tap_ok "$tap_name"
	else
		tap_not_ok "$tap_name"
		tap_diag "exit status $tap_rc, expected $tap_want: $*"
		tap_show
	fi
}

check() {
	tap_name=$1
	shift
	if "$@"; then
		tap_ok "$tap_name"
	else
		tap_not_ok "$tap_name"
		tap_diag "failed: $*"
	fi
}

is() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		tap_diag "got:      '$2'" "expected: '$3'"
	fi
}

has() {
	if grep -F -e "$3" "$2" >/dev/null 2>&1; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		tap_diag "$2 lacks: $3"
		sed 's/^/#   /' "$2" | head -n 40
	fi
}

lacks() {
	if grep -F -e "$3" "$2" >/dev/null 2>&1; then
		tap_not_ok "$1"
		tap_diag "$2 should not contain: $3"
		sed 's/^/#   /' "$2" | head -n 40
	else
		tap_ok "$1"
	fi
}

empty() {
	if [ -s "$2" ]; then
		tap_not_ok "$1"
		tap_diag "$2 should be empty"
		sed 's/^/#   /' "$2" | head -n 40
	else
		tap_ok "$1"
	fi
}

json_ok() {
	if python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[1], encoding="utf-8"))
except ValueError as e:
    print("# not JSON: %s" % e)
    sys.exit(1)
try:
    ok = eval("(" + sys.argv[2] + "\n)")
except Exception as e:
    print("# %s: %s" % (type(e).__name__, e))
    ok = False
sys.exit(0 if ok else 1)
' "$2" "$3"; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		tap_diag "JSON check failed: $3"
		sed 's/^/#   /' "$2" | head -n 60
	fi
}
