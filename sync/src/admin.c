/* admin.c: the server's administration on its store: the first admin,
 * branches, accounts, the roster (one by one or from a CSV), enrolment codes,
 * device tokens, published bundles and backups. The CLI's --db mode and the
 * HTTP handlers both come here, so each rule is written once. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qk_server.h"
#include "store.h"
#include "sync_msg.h"

int qk_ident_valid(const char *id)
{
    return qk_id_valid(id, 32); /* the same rule as the engine's member ids */
}

static int name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && qk_text_valid(s, n) && qk_text_width(s, n) <= 128 && !strpbrk(s, "\r\n\t");
}

static int bad_ident(qk_store *s, const char *what, const char *id)
{
    qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_BAD_ID, what, id ? id : "");
    return QK_EINVAL;
}

static int say(qk_store *s, int rc, qk__ymsg id, const char *a, const char *b)
{
    qk__ymsgf(s->lang, s->err, sizeof s->err, id, a, b);
    return rc;
}

/* Random bytes from the OS, as hex. */
static int random_hex(char *out, size_t bytes)
{
    unsigned char buf[64];
    qk_rng *rng = NULL;
    int rc = bytes <= sizeof buf ? qk_rng_new_random(&rng) : QK_EINVAL;
    if (rc == QK_OK)
        rc = qk_rng_bytes(rng, buf, bytes);
    qk_rng_free(rng);
    if (rc == QK_OK)
        qk__hex(out, buf, bytes);
    return rc;
}

int qk_admin_init(qk_store *s, const char *user, char *pw, size_t pwlen)
{
    int64_t n = 0;
    int rc = s->ops->user_count(s, &n);
    if (rc != QK_OK)
        return rc;
    if (n > 0) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_HAS_USERS);
        return QK_EEXISTS;
    }
    char hex[33];
    if (pwlen < 25 || (rc = random_hex(hex, 12)) != QK_OK)
        return rc != QK_OK ? rc : QK_EINVAL;
    /* 24 hex digits in groups of four: 96 random bits, easy to copy. */
    size_t w = 0;
    for (size_t i = 0; i < 24; i++) {
        if (i && i % 4 == 0)
            pw[w++] = '-';
        pw[w++] = hex[i];
    }
    pw[w] = '\0';
    return qk_admin_user_add(s, user ? user : "admin", "admin", NULL, pw);
}

int qk_admin_branch_add(qk_store *s, const char *id, const char *name)
{
    if (!qk_ident_valid(id))
        return bad_ident(s, s->lang == QK_LANG_EN ? "branch id" : "支部编号", id);
    if (!name_valid(name))
        return say(s, QK_EINVAL, QK_Y_BAD_NAME, s->lang == QK_LANG_EN ? "the name" : "名称", NULL);
    int rc = s->ops->branch_add(s, id, name);
    if (rc == QK_EEXISTS)
        say(s, rc, QK_Y_EXISTS, s->lang == QK_LANG_EN ? "branch" : "支部", id);
    return rc;
}

int qk_admin_user_add(qk_store *s, const char *name, const char *role, const char *branch,
                      const char *password)
{
    if (!qk_ident_valid(name))
        return bad_ident(s, s->lang == QK_LANG_EN ? "account" : "账号", name);
    int is_admin = role && strcmp(role, "admin") == 0;
    if (!role || (!is_admin && strcmp(role, "leader") != 0) || (!is_admin && !branch))
        return say(s, QK_EINVAL, QK_Y_BAD_ROLE, NULL, NULL);
    if (!password || strlen(password) < 8)
        return say(s, QK_EINVAL, QK_Y_SHORT_PW, NULL, NULL);
    qk_user u = {0};
    snprintf(u.name, sizeof u.name, "%s", name);
    snprintf(u.role, sizeof u.role, "%s", role);
    snprintf(u.branch, sizeof u.branch, "%s", branch && !is_admin ? branch : "");
    int rc = qk_secret_hash(password, u.pw_hash, sizeof u.pw_hash);
    if (rc != QK_OK)
        return rc;
    rc = s->ops->user_add(s, &u);
    if (rc == QK_EEXISTS) {
        /* Either the name is taken or the branch does not exist. */
        qk_user other;
        if (s->ops->user_get(s, name, &other) == QK_OK)
            return say(s, rc, QK_Y_EXISTS, s->lang == QK_LANG_EN ? "account" : "账号", name);
        return say(s, QK_ENOTFOUND, QK_Y_NOT_FOUND, s->lang == QK_LANG_EN ? "branch" : "支部",
                   branch);
    }
    return rc;
}

