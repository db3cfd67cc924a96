#!/bin/sh
# memcheck.sh: the test suite under valgrind memcheck (`make valgrind`).
#
#   sh tests/memcheck.sh GROK OUTDIR TEST_BINARY...
#
# Runs each test binary under memcheck, one after the other, with the
# suppressions of tests/valgrind.supp (libconfig 1.5's leak, nothing else):
# an invalid read or write, a use of uninitialised memory, a bad free, a
# definite or indirect leak is an error.  The end-to-end tests start GROK (the
# ordinary binary) for their commands; those run natively here, as memcheck
# makes them 20 to 50 times slower.  GROK itself runs under memcheck in
# tests/memcheck_grok.sh, a short end-to-end session of every command
# (VALGRIND_GROK=0 leaves it out).  Each binary's valgrind log goes to
# OUTDIR/NAME.vg.PID (the fork of a test before its exec included); one line
# per binary: its exit code, its cmocka result, memcheck's error count and
# the leaked bytes, the time.  Exits 1 when a binary failed or memcheck
# found anything.  Runs under nice; VALGRIND (default valgrind) and
# VALGRIND_FLAGS add to the command.
grok=$1
out=$2
shift 2
if [ -z "$grok" ] || [ -z "$out" ] || [ $# -eq 0 ]; then
    echo "usage: sh tests/memcheck.sh GROK OUTDIR TEST_BINARY..." >&2
    exit 2
fi
vg=${VALGRIND:-valgrind}
if ! command -v "$vg" >/dev/null; then
    echo "memcheck: $vg is not installed (Debian: valgrind; make deps installs it)" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
rm -f "$out"/*.vg.*
bad=0
for t in "$@"; do
    name=$(basename "$t")
    t0=$(date +%s)
    GROK_BIN=$(cd "$(dirname "$grok")" && pwd)/$(basename "$grok") GROK_BIN_BASELINE= \
    OMP_WAIT_POLICY=passive \
        nice -n 10 "$vg" --tool=memcheck --leak-check=full \
        --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
        --suppressions="$here/tests/valgrind.supp" --num-callers=30 --error-exitcode=99 \
        --log-file="$out/$name.vg.%p" $VALGRIND_FLAGS "$t" >"$out/$name.log" 2>&1
    rc=$?
    t1=$(date +%s)
    errs=$(cat "$out/$name".vg.* | sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' |
           awk '{s += $1} END {print s + 0}')
    lost=$(cat "$out/$name".vg.* | sed -n 's/.*\(definitely\|indirectly\) lost: \([0-9,]*\) bytes.*/\2/p' |
           tr -d , | awk '{s += $1} END {print s + 0}')
    res=$(grep -E '^\[  (PASSED|FAILED)  \]' "$out/$name.log" | tail -1)
    printf '%-18s exit %-3s %-24s memcheck errors %s, leaked %s bytes, %s s\n' \
        "$name" "$rc" "${res:-(no cmocka result)}" "$errs" "$lost" $((t1 - t0))
    if [ "$rc" -ne 0 ] || [ "$errs" -ne 0 ] || [ "$lost" -ne 0 ]; then
        bad=1
        grep -l 'ERROR SUMMARY: [1-9]' "$out/$name".vg.* 2>/dev/null | sed 's/^/    see /'
    fi
done
exit $bad
