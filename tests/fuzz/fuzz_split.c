/* fuzz_split.c: a run's split.tsv as every reader of a run directory takes
 * it (experiments/measure.h: measure_split_parse, to which measure_split_read
 * hands the file's text): the header against the task's operand columns,
 * each row's index, operands and label against the task, train rows first,
 * then task_set_order.  The first byte picks the task (modular add p = 7,
 * the group S3, sparse parity n = 6); the rest is split.tsv.  See
 * fuzz_util.h. */
#include "fuzz_util.h"
#include "measure.h"
#include "task.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    task_config c = {0};
    c.frac_train = 0.5;
    switch (data[0] % 3) {
    case 0:
        c.kind = TASK_KIND_MODULAR;
        c.op = TASK_OP_ADD;
        c.p = 7;
        break;
    case 1:
        c.kind = TASK_KIND_GROUP;
        c.group = group_id_parse("S3");
        c.group_op = TASK_GROUP_OP_XY;
        break;
    default:
        c.kind = TASK_KIND_PARITY;
        c.n_bits = 6;
        c.k_bits = 2;
        c.n_train = 10;
        c.n_test = 6;
        break;
    }
    task_data t;
    grok_err e = {{0}};
    if (task_init(&t, &c, 1, &e) != GROK_OK)
        abort();
    char *text = fuzz_text(data + 1, size - 1);
    if (text && measure_split_parse(&t, text, "split.tsv", &e) == GROK_OK) {
        /* a permutation of the examples, train rows first */
        unsigned char seen[64] = {0};
        if (t.n_all > 64 || t.n_train + t.n_test != t.n_all)
            abort();
        for (int i = 0; i < t.n_all; i++) {
            if (t.order[i] < 0 || t.order[i] >= t.n_all || seen[t.order[i]]++)
                abort();
        }
    }
    free(text);
    task_free(&t);
    return 0;
}