int qk_admin_login(qk_store *s, const char *name, const char *password, qk_user *u)
{
    /* An unknown account costs the same time as a wrong password. */
    static const char dummy[] = "pbkdf2-sha256$60000$00000000000000000000000000000000$"
                                "0000000000000000000000000000000000000000000000000000000000000000";
    int found = qk_ident_valid(name) && s->ops->user_get(s, name, u) == QK_OK;
    int ok = qk_secret_verify(password ? password : "", found ? u->pw_hash : dummy);
    return found && ok;
}

int qk_admin_member_add(qk_store *s, const qk_roster_member *m, const char *pin)
{
    return qk_admin_member_put(s, m, pin, NULL);
}

int qk_admin_member_put(qk_store *s, const qk_roster_member *m, const char *pin,
                        const char *only_branch)
{
    if (!qk_ident_valid(m->id))
        return bad_ident(s, s->lang == QK_LANG_EN ? "member id" : "成员编号", m->id);
    if (!name_valid(m->name))
        return say(s, QK_EINVAL, QK_Y_BAD_NAME, s->lang == QK_LANG_EN ? "the name" : "姓名", NULL);
    if (m->dept[0] && !name_valid(m->dept))
        return say(s, QK_EINVAL, QK_Y_BAD_NAME, s->lang == QK_LANG_EN ? "the department" : "科室",
                   NULL);
    if (!qk_ident_valid(m->branch))
        return bad_ident(s, s->lang == QK_LANG_EN ? "branch id" : "支部编号", m->branch);
    if (!qk_pin_valid(pin))
        return say(s, QK_EINVAL, QK_Y_BAD_PIN, NULL, NULL);
    qk_roster_member r = *m;
    int rc = qk_pin_hash_new(pin, r.pin_salt, r.pin_hash, &r.pin_iter);
    if (only_branch && strcmp(m->branch, only_branch) != 0)
        return say(s, QK_EPERM, QK_Y_OTHER_BRANCH, m->branch, only_branch);
    return rc == QK_OK ? s->ops->member_put(s, &r, only_branch) : rc;
}

/* Which roster field a CSV header names (-1: none). */
static int roster_col(const char *h)
{
    static const struct {
        const char *name;
        int col;
    } names[] = {{"编号", 0}, {"工号", 0}, {"党员编号", 0}, {"id", 0},     {"ID", 0},
                 {"姓名", 1}, {"name", 1}, {"支部", 2},     {"branch", 2}, {"科室", 3},
                 {"部门", 3}, {"dept", 3}, {"department", 3}, {"PIN", 4},  {"pin", 4},
                 {"初始PIN", 4}, {"初始密码", 4}};
    while (*h == ' ')
        h++;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(h, names[i].name) == 0)
            return names[i].col;
    }
    return -1;
}

