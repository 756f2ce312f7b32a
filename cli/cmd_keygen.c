/* cmd_keygen.c: `quizkit keygen -o NAME`: a publisher key pair. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_keygen(cli *c, int argc, char **argv)
{
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        if (is_help(argv[i])) {
            out(c, stdout, M_KEYGEN_USAGE);
            return EXIT_OK;
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else if ((r = opt_value(c, "keygen", argc, argv, &i, "--output", &name))) {
            if (r < 0)
                return EXIT_USAGE;
        } else if (argv[i][0] == '-') {
            err(c, M_UNKNOWN_OPT, "keygen", argv[i]);
            return EXIT_USAGE;
        } else {
            err(c, M_EXTRA_ARG, argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!name || !*name) {
        err(c, M_MISSING_ARG, "-o NAME");
        out(c, stderr, M_KEYGEN_USAGE);
        return EXIT_USAGE;
    }
    size_t n = strlen(name) + 8;
    char *priv = malloc(n), *pub = malloc(n);
    qk_key *k = NULL;
    int status = EXIT_FAIL;
    char msg[512];
    if (priv && pub && qk_key_generate(&k) == QK_OK) {
        snprintf(priv, n, "%s.key", name);
        snprintf(pub, n, "%s.pub", name);
        if (qk_key_write(k, priv, pub, c->lang, msg, sizeof msg) == QK_OK) {
            out(c, stdout, M_KEY_WRITTEN, qk_key_id(k), priv, pub);
            status = EXIT_OK;
        } else {
            err_text(c, msg);
        }
    }
    qk_key_free(k);
    free(priv);
    free(pub);
    return status;
}
