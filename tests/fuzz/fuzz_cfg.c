/* fuzz_cfg.c: the experiment config readers (experiments/cfg.h): the input as
 * a config file (cfg_load, @include relative to the private directory), its
 * first line as a --set assignment, and the input as a run's resolved
 * config.cfg (model/rundir.h: rundir_config_parse, rundir_config_text,
 * rundir_config_operands).  See fuzz_util.h. */
#include "cfg.h"
#include "fuzz_util.h"
#include "rundir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[256];
    fuzz_write("in.cfg", data, size, path, sizeof path);
    cfg_run c;
    grok_err e = {{0}};
    cfg_load(&c, path, NULL, 0, &e);

    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    char *nl = strchr(text, '\n');
    char line[512];
    snprintf(line, sizeof line, "%.*s", nl ? (int)(nl - text) : (int)strlen(text), text);
    const char *sets[1] = {line};
    cfg_load(&c, NULL, sets, 1, &e);

    rundir_config rc;
    if (rundir_config_parse(&rc, text, "config.cfg", &e) == GROK_OK) {
        static const char *const keys[] = {"seed", "task.p", "task.kind", "optim.betas", "model",
                                           "train.epochs"};
        char buf[128];
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            rundir_config_text(&rc, keys[i], buf, sizeof buf);
        rundir_config_operands(&rc);
        rundir_config_free(&rc);
    }
    free(text);
    return 0;
}