int qk_admin_roster_import(qk_store *s, const char *csv, size_t len, const char *label,
                           const char *branch, const char *only_branch, size_t *added)
{
    *added = 0;
    if (len >= 3 && memcmp(csv, "\xef\xbb\xbf", 3) == 0) {
        csv += 3;
        len -= 3;
    }
    qk_csv rd;
    qk_csv_init(&rd, csv, len);
    qk_csv_row r = {0};
    int got, map[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    while ((got = qk_csv_next(&rd, &r)) == 1 && qk_csv_blank(&r))
        ;
    char why[sizeof s->err];
    int rc = QK_OK;
    if (got != 1) {
        qk__ymsgf(s->lang, why, sizeof why, got < 0 ? QK_Y_CSV_QUOTE : QK_Y_CSV_EMPTY);
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_CSV_AT, label, r.line ? r.line : 1, why);
        qk_csv_row_free(&r);
        return QK_EINVAL;
    }
    int cols[5] = {-1, -1, -1, -1, -1};
    for (size_t i = 0; i < r.n && i < 8; i++) {
        map[i] = roster_col(r.fields[i]);
        if (map[i] >= 0 && cols[map[i]] < 0)
            cols[map[i]] = (int)i;
    }
    if (cols[0] < 0 || cols[1] < 0) {
        qk__ymsgf(s->lang, why, sizeof why, QK_Y_CSV_COLS);
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_CSV_AT, label, r.line, why);
        qk_csv_row_free(&r);
        return QK_EINVAL;
    }
    if ((rc = s->ops->begin(s)) != QK_OK) {
        qk_csv_row_free(&r);
        return rc;
    }
    while (rc == QK_OK && (got = qk_csv_next(&rd, &r)) == 1) {
        if (qk_csv_blank(&r))
            continue;
        qk_roster_member m = {0};
        const char *f[5];
        for (int k = 0; k < 5; k++)
            f[k] = cols[k] >= 0 && (size_t)cols[k] < r.n ? r.fields[cols[k]] : "";
        snprintf(m.id, sizeof m.id, "%s", f[0]);
        snprintf(m.name, sizeof m.name, "%s", f[1]);
        snprintf(m.branch, sizeof m.branch, "%s", *f[2] ? f[2] : branch ? branch : "");
        snprintf(m.dept, sizeof m.dept, "%s", f[3]);
        if (only_branch && strcmp(m.branch, only_branch) != 0) {
            qk__ymsgf(s->lang, why, sizeof why, QK_Y_OTHER_BRANCH, m.branch, only_branch);
            rc = QK_EPERM;
        } else {
            rc = qk_admin_member_put(s, &m, f[4], only_branch);
            snprintf(why, sizeof why, "%s", s->err);
        }
        if (rc != QK_OK)
            qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_CSV_AT, label, r.line, why);
        else
            (*added)++;
    }
    if (rc == QK_OK && got < 0) {
        qk__ymsgf(s->lang, why, sizeof why, QK_Y_CSV_QUOTE);
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_CSV_AT, label, r.line, why);
        rc = QK_EINVAL;
    }
    qk_csv_row_free(&r);
    if (rc == QK_OK)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (rc != QK_OK)
        *added = 0;
    return rc;
}

int qk_admin_code_new(qk_store *s, const char *branch, const char *by, int64_t ttl_ms, int kind,
                      char code[QK_CODE_LEN + 1], int64_t *expires_ms)
{
    if (kind != QK_CODE_SHARED && kind != QK_CODE_PHONE)
        return QK_EINVAL;
    /* 8 characters from 31 that are hard to confuse (no 0/O, 1/I/L): about 40
     * bits, enough for a code that expires and whose guesses are throttled. */
    static const char alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    unsigned char raw[8];
    qk_rng *rng = NULL;
    int rc = qk_rng_new_random(&rng);
    for (size_t i = 0; rc == QK_OK && i < 8; i++) {
        uint32_t v = 0;
        rc = qk_rng_below(rng, 31, &v);
        raw[i] = (unsigned char)alphabet[v];
    }
    qk_rng_free(rng);
    if (rc != QK_OK)
        return rc;
    snprintf(code, QK_CODE_LEN + 1, "%.4s-%.4s", (const char *)raw, (const char *)raw + 4);
    char norm[9], hash[65];
    memcpy(norm, raw, 8);
    norm[8] = '\0';
    qk_sha256_hex(hash, norm, 8);
    *expires_ms = qk__store_now(s) + ttl_ms;
    rc = s->ops->code_put(s, hash, branch, by ? by : "", kind, *expires_ms);
    if (rc == QK_EEXISTS)
        return say(s, QK_ENOTFOUND, QK_Y_NOT_FOUND, s->lang == QK_LANG_EN ? "branch" : "支部",
                   branch);
    return rc;
}

int qk_enrol(qk_store *s, const char *code, const char *device_id, const char *name,
             const char *pem, const char *proof, char token[65], char branch[QK_NAME_MAX + 1])
{
    return qk_enrol_member(s, code, device_id, name, pem, proof, NULL, NULL, token, branch);
}

