/* Fuzz target: the statistics' reader of event payloads (sync/src/
 * json_fields.c), checked against SQLite's own JSON functions. Whenever the
 * reader takes a text, SQLite must call it valid JSON and give every wanted
 * member the same type and value (strings unescaped alike, numbers the same
 * double); a member the reader calls absent, SQLite must not find. The
 * reader may decline anything (its caller then asks json_extract). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "json_fields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *db;
static sqlite3_stmt *st;

static void check(const char *text, size_t n, qk_jf *f, int nf)
{
    if (qk__json_fields(text, n, f, nf) != 0)
        return;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, text, (int)n, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, 0);
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 1)
        abort(); /* the reader took what SQLite calls malformed */
    for (int i = 0; i < nf; i++) {
        char path[32];
        snprintf(path, sizeof path, "$.%s", f[i].name);
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(db, "SELECT json_type(?1, ?2), json_extract(?1, ?2)", -1, &q, NULL) !=
            SQLITE_OK)
            abort();
        sqlite3_bind_text(q, 1, text, (int)n, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, path, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_ROW)
            abort();
        const char *type = (const char *)sqlite3_column_text(q, 0);
        switch (f[i].type) {
        case QK_JF_ABSENT:
            if (type)
                abort();
            break;
        case QK_JF_NULL:
        case QK_JF_TRUE:
        case QK_JF_FALSE: {
            static const char *const names[] = {"null", "true", "false"};
            if (!type || strcmp(type, names[f[i].type - QK_JF_NULL]) != 0)
                abort();
            break;
        }
        case QK_JF_NUMBER: {
            if (!type || (strcmp(type, "integer") != 0 && strcmp(type, "real") != 0))
                abort();
            char num[400];
            if (f[i].n < sizeof num) {
                memcpy(num, f[i].p, f[i].n);
                num[f[i].n] = '\0';
                double mine = strtod(num, NULL), theirs = sqlite3_column_double(q, 1);
                if (mine != theirs && !(isinf(mine) && isinf(theirs)) &&
                    fabs(mine - theirs) > 1e-14 * fabs(theirs))
                    abort();
            }
            break;
        }
        case QK_JF_STRING: {
            if (!type || strcmp(type, "text") != 0)
                abort();
            char *out = malloc(f[i].n + 1);
            if (!out)
                abort();
            if (qk__json_unescape(f[i].p, f[i].n, out) == 0) {
                const char *theirs = (const char *)sqlite3_column_text(q, 1);
                if (!theirs || strcmp(out, theirs) != 0)
                    abort();
            }
            free(out);
            break;
        }
        case QK_JF_OTHER:
            if (!type || (strcmp(type, "object") != 0 && strcmp(type, "array") != 0))
                abort();
            break;
        }
        sqlite3_finalize(q);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db) {
        if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
            sqlite3_prepare_v2(db, "SELECT json_valid(?1)", -1, &st, NULL) != SQLITE_OK)
            abort();
    }
    /* the members each kind of event is read for */
    qk_jf answer[3] = {{"q", 0, 0, 0, 0}, {"correct", 0, 0, 0, 0}, {"response", 0, 0, 0, 0}};
    qk_jf start[3] = {{"mode", 0, 0, 0, 0}, {"theme", 0, 0, 0, 0}, {"competition", 0, 0, 0, 0}};
    qk_jf finish[2] = {{"score", 0, 0, 0, 0}, {"max", 0, 0, 0, 0}};
    qk_jf points[2] = {{"day", 0, 0, 0, 0}, {"amount", 0, 0, 0, 0}};
    check((const char *)data, size, answer, 3);
    check((const char *)data, size, start, 3);
    check((const char *)data, size, finish, 2);
    check((const char *)data, size, points, 2);
    return 0;
}
