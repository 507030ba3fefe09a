#!/bin/sh
# The CSR corpus: every case under tests/data/csr/<case>/ is a request
# made by real tools and its expected findings (curl's tests/data/testN);
# each runs through "mssl-admin --json check" against the accounts of
# tests/data/csr/account.sh, with every validator of the tree configured.
# One TAP test point a case.  tests/data/csr/make-corpus.sh made the
# requests and wrote the expect files; its header describes their format.
#
# For a quick look at a few cases:
#	MSSL_CORPUS_CASES="ip-cn ev-ok" make check TESTS=tests/test-corpus.sh
# MSSL_CORPUS_VALIDATORS replaces the validator list (to try a corpus
# against part of the validators; cases then fail as they should).

: "${MSSL_TOP_BUILDDIR:?run me through make check (MSSL_TOP_BUILDDIR)}"
: "${MSSL_PLUGIN_BUILDDIR:?run me through make check (MSSL_PLUGIN_BUILDDIR)}"
: "${MSSL_TEST_SRCDIR:=$(cd "$(dirname "$0")" && pwd)}"
: "${MSSL_LOCALEDIR:=$MSSL_TOP_BUILDDIR/locale}"
export MSSL_LOCALEDIR

. "$MSSL_TEST_SRCDIR/tap.sh"

ADMIN=$MSSL_TOP_BUILDDIR/daemon/mssl-admin
CORPUS=$MSSL_TEST_SRCDIR/data/csr
VALIDATORS=${MSSL_CORPUS_VALIDATORS:-validate-names, validate-domains, validate-org, validate-key, validate-ev}
[ -x "$ADMIN" ] || tap_bail "$ADMIN is not built"
[ -d "$CORPUS" ] || tap_bail "no corpus at $CORPUS"
command -v sqlite3 >/dev/null || tap_bail "the sqlite3 program is needed"
command -v python3 >/dev/null || tap_bail "python3 is needed"
for v in $(echo "$VALIDATORS" | tr ',' ' '); do
	[ -e "$MSSL_PLUGIN_BUILDDIR/$v.so" ] ||
		tap_bail "validator $v is not built ($MSSL_PLUGIN_BUILDDIR/$v.so)"
done

# English messages, no configuration from the caller.
unset LC_ALL LC_MESSAGES LANGUAGE MSSL_CONFIG
LANG=C
SUDO_USER=mssl-corpus
export LANG SUDO_USER

T=$(mktemp -d "${TMPDIR:-/tmp}/test-corpus.XXXXXX") ||
	tap_bail "cannot create a temporary directory"
trap 'rm -rf "$T"; tap_cleanup' EXIT
trap 'exit 1' HUP INT TERM

# conf FILE [VALIDATORS]: a configuration for the store $T/mssl.db.
conf() {
	{
		echo "[mssl]"
		echo "plugin_dir = $MSSL_PLUGIN_BUILDDIR"
		echo "store = store-sqlite"
		[ -z "${2-}" ] || echo "validators = $2"
		echo
		echo "[store-sqlite]"
		echo "path = $T/mssl.db"
		echo "synchronous = off"
	} >"$1"
}
conf "$T/mssl.conf" "$VALIDATORS"
conf "$T/none.conf"

sh "$CORPUS/account.sh" "$ADMIN" "$T/mssl.conf" "$T/mssl.db" \
	>"$T/setup.log" 2>&1 || {
	sed 's/^/# /' "$T/setup.log"
	tap_bail "tests/data/csr/account.sh failed"
}

# compare.py EXPECT STDOUT STDERR RC: the verdict on one case; on a
# mismatch it prints the differences as TAP comments and exits 1.
cat >"$T/compare.py" <<'EOF'
import json
import sys

expect_path, out_path, err_path, rc = sys.argv[1:5]
rc = int(rc)
problems = []
want = {"exit": None, "error": None, "key": None}
codes, values, verdicts = set(), [], []

for n, line in enumerate(open(expect_path, encoding="utf-8"), 1):
    line = line.rstrip("\n")
    if not line.strip() or line.lstrip().startswith("#"):
        continue
    word, _, rest = line.partition(" ")
    rest = rest.strip()
    if word == "finding":
        code, _, value = rest.partition(" ")
        codes.add(code)
        if value:
            values.append((code, value))
    elif word in ("accepted", "refused"):
        verdicts.append((rest, word == "accepted"))
    elif word in ("exit", "error", "key"):
        want[word] = rest
    elif word in ("account", "product", "renew", "validators"):
        pass
    else:
        problems.append("expect line %d: unknown item %r" % (n, word))

