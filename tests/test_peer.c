/* test_peer.c: grok and its PyTorch peers (tools/peer_torch.py) agree.
 *
 * grok trains for 10 epochs with the loss recorded at every epoch; the peer,
 * an independent PyTorch implementation of the same model and step, loads
 * grok's initial weights (checkpoints/epoch-000000) and training split
 * (split.tsv) and trains 10 full-batch steps.  Their train losses before each
 * update must agree to 1e-5 relative and must fall.  Two models:
 *  - the default experiment (--model transformer): they agree to about 1e-9
 *    (float64 losses; the products are summed in other orders);
 *  - the MLP of `grok bench`'s mlp row (--model mlp, Prieto et al. 2025: the
 *    one-hot pair, two hidden layers of 200, Adam lr 0.01, float32 loss),
 *    whose first layer grok computes as a sum of the rows of W_0 that the
 *    one-hot vectors select and the peer as the product with them;
 *  - Prieto et al.'s StableMax run (--model stablemax,
 *    experiments/prieto2025_stablemax.cfg: the MLP without biases, PyTorch's
 *    initialisation, float64 StableMax cross-entropy, AdamW with eps 1e-25),
 *    the setting of the peer's long runs beside grok's (README, Prieto);
 *  - the same from torch's own draw (--seed 42: Prieto et al.'s split and
 *    initialisation), carried into grok by grok import and a fork with
 *    init.split: grok's epoch-0 accuracies are the peer's, and the first
 *    steps agree as above.
 * Needs GROK_BIN; skips, saying so, when Debian's python3-torch is absent
 * (the peer exits 77). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "testutil.h"

#define STEPS 10
#define CMD_N 8192

/* train_loss of metrics.tsv rows 0..STEPS-1 (epoch = row) into loss */
static void grok_losses(const char *run, double *loss)
{
    char *path = tu_path_in(run, "metrics.tsv");
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    char *line = strchr(text, '\n'); /* after the header: epoch lr train_loss ... */
    int n = 0;
    while (line && n < STEPS) {
        long ep;
        double lr, l;
        if (sscanf(line + 1, "%ld\t%lf\t%lf", &ep, &lr, &l) == 3) {
            assert_int_equal(ep, n);
            loss[n++] = l;
        }
        line = strchr(line + 1, '\n');
    }
    assert_int_equal(n, STEPS);
    free(text);
    free(path);
}

/* Runs the peer's command line; skips the test when torch is absent (77). */
static void run_peer(const char *cmd)
{
    const int rc = system(cmd);
    if (rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 77) {
        printf("   python3-torch is not installed: the peer cannot run; skipped\n");
        skip();
    }
    assert_int_equal(rc, 0);
}

/* grok trains with the extra arguments sets, the peer --model peer_model
 * from its start; the first STEPS losses agree. */
static void first_steps(const char *dir, const char *sets, const char *peer_model)
{
    const char *bin = getenv("GROK_BIN");
    if (!bin || !*bin)
        skip();
    char *run = tu_path_in(dir, "run"), *out = tu_path_in(dir, "peer.tsv");
    char cmd[CMD_N];
    snprintf(cmd, sizeof cmd,
             "'%s' train --out '%s' --quiet --threads 1 --set train.epochs=%d "
             "--set train.eval_every=1 --set plots.formats='\"\"' %s",
             bin, run, STEPS, sets);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 tools/peer_torch.py --model %s --run '%s' --steps %d > '%s'",
             peer_model, run, STEPS, out);
    run_peer(cmd);
    double want[STEPS], got[STEPS];
    grok_losses(run, want);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    for (int i = 0; i < STEPS; i++) {
        int s;
        assert_int_equal(fscanf(f, "%d %lf", &s, &got[i]), 2);
        assert_int_equal(s, i);
        const double rel = fabs(got[i] - want[i]) / fabs(want[i]);
        printf("   %s step %d: grok %.9g, peer %.9g, relative difference %.2g\n", peer_model, i,
               want[i], got[i], rel);
        assert_true(rel < 1e-5);
    }
    fclose(f);
    assert_true(want[STEPS - 1] < want[0] - 1e-3);
    free(run);
    free(out);
}

static void test_first_steps(void **state) { first_steps(*state, "", "transformer"); }

static void test_first_steps_mlp(void **state)
{
    first_steps(*state,
                "--set task.layout='\"a b\"' --set task.frac_train=0.4 "
                "--set model.family='\"mlp\"' --set model.combine='\"onehot\"' "
                "--set model.n_layers=2 --set model.d_hidden=200 --set model.act='\"relu\"' "
                "--set optim.lr=0.01 --set optim.betas='[0.9, 0.99]' --set optim.weight_decay=0 "
                "--set optim.warmup=0 --set train.loss_dtype='\"float32\"'",
                "mlp");
}

static void test_first_steps_stablemax(void **state)
{
    first_steps(*state, "experiments/prieto2025_stablemax.cfg", "stablemax");
}

static void test_torch_draw_into_grok(void **state)
{
    const char *dir = *state, *bin = getenv("GROK_BIN");
    if (!bin || !*bin)
        skip();
    char *draw = tu_path_in(dir, "draw"), *imp = tu_path_in(dir, "imported");
    char *p0 = tu_path_in(dir, "draw.tsv");
    char cmd[CMD_N], sets[CMD_N];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 tools/peer_torch.py --model stablemax --seed 42 --out '%s' "
             "--steps 0 --eval-every 1 > '%s'",
             draw, p0);
    run_peer(cmd);
    snprintf(cmd, sizeof cmd,
             "'%s' import '%s/epoch-0.safetensors' --split '%s/split.tsv' "
             "--config experiments/prieto2025_stablemax.cfg --out '%s' --quiet",
             bin, draw, draw, imp);
    assert_int_equal(system(cmd), 0);
    snprintf(sets, sizeof sets,
             "experiments/prieto2025_stablemax.cfg --init-from '%s@0' --set init.split=true", imp);
    first_steps(dir, sets, "stablemax");
    /* the peer's accuracies of its draw (step 0) are grok's at epoch 0 */
    char *text = tu_read_file(p0, NULL);
    assert_non_null(text);
    double pa = -1, pt = -1;
    const char *row = strstr(text, "\n0\t\t");
    assert_non_null(row);
    assert_int_equal(sscanf(row + 4, "%lf\t%lf", &pa, &pt), 2);
    free(text);
    char *run = tu_path_in(dir, "run"), *m = tu_path_in(run, "metrics.tsv");
    text = tu_read_file(m, NULL);
    assert_non_null(text);
    double ga = -1, gt = -1;
    row = strstr(text, "\n0\t");
    assert_non_null(row);
    assert_int_equal(sscanf(row + 1, "%*d\t%*f\t%*f\t%*f\t%lf\t%lf", &ga, &gt), 2);
    printf("   torch's seed-42 draw: accuracies train %.6f test %.6f (peer), %.6f %.6f (grok)\n",
           pa, pt, ga, gt);
    assert_true(fabs(pa - ga) < 1e-6 && fabs(pt - gt) < 1e-6);
    free(text);
    free(m);
    free(run);
    free(draw);
    free(imp);
    free(p0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_steps, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_first_steps_mlp, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_first_steps_stablemax, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_torch_draw_into_grok, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
