#!/bin/sh
# memcheck_grok.sh: the grok binary under valgrind memcheck, one short
# session of every command (`make valgrind`; tests/memcheck.sh runs the
# test binaries themselves).
#
#   sh tests/memcheck_grok.sh GROK OUTDIR
#
# The end-to-end tests of the suite start grok hundreds of times, too slow
# under memcheck on a small machine; this is their reduced form: a p = 13
# transformer trained 40 epochs with checkpoints, measures and figures, then
# resumed to 60, and info, verify, measure, plot (run figures, panels,
# compare), view, export to npz, safetensors and ipynb, import of the
# exported npz and of the checkpoints, a two-point sweep (local pool) with
# its status and summary, reproduce --list, bench (one thread: its 1024^3
# sgemm alone takes minutes under memcheck), help; and the refusals:
# a config with a syntax error (libconfig's own leak, suppressed by
# tests/valgrind.supp), a value out of range, `@include ""`, a flipped bit
# in a checkpoint (resume, verify, measure, export refuse it), a missing run,
# a damaged .npz.  Each command runs under memcheck with the exit code it
# must give; an invalid access, a use of uninitialised memory, a definite or
# indirect leak is an error (exit 99 from valgrind).  Logs in OUTDIR
# (OUTDIR/NN-NAME.vg: valgrind's, OUTDIR/NN-NAME.out: grok's).  Prints one
# line per command and exits 1 when one failed.  Child processes that grok
# starts (gnuplot, and grok's own sweep workers, which are forks, not
# execs) are traced only while they are forks of grok.
grok=$1
out=$2
if [ -z "$grok" ] || [ -z "$out" ]; then
    echo "usage: sh tests/memcheck_grok.sh GROK OUTDIR" >&2
    exit 2
fi
vg=${VALGRIND:-valgrind}
here=$(cd "$(dirname "$0")/.." && pwd)
grok=$(cd "$(dirname "$grok")" && pwd)/$(basename "$grok")
rm -rf "$out"
mkdir -p "$out/work"
cd "$out/work" || exit 2
n=0
bad=0

# run RC NAME ARGS...: grok ARGS under memcheck, which must exit with RC.
run() {
    want=$1
    name=$2
    shift 2
    n=$((n + 1))
    tag=$(printf '%02d-%s' $n "$name")
    t0=$(date +%s)
    OMP_WAIT_POLICY=passive nice -n 10 "$vg" --tool=memcheck --leak-check=full \
        --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
        --suppressions="$here/tests/valgrind.supp" --num-callers=30 --error-exitcode=99 \
        --child-silent-after-fork=yes --log-file="../$tag.vg" $VALGRIND_FLAGS \
        "$grok" "$@" >"../$tag.out" 2>&1
    rc=$?
    t1=$(date +%s)
    errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "../$tag.vg" | tail -1)
    if [ "$rc" -eq "$want" ] && [ "${errs:-1}" -eq 0 ]; then
        st=ok
    else
        st=FAILED
        bad=1
    fi
    printf '%-26s exit %-3s (want %s) memcheck errors %s, %s s: %s\n' "$tag" "$rc" "$want" \
        "${errs:-?}" $((t1 - t0)) "$st"
}

small="--set task.p=13 --set model.d_model=32 --set model.d_mlp=64 --set model.n_heads=2
       --set model.d_head=16 --set train.epochs=40 --set train.eval_every=5
       --set checkpoint.every=10 --set checkpoint.early_until=0 --set measures.every=20
       --set plots.formats=png --threads 2 --quiet"
cfg=$here/experiments/nanda2023_mod_add.cfg

# shellcheck disable=SC2086
run 0 train train "$cfg" --out r $small
run 0 resume resume r --epochs 60 --threads 2 --quiet
run 0 info info r
run 0 verify verify r
run 0 measure measure r --threads 2
run 0 plot plot r --format png,svg
run 0 plot-panels plot r --panels loss,accuracy --name two
# shellcheck disable=SC2086
run 0 train-second train "$cfg" --out r2 $small --set seed=1 --set 'plots.formats=""'
run 0 plot-compare plot r r2 --compare --out cmp
run 0 view view r --max 3 --format svg --quiet
run 0 export-npz export r --to npz --out r.npz
run 0 export-st export r --to safetensors --out st
run 0 export-ipynb export r --to ipynb --out r.ipynb
run 0 import-npz import r.npz --out imp --threads 2 --quiet
run 0 import-st import st/*.safetensors --out imp2 --split r/split.tsv --threads 2 --quiet

cat >sweep.cfg <<EOF
name = "memcheck";
base = "$cfg";
set = {
  task = { p = 13; };
  model = { d_model = 32; d_mlp = 64; n_heads = 2; d_head = 16; };
  train = { epochs = 20; eval_every = 5; };
  checkpoint = { every = 10; early_until = 0; };
  measures = { every = 10; };
  plots = { formats = ""; };
};
axes = ( { key = "seed"; values = [0, 1]; } );
plots = { formats = "png"; };
EOF
run 0 sweep sweep sweep.cfg --out sw --jobs 2 --quiet
run 0 sweep-status sweep --status sw
run 0 sweep-summary sweep --summary sw
run 0 reproduce-list reproduce --list
run 0 bench bench "$cfg" --set task.p=13 --set model.d_model=32 --set model.d_mlp=64 --reps 1 --threads 1
run 0 help help
run 0 help-config help config

# refusals: each a clear message and exit 2
printf '"x"' >syntax.cfg
run 2 bad-syntax train syntax.cfg --out bad1
run 2 bad-range train "$cfg" --set task.p=1 --out bad2
printf '@include ""\n' >inc.cfg
run 2 bad-include train inc.cfg --out bad3
cp -r r flip
ck=$(ls flip/checkpoints/*.safetensors | tail -1)
# one bit of the last byte of the data section
size=$(wc -c <"$ck")
last=$(od -An -tu1 -j $((size - 1)) -N1 "$ck" | tr -d ' ')
printf "$(printf '\\%03o' $((last ^ 1)))" | dd of="$ck" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
run 2 flip-verify verify flip
run 2 flip-resume resume flip --epochs 80 --quiet
run 2 flip-measure measure flip
run 2 flip-export export flip --to npz --out flip.npz
run 2 missing-info info nothing-here
head -c 200 r.npz >cut.npz
run 2 bad-npz import cut.npz --out bad4 --quiet

echo "$n commands under memcheck; logs in $out"
exit $bad