/* The member a phone is enrolled for, by id and PIN, on the branch's roster:
 * their id as the roster has it, or QK_EAUTH (a member not there and a wrong
 * PIN alike, so that the answer tells nothing of who is). */
static int member_of_phone(qk_store *s, const char *branch, const char *member, const char *pin,
                           char out[QK_NAME_MAX + 1])
{
    json_t *rows = NULL;
    int64_t cursor = 0;
    /* ids compare without regard to case; where the roster holds two that
     * differ only so, the one typed exactly, or none (never a guess) */
    int rc = s->ops->roster(s, branch, member, 0, 8, &rows, &cursor);
    json_t *m = NULL, *r;
    size_t i;
    json_array_foreach(rows, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "id")), member) == 0)
            m = r;
    }
    if (!m && json_array_size(rows) == 1)
        m = json_array_get(rows, 0);
    if (rc == QK_OK) {
        /* a PIN hashed whether or not the member is there: the time taken
         * tells nothing of who is on the roster */
        static const char no_salt[] = "00000000000000000000000000000000";
        static const char no_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";
        int right = qk_pin_check(pin, m ? json_string_value(json_object_get(m, "pin_salt")) : no_salt,
                                 m ? json_string_value(json_object_get(m, "pin_hash")) : no_hash,
                                 m ? (int)json_integer_value(json_object_get(m, "pin_iter"))
                                   : QK_PBKDF2_ITERATIONS);
        rc = m && right ? QK_OK : QK_EAUTH;
        if (rc == QK_OK)
            snprintf(out, QK_NAME_MAX + 1, "%s", json_string_value(json_object_get(m, "id")));
    }
    json_decref(rows);
    return rc;
}

int qk_enrol_member(qk_store *s, const char *code, const char *device_id, const char *name,
                    const char *pem, const char *proof, const char *member, const char *pin,
                    char token[65], char branch[QK_NAME_MAX + 1])
{
    if (!member != !pin || (member && !*member))
        return say(s, QK_EAUTH, QK_Y_ENROL_MEMBER, NULL, NULL);
    /* The device proves it holds the private key of the public key it sends
     * (a signature over the code, its id and the key): a device id and key
     * copied from a USB file's header enrol nothing. */
    qk_key *k = NULL;
    unsigned char digest[32], sig[QK_KEY_SIG_MAX];
    long sl = proof ? qk__unhex(sig, sizeof sig, proof) : -1;
    qk__enrol_digest(digest, code ? code : "", device_id, pem ? pem : "");
    int proven = sl > 0 && pem && qk_key_from_pem(&k, pem) == QK_OK &&
                 qk_key_verify(k, digest, sig, (size_t)sl) == QK_OK;
    qk_key_free(k);
    if (!proven)
        return say(s, QK_ESIGNATURE, QK_Y_ENROL_PROOF, device_id, NULL);
    /* Codes are typed by hand: case and separators do not matter. */
    char norm[9];
    int n = qk__code_norm(code, norm) ? 8 : 0;
    char hash[65];
    qk_sha256_hex(hash, norm, (size_t)n);
    int rc = n == 8 ? s->ops->begin(s) : QK_ENOTFOUND;
    if (rc == QK_OK) {
        int kind = QK_CODE_ANY;
        rc = s->ops->code_take(s, hash, device_id, qk__store_now(s), branch, &kind);
        /* a code enrols its kind of device only; refused, it stays unused */
        if (rc == QK_OK && kind == QK_CODE_PHONE && !member)
            rc = say(s, QK_EPERM, QK_Y_CODE_FOR_PHONE, NULL, NULL);
        else if (rc == QK_OK && kind == QK_CODE_SHARED && member)
            rc = say(s, QK_EPERM, QK_Y_CODE_FOR_SHARED, NULL, NULL);
        qk_device_rec d = {0};
        snprintf(d.id, sizeof d.id, "%s", device_id);
        snprintf(d.branch, sizeof d.branch, "%s", branch);
        snprintf(d.name, sizeof d.name, "%s", name ? name : "");
        if (rc == QK_OK && member)
            rc = member_of_phone(s, branch, member, pin, d.member);
        char token_hash[65];
        if (rc == QK_OK && (rc = random_hex(token, 32)) == QK_OK) {
            qk_sha256_hex(token_hash, token, 64);
            rc = s->ops->device_enrol(s, &d, pem, token_hash);
        }
        if (rc == QK_OK)
            rc = s->ops->commit(s);
        else
            s->ops->rollback(s);
    }
    switch (rc) {
    case QK_ENOTFOUND: return say(s, rc, QK_Y_CODE_UNKNOWN, NULL, NULL);
    case QK_ETIMEOUT: return say(s, rc, QK_Y_CODE_EXPIRED, NULL, NULL);
    case QK_ESTATE: return say(s, rc, QK_Y_CODE_USED, NULL, NULL);
    case QK_EEXISTS: return say(s, rc, QK_Y_DEVICE_KEY, device_id, NULL);
    case QK_EAUTH: return say(s, rc, QK_Y_ENROL_MEMBER, NULL, NULL);
    default: return rc;
    }
}

