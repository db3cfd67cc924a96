#!/usr/bin/python3
"""torture.py: the kill torture (`make torture`; not part of `make test`).

A run killed with SIGKILL at any instant and resumed must end with the same
bytes as a run never interrupted.  This script checks that at many random
instants spread over the whole life of the processes, the measure pass and
the figures at the end included:

  run     a short training (a + b mod 53, checkpoints every 10 then 50
          epochs, live measures every 100, PNG figures) killed at N random
          instants (default 100), resumed after each (`grok resume`, or
          `grok train` again when the kill came before the directory held a
          config), then compared with an uninterrupted run;
  sweep   a sweep of 4 short points on a local pool of 2 workers, the whole
          process group killed at M random instants (default 20), continued
          with `grok sweep DIR` after each, compared the same way, point by
          point, with sweep.tsv;
  mpirun  the same sweep under `mpirun -np 2` (when Open MPI's mpirun is
          installed), killed M times.

Compared byte for byte: every checkpoint, metrics.tsv without its
elapsed_s column, measures.tsv and every other .tsv of the run directory
(split, manifest, fourier_embed, neurons, attention, ...), the state's
tensors but elapsed_s (and the elapsed column of its metrics tensor),
summary.json without its wall-clock fields, sweep.tsv.  Figures are checked
to exist (gnuplot's PNGs are compared too and a difference is reported, not
failed: their bytes depend on gnuplot alone).

Usage: tests/torture.py [--grok ./grok] [--kills 100] [--sweep-kills 20]
                        [--seed S] [--keep]
Exit 0 when every comparison holds; 1 otherwise, naming the files.
"""
import argparse
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

RUN_SETS = [
    "task.p=53", "optim.lr=0.003", "train.epochs=1200", "train.eval_every=10",
    "checkpoint.every=50", "checkpoint.every_early=10", "checkpoint.early_until=200",
    "measures.every=100", 'plots.formats="png"',
]
SWEEP_FILE = """
name = "torture";
set = {
  task = { p = 23; frac_train = 0.5; };
  model = { d_model = 32; d_mlp = 64; n_heads = 2; d_head = 16; };
  optim = { lr = 0.003; };
  train = { epochs = 400; eval_every = 10; };
  checkpoint = { every = 20; every_early = 10; early_until = 100; };
  measures = { every = 100; };
  plots = { formats = "png"; };
};
axes = ( { key = "optim.weight_decay"; values = [0.5, 1.0]; name = "wd"; },
         { key = "seed"; values = [0, 1]; } );
plots = { formats = "png"; };
"""
SUMMARY_CLOCK = {"wall_s", "ms_per_epoch", "threads", "blis_kernel", "blis_kernel_source",
                 "subnormals_flushed", "version"}


def st_tensors(path):
    """The tensors of a safetensors file: name -> (dtype, shape, bytes)."""
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    head = json.loads(b[8:8 + n])
    data = b[8 + n:]
    out = {}
    for k, v in head.items():
        if k == "__metadata__":
            continue
        lo, hi = v["data_offsets"]
        out[k] = (v["dtype"], tuple(v["shape"]), data[lo:hi])
    return out


def drop_column(text, name):
    lines = text.split("\n")
    head = lines[0].split("\t")
    if name not in head:
        return text
    c = head.index(name)
    return "\n".join("\t".join(x for i, x in enumerate(l.split("\t")) if i != c) if l else l
                     for l in lines)


def compare_runs(ref, got, what, problems, notes):
    """Appends to problems every difference that matters between two run dirs."""
    def fail(msg):
        problems.append("%s: %s" % (what, msg))
    for root, _, files in os.walk(ref):
        for fn in sorted(files):
            rp = os.path.join(root, fn)
            rel = os.path.relpath(rp, ref)
            gp = os.path.join(got, rel)
            if rel.endswith(".tmp") or "/.tmp" in rel:
                continue
            if not os.path.exists(gp):
                if rel not in ("log.txt",):
                    fail("%s missing" % rel)
                continue
            if rel in ("log.txt",):
                continue
            if rel == "state.safetensors":
                a, b = st_tensors(rp), st_tensors(gp)
                if set(a) != set(b):
                    fail("state tensors differ: %s vs %s" % (sorted(a), sorted(b)))
                    continue
                for k in a:
                    if k == "elapsed_s":
                        continue
                    if k == "metrics":
                        # the last column is elapsed_s (float64 rows)
                        (dt, sh, x), (_, sh2, y) = a[k], b[k]
                        if sh != sh2:
                            fail("state metrics shape %s vs %s" % (sh, sh2))
                            continue
                        cols = sh[1]
                        for r in range(sh[0]):
                            o = 8 * cols * r
                            if x[o:o + 8 * (cols - 1)] != y[o:o + 8 * (cols - 1)]:
                                fail("state metrics row %d differs" % r)
                                break
                        continue
                    if a[k] != b[k]:
                        fail("state tensor %s differs" % k)
                continue
            with open(rp, "rb") as f:
                x = f.read()
            with open(gp, "rb") as f:
                y = f.read()
            if rel == "metrics.tsv":
                x = drop_column(x.decode(), "elapsed_s").encode()
                y = drop_column(y.decode(), "elapsed_s").encode()
            elif rel == "summary.json":
                jx, jy = json.loads(x), json.loads(y)
                for k in SUMMARY_CLOCK:
                    jx.pop(k, None)
                    jy.pop(k, None)
                x, y = json.dumps(jx, sort_keys=True).encode(), json.dumps(jy, sort_keys=True).encode()
            elif rel == "sweep_time.tsv":
                continue
            if x != y:
                if rel.endswith((".png", ".pdf", ".svg")):
                    notes.append("%s: figure %s differs in bytes" % (what, rel))
                else:
                    fail("%s differs" % rel)
    for root, _, files in os.walk(got):
        for fn in files:
            rel = os.path.relpath(os.path.join(root, fn), got)
            if not os.path.exists(os.path.join(ref, rel)) and rel != "log.txt":
                fail("extra file %s" % rel)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


