/* cmd_trust.c: `quizkit trust add|list|remove`: the device's trusted publishers. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int trust_list(cli *c)
{
    qk_key **keys = NULL;
    size_t n = 0;
    if (trust_load(c, &keys, &n))
        return EXIT_FAIL;
    if (n == 0) {
        out(c, stdout, M_TRUST_NONE);
        return EXIT_OK;
    }
    table t = {0};
    table_add(&t, "%s", M(c, M_TRUST_COLS));
    for (size_t i = 0; i < n; i++)
        table_add(&t, "%s\t%s/trust/%s.pub", qk_key_id(keys[i]), c->data_dir, qk_key_id(keys[i]));
    table_print(c, &t);
    table_free(&t);
    trust_free(keys, n);
    return EXIT_OK;
}

static int trust_remove(cli *c, const char *id)
{
    if (data_dir_ready(c))
        return EXIT_FAIL;
    /* Key ids are hex; anything else cannot name a file in the store. */
    size_t len = strlen(id);
    int hex = len == QK_KEY_ID_LEN;
    for (size_t i = 0; hex && i < len; i++)
        hex = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
    char path[4096];
    snprintf(path, sizeof path, "%s/trust/%s.pub", c->data_dir, id);
    if (!hex || unlink(path) != 0) {
        err(c, M_TRUST_NOT_FOUND, id);
        return EXIT_FAIL;
    }
    out(c, stdout, M_TRUST_REMOVED, id);
    return EXIT_OK;
}

int cmd_trust(cli *c, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            out(c, stdout, M_TRUST_USAGE);
            return EXIT_OK;
        }
    }
    if (sub && strcmp(sub, "list") == 0 && argc == 2)
        return trust_list(c);
    if (sub && strcmp(sub, "add") == 0 && argc == 3)
        return trust_add_file(c, argv[2], 0);
    if (sub && strcmp(sub, "remove") == 0 && argc == 3)
        return trust_remove(c, argv[2]);
    if (sub && strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "remove") != 0)
        err(c, M_UNKNOWN_CMD, sub);
    out(c, stderr, M_TRUST_USAGE);
    return EXIT_USAGE;
}