int qk_admin_server_key_seed(qk_store *s, const qk_key *k)
{
    char *pem = NULL, *kept = NULL;
    int rc = qk_key_private_pem(k, &pem);
    if (rc == QK_OK)
        rc = s->ops->server_key(s, pem, &kept); /* a key kept already wins */
    if (pem)
        memset(pem, 0, strlen(pem));
    if (kept)
        memset(kept, 0, strlen(kept));
    free(pem);
    free(kept);
    return rc;
}

int qk_admin_server_key(qk_store *s, qk_key **out)
{
    *out = NULL;
    char *pem = NULL;
    int rc = s->ops->server_key(s, NULL, &pem);
    if (rc == QK_ENOTFOUND) { /* the first: made now, kept in the store */
        qk_key *k = NULL;
        char *mine = NULL;
        rc = qk_key_generate(&k);
        if (rc == QK_OK)
            rc = qk_key_private_pem(k, &mine);
        if (rc == QK_OK)
            rc = s->ops->server_key(s, mine, &pem);
        if (mine)
            memset(mine, 0, strlen(mine));
        free(mine);
        qk_key_free(k);
    }
    if (rc == QK_OK)
        rc = qk_key_from_private_pem(out, pem);
    if (pem)
        memset(pem, 0, strlen(pem));
    free(pem);
    return rc;
}

int qk_admin_device_revoke(qk_store *s, const char *device_id)
{
    int rc = s->ops->device_revoke(s, device_id);
    if (rc == QK_ENOTFOUND)
        say(s, rc, QK_Y_NOT_FOUND, s->lang == QK_LANG_EN ? "device" : "设备", device_id);
    return rc;
}

int qk_admin_backup(qk_store *s, const char *dest)
{
    if (access(dest, F_OK) == 0)
        return say(s, QK_EEXISTS, QK_Y_EXISTS, s->lang == QK_LANG_EN ? "file" : "文件", dest);
    return s->ops->backup(s, dest);
}

int qk_admin_branches(qk_store *s, json_t **out)
{
    return s->ops->branch_list(s, out);
}

int qk_admin_devices(qk_store *s, const char *branch, json_t **out)
{
    return s->ops->device_list(s, branch, out);
}