def torture_loop(start_cmd, next_cmd, kills, life, rng, label):
    """Starts start_cmd(), kills its process group after a random delay,
    then next_cmd() again, until `kills` kills landed; then lets the last
    session finish.  Returns (kills landed, sessions, failures)."""
    landed = sessions = 0
    failures = []
    cmd = start_cmd()
    t0 = time.time()
    while True:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             start_new_session=True)
        sessions += 1
        if landed < kills:
            delay = rng.uniform(0.0, 2.0 * life / max(kills, 1) + 0.3)
            try:
                p.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                landed += 1
                if landed % 10 == 0:
                    print("  %s: %d kills, %d sessions, %.0f s" % (label, landed, sessions,
                                                                   time.time() - t0), flush=True)
                cmd = next_cmd()
                continue
        err = p.communicate()[1].decode(errors="replace")
        if p.returncode != 0:
            lines = [l for l in err.splitlines() if "grok" in l] or err.strip().splitlines()[-3:]
            failures.append("session %d exited %d: %s" % (sessions, p.returncode,
                                                           " | ".join(lines)[-600:]))
            if len(failures) > 3:
                break
            cmd = next_cmd()
            continue
        if landed >= kills:
            break
        # finished before all kills landed: that is the end of the run
        break
    return landed, sessions, failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--grok", default="./grok")
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--sweep-kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    grok = os.path.abspath(a.grok)
    rng = random.Random(a.seed)
    work = tempfile.mkdtemp(prefix="grok-torture-")
    print("kill torture: seed %d, work in %s" % (a.seed, work), flush=True)
    problems, notes = [], []
    sets = sum((["--set", s] for s in RUN_SETS), [])

    # ---- one run ------------------------------------------------------------
    ref = os.path.join(work, "ref")
    t0 = time.time()
    r = run([grok, "train", "--out", ref, "--threads", "1", "--quiet"] + sets)
    life = time.time() - t0
    if r.returncode != 0:
        print(r.stderr.decode())
        sys.exit(1)
    print("  reference run: %.1f s" % life, flush=True)
    tor = os.path.join(work, "run")
    train_cmd = [grok, "train", "--out", tor, "--threads", "1", "--quiet"] + sets
    resume_cmd = [grok, "resume", tor, "--threads", "1", "--quiet"]
    landed, sessions, fails = torture_loop(
        lambda: train_cmd,
        lambda: resume_cmd if os.path.exists(os.path.join(tor, "config.cfg")) else train_cmd,
        a.kills, life, rng, "run")
    problems += ["run: " + f for f in fails]
    compare_runs(ref, tor, "run", problems, notes)
    print("  run: %d kills over %d sessions" % (landed, sessions), flush=True)
    result = {"run_kills": landed, "run_sessions": sessions}

    # ---- sweeps -------------------------------------------------------------
    sf = os.path.join(work, "torture.cfg")
    with open(sf, "w") as f:
        f.write(SWEEP_FILE)
    sref = os.path.join(work, "sweep-ref")
    t0 = time.time()
    r = run([grok, "sweep", sf, "--out", sref, "--jobs", "2", "--quiet"])
    slife = time.time() - t0
    if r.returncode != 0:
        print(r.stderr.decode())
        sys.exit(1)
    print("  reference sweep: %.1f s" % slife, flush=True)
    modes = [("pool", lambda d: [grok, "sweep", sf, "--out", d, "--jobs", "2", "--quiet"],
              lambda d: [grok, "sweep", d, "--jobs", "2", "--quiet"])]
    mpirun = shutil.which("mpirun")
    if mpirun:
        mp = [mpirun, "--allow-run-as-root", "--oversubscribe", "-np", "2"]
        modes.append(("mpirun", lambda d: mp + [grok, "sweep", sf, "--out", d, "--quiet"],
                      lambda d: mp + [grok, "sweep", d, "--quiet"]))
    else:
        notes.append("mpirun not installed: the mpirun torture was skipped")
    for name, first, again in modes:
        d = os.path.join(work, "sweep-" + name)
        landed, sessions, fails = torture_loop(
            lambda: first(d),
            lambda: again(d) if os.path.exists(os.path.join(d, "sweep.cfg")) else first(d),
            a.sweep_kills, slife * (2.5 if name == "mpirun" else 1.0), rng, name)
        problems += ["%s: %s" % (name, f) for f in fails]
        for pt in sorted(os.listdir(sref)):
            if os.path.isdir(os.path.join(sref, pt)) and pt != "figures":
                compare_runs(os.path.join(sref, pt), os.path.join(d, pt), "%s %s" % (name, pt),
                             problems, notes)
        for fn in ("sweep.tsv", "sweep.cfg", "base.cfg", "points.tsv"):
            with open(os.path.join(sref, fn), "rb") as x, open(os.path.join(d, fn), "rb") as y:
                if x.read() != y.read():
                    problems.append("%s: %s differs" % (name, fn))
        print("  %s: %d kills over %d sessions" % (name, landed, sessions), flush=True)
        result[name + "_kills"] = landed
        result[name + "_sessions"] = sessions

    for n in notes:
        print("  note: " + n)
    if problems:
        print("FAILED (%d differences):" % len(problems))
        for p in problems[:40]:
            print("  " + p)
    else:
        print("OK: every file compared equal (%s)" % ", ".join("%s %d" % kv for kv in result.items()))
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