if want["exit"] is None:
    problems.append("expect has no exit line")
elif rc != int(want["exit"]):
    problems.append("exit status %d, expected %s" % (rc, want["exit"]))


def load(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    try:
        return json.loads(text), None
    except ValueError as e:
        return None, "%s: not JSON (%s): %s" % (path.rsplit("/", 1)[-1],
                                               e, text[:300])


if want["error"] is not None or rc == 2:
    err, why = load(err_path)
    got = err.get("error", {}).get("code") if isinstance(err, dict) else None
    if why:
        problems.append(why)
    elif got != want["error"]:
        problems.append("error %s, expected %s" % (got, want["error"]))
    if problems:
        print("\n".join("# " + p for p in problems))
    sys.exit(1 if problems else 0)

report, why = load(out_path)
if why:
    problems.append(why)
    errtext = open(err_path, encoding="utf-8", errors="replace").read()
    if errtext:
        problems.append("stderr: " + errtext[:300])
    print("\n".join("# " + p for p in problems))
    sys.exit(1)

findings = report.get("findings", [])
strict = {f["code"] for f in findings if f["severity"] != "notice"}
found = {f["code"] for f in findings}
missing = sorted(codes - found)
extra = sorted(strict - codes)
if missing or extra:
    problems.append("findings differ:")
    problems.append("  expected: " + " ".join(sorted(codes)))
    problems.append("  actual:   " + " ".join(
        "%s(%s)" % (f["code"], f["severity"]) for f in findings))
    for c in missing:
        problems.append("  - " + c)
    for c in extra:
        problems.append("  + " + c + ": " + " | ".join(
            "%s = %s" % (f["field"], f["value"])
            for f in findings if f["code"] == c))
for code, value in values:
    if code in found and not any(f["code"] == code and f["value"] == value
                                 for f in findings):
        problems.append("%s has no finding with value %r (values: %s)" % (
            code, value, ", ".join(repr(f["value"]) for f in findings
                                   if f["code"] == code)))
names = {v["name"]: v for v in report.get("names", [])}
for name, accepted in verdicts:
    v = names.get(name)
    if v is None:
        problems.append("no verdict for %r" % name)
    elif v["accepted"] != accepted:
        problems.append("%r is %s, expected %s (rule: %s)" % (
            name, "accepted" if v["accepted"] else "refused",
            "accepted" if accepted else "refused", v["rule"]))
if report.get("issuable") != (rc == 0):
    problems.append("issuable is %s with exit status %d" % (
        report.get("issuable"), rc))
if want["key"] is not None:
    k = report.get("key", {})
    got = " ".join(str(x) for x in (k.get("algorithm"), k.get("bits"),
                                    k.get("curve")) if x is not None)
    if got != want["key"]:
        problems.append("key %r, expected %r" % (got, want["key"]))
if problems:
    print("\n".join("# " + p for p in problems))
sys.exit(1 if problems else 0)
EOF

# item NAME EXPECT: the value of an item of an expect file.
item() {
	sed -n "s/^$1 //p" "$2" | head -n 1
}

cases=${MSSL_CORPUS_CASES:-$(cd "$CORPUS" && for d in */; do
	[ -f "$d/expect" ] && echo "${d%/}"
done)}
[ -n "$cases" ] || tap_bail "the corpus has no cases"

for c in $cases; do
	e=$CORPUS/$c/expect
	if [ ! -f "$e" ]; then
		tap_not_ok "$c"
		tap_diag "no such case: $e"
		continue
	fi
	csr=$CORPUS/$c/request.pem
	[ -f "$csr" ] || csr=$CORPUS/$c/request.der
	account=$(item account "$e")
	product=$(item product "$e")
	renew=$(item renew "$e")
	config=$T/mssl.conf
	[ "$(item validators "$e")" != none ] || config=$T/none.conf
	set -- --config "$config" --json check \
		--account "${account:-70759028-01}" --csr "$csr" \
		--product "${product:-ssl}"
	[ -z "$renew" ] || set -- "$@" --renew "$renew"
	run "$ADMIN" "$@"
	if python3 "$T/compare.py" "$e" "$tap_out" "$tap_err" "$tap_rc" \
		>"$T/diff"; then
		tap_ok "$c"
	else
		tap_not_ok "$c"
		tap_diag "$(sed -n '1p' "$e" | sed 's/^# *//')" \
			"mssl-admin $*"
		cat "$T/diff"
	fi
done

tap_done