/* Public keys (*.pub) of a trust folder. */
static size_t load_keys(const char *dir, qk_key **keys, size_t cap)
{
    size_t n = 0;
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *ent;
    while (d && n < cap && (ent = readdir(d)) != NULL) {
        size_t len = strlen(ent->d_name);
        if (len < 5 || strcmp(ent->d_name + len - 4, ".pub") != 0)
            continue;
        char path[4096], msg[256];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        if (qk_key_load(&keys[n], path, QK_LANG_EN, msg, sizeof msg) == QK_OK)
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

int qk_admin_trusted_keys(const char *trust_dir, json_t **out)
{
    qk_key *keys[64];
    size_t n = load_keys(trust_dir, keys, 64);
    json_t *rows = json_array();
    int rc = rows ? QK_OK : QK_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char *pem = NULL;
        if (rc == QK_OK && (rc = qk_key_public_pem(keys[i], &pem)) == QK_OK &&
            json_array_append_new(rows, json_pack("{s:s, s:s}", "id", qk_key_id(keys[i]), "pem", pem)) != 0)
            rc = QK_ENOMEM;
        free(pem);
        qk_key_free(keys[i]);
    }
    if (rc != QK_OK) {
        json_decref(rows);
        rows = NULL;
    }
    *out = rows;
    return rc;
}

static int too_big(qk_store *s, const char *name)
{
    char limit[32];
    snprintf(limit, sizeof limit, "%zu MiB", QK_BUNDLE_MAX_BYTES >> 20);
    return say(s, QK_ELIMIT, QK_Y_BUNDLE_BIG, name, limit);
}

int qk_admin_bundle_publish(qk_store *s, const char *file, const char *trust_dir, const char *by,
                            qk_published *out)
{
    memset(out, 0, sizeof *out);
    char *data = NULL;
    size_t len = 0;
    errno = 0;
    int rc = qk__read_file(file, QK_BUNDLE_MAX_BYTES, &data, &len);
    if (rc == QK_ELIMIT)
        return too_big(s, file);
    if (rc != QK_OK)
        return say(s, rc, QK_Y_READ, file, strerror(errno ? errno : EIO));
    struct stat st;
    if (!trust_dir || stat(trust_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        free(data);
        return say(s, QK_ENOTFOUND, QK_Y_TRUST_DIR, trust_dir ? trust_dir : "", NULL);
    }
    rc = qk__admin_bundle_publish_bytes(s, data, len, file, trust_dir, by, out);
    free(data);
    return rc;
}

int qk__admin_bundle_publish_bytes(qk_store *s, const char *data, size_t len, const char *name,
                                   const char *trust_dir, const char *by, qk_published *out)
{
    memset(out, 0, sizeof *out);
    if (len > QK_BUNDLE_MAX_BYTES)
        return too_big(s, name);
    /* Checked from the very bytes the store will keep. */
    qk_bundle *b = NULL;
    qk_key *keys[64];
    size_t nkeys = load_keys(trust_dir, keys, 64);
    int rc = qk_bundle_open_memory(&b, data, len, name, QK_BUNDLE_VERIFY, s->lang);
    if (rc == QK_OK)
        rc = qk_bundle_check_signature(b, keys, nkeys);
    for (size_t i = 0; i < nkeys; i++)
        qk_key_free(keys[i]);
    if (rc != QK_OK) {
        say(s, rc, QK_Y_BUNDLE_BAD, name, qk_bundle_errmsg(b));
        qk_bundle_close(b);
        return rc;
    }
    const qk_bundle_info *info = qk_bundle_info_get(b);
    if (!qk_id_valid(info->id, QK_BUNDLE_ID_MAX) || !qk_id_valid(info->version, QK_BUNDLE_VERSION_MAX)) {
        /* signed by a trusted key, but written by another tool: it would name a path */
        say(s, QK_EINVAL, QK_Y_BUNDLE_NAME, info->id, info->version);
        qk_bundle_close(b);
        return QK_EINVAL;
    }
    snprintf(out->id, sizeof out->id, "%s", info->id);
    snprintf(out->version, sizeof out->version, "%s", info->version);
    snprintf(out->title, sizeof out->title, "%s", info->title);
    snprintf(out->key_id, sizeof out->key_id, "%s", info->publisher_key_id);
    qk_bundle_close(b);
    snprintf(out->by, sizeof out->by, "%s", by ? by : "");
    out->published_ms = qk__store_now(s);
    qk_sha256_hex(out->sha256, data, len);
    out->size = (int64_t)len;
    qk_published old;
    memset(&old, 0, sizeof old);
    if (s->ops->bundle_get(s, out->id, out->version, &old) == QK_OK) {
        if (strcmp(old.sha256, out->sha256) == 0) {
            /* The same file again: nothing to store; attempts still waiting
             * for it (a publish cut short while it scored them) are scored. */
            *out = old;
            out->already = 1;
            if (qk__store_rescore_waiting(s, out->id, out->version, &out->rescored) != QK_OK)
                out->rescored = 0;
            return QK_OK;
        }
        return say(s, QK_EEXISTS, QK_Y_BUNDLE_SAME, out->id, out->version);
    }
    rc = s->ops->bundle_put(s, out, data, len);
    if (rc == QK_EEXISTS) /* another publish of this version came first */
        return say(s, rc, QK_Y_BUNDLE_SAME, out->id, out->version);
    if (rc != QK_OK)
        return rc;
    /* Attempts that arrived before their bundle are scored now, so a
     * leaderboard does not stay empty for want of a re-sync. */
    if (qk__store_rescore_waiting(s, out->id, out->version, &out->rescored) != QK_OK)
        out->rescored = 0; /* they stay waiting; the next publish or batch tries again */
    return QK_OK;
}

int qk_admin_bundles_missing(qk_store *s, json_t **out)
{
    return s->ops->bundle_missing(s, out);
}

int qk_admin_bundles_adopt(qk_store *s, const char *dir, size_t *taken)
{
    return s->ops->bundle_adopt(s, dir, taken);
}

int qk_admin_competition_add(qk_store *s, const char *spec_json, const char *bundle_id,
                             const char *branch, const char *by)
{
    qk_competition *c = NULL;
    char msg[300];
    int rc = qk_competition_parse(&c, spec_json, s->lang, msg, sizeof msg);
    if (rc != QK_OK)
        return say(s, rc, QK_Y_COMP_BAD, msg, NULL);
    /* Checked against the newest published version of its bundle. */
    qk_bundle *b = NULL;
    rc = qk__store_bundle_open(s, bundle_id, NULL, &b);
    if (rc == QK_OK) {
        char **ids = NULL;
        size_t n = 0;
        qk_competition *same = NULL;
        if (qk_competition_get(b, c->id, &same) == QK_OK) {
            rc = QK_EEXISTS;
        } else if ((rc = qk_competition_question_set(c, b, &ids, &n)) != QK_OK) {
            say(s, QK_EINVAL, QK_Y_COMP_QUESTIONS, c->id, bundle_id);
            rc = QK_EINVAL;
        }
        qk_competition_free(same);
        qk_strv_free(ids, n);
    } else if (rc == QK_ENOTFOUND) {
        say(s, rc, QK_Y_NOT_FOUND, s->lang == QK_LANG_EN ? "published bundle" : "已发布的题库", bundle_id);
    }
    qk_bundle_close(b);
    if (rc == QK_OK && branch && !qk_ident_valid(branch))
        rc = bad_ident(s, s->lang == QK_LANG_EN ? "branch id" : "支部编号", branch);
    if (rc == QK_OK) {
        rc = s->ops->competition_put(s, c->id, bundle_id, spec_json, branch, by ? by : "");
        if (rc == QK_EEXISTS) {
            /* The id is taken, or the branch does not exist. */
            json_t *all = NULL;
            int taken = 0;
            if (s->ops->competition_list(s, NULL, &all) == QK_OK) {
                size_t i;
                json_t *r;
                json_array_foreach(all, i, r)
                {
                    taken |= strcmp(json_string_value(json_object_get(r, "id")), c->id) == 0;
                }
            }
            json_decref(all);
            if (!taken)
                rc = say(s, QK_ENOTFOUND, QK_Y_NOT_FOUND, s->lang == QK_LANG_EN ? "branch" : "支部", branch);
        }
    }
    if (rc == QK_EEXISTS)
        say(s, rc, QK_Y_EXISTS, s->lang == QK_LANG_EN ? "competition" : "竞赛", c->id);
    qk_competition_free(c);
    return rc;
}

int qk_admin_competitions(qk_store *s, const char *branch, json_t **out)
{
    return s->ops->competition_list(s, branch, out);
}

int qk_store_stats(qk_store *s, const char *branch, const qk_stats_query *q, qk_lang lang, json_t **out,
                   char *msg, size_t msglen)
{
    return s->ops->stats(s, branch, q, lang, out, msg, msglen);
}
