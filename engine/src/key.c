/* key.c: ECDSA P-256 publisher keys (mbedTLS pk), their ids and PEM files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>

#include "internal.h"

struct qk_key {
    mbedtls_pk_context pk;
    int can_sign;
    char id[QK_KEY_ID_LEN + 1];
};

int qk__rng_fn(void *rng, unsigned char *out, size_t n)
{
    return qk_rng_bytes(rng, out, n) == QK_OK ? 0 : -1;
}

static void set_msg(char *msg, size_t msglen, qk_lang lang, qk__msg_id id, const char *arg)
{
    qk__err e;
    qk__errf(&e, lang, QK_EINVAL, id, arg);
    if (msg && msglen)
        snprintf(msg, msglen, "%s", e.msg);
}

static int compute_id(qk_key *k)
{
    unsigned char der[256], sum[32];
    int n = mbedtls_pk_write_pubkey_der(&k->pk, der, sizeof der);
    if (n <= 0)
        return QK_EINVAL;
    /* mbedtls writes DER at the end of the buffer. */
    qk__sha256(der + sizeof der - n, (size_t)n, sum);
    qk__hex_encode(k->id, sizeof k->id, sum, QK_KEY_ID_LEN / 2);
    return QK_OK;
}

/* The key's curve: a public accessor from mbedTLS 3.5 on (Debian 13's 3.6),
 * where the group is a private field; 2.28 (Debian 12's) has the field. */
static int is_p256(const qk_key *k)
{
    if (!mbedtls_pk_can_do(&k->pk, MBEDTLS_PK_ECKEY))
        return 0;
#if MBEDTLS_VERSION_NUMBER >= 0x03050000
    return mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(k->pk)) == MBEDTLS_ECP_DP_SECP256R1;
#elif MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_ec(k->pk)->MBEDTLS_PRIVATE(grp).id == MBEDTLS_ECP_DP_SECP256R1;
#else
    return mbedtls_pk_ec(k->pk)->grp.id == MBEDTLS_ECP_DP_SECP256R1;
#endif
}

int qk_key_generate(qk_key **out)
{
    *out = NULL;
    qk_key *k = calloc(1, sizeof *k);
    qk_rng *rng = NULL;
    if (!k)
        return QK_ENOMEM;
    mbedtls_pk_init(&k->pk);
    int status = qk_rng_new_random(&rng);
    if (status == QK_OK &&
        (mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
         mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(k->pk), qk__rng_fn, rng) != 0))
        status = QK_EIO;
    if (status == QK_OK)
        status = compute_id(k);
    qk_rng_free(rng);
    if (status != QK_OK) {
        qk_key_free(k);
        return status;
    }
    k->can_sign = 1;
    *out = k;
    return QK_OK;
}

int qk_key_load(qk_key **out, const char *path, qk_lang lang, char *msg, size_t msglen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_msg(msg, msglen, lang, QK_M_K_READ, path);
        return QK_EIO;
    }
    unsigned char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0'; /* PEM parsing wants the terminating NUL counted in the length */
    qk_key *k = calloc(1, sizeof *k);
    if (!k)
        return QK_ENOMEM;
    mbedtls_pk_init(&k->pk);
    int rc;
    qk_rng *rng = NULL;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    if (qk_rng_new_random(&rng) != QK_OK) {
        qk_key_free(k);
        return QK_EIO;
    }
    rc = mbedtls_pk_parse_key(&k->pk, buf, n + 1, NULL, 0, qk__rng_fn, rng);
#else
    rc = mbedtls_pk_parse_key(&k->pk, buf, n + 1, NULL, 0);
#endif
    if (rc == 0) {
        k->can_sign = 1;
    } else {
        mbedtls_pk_free(&k->pk);
        mbedtls_pk_init(&k->pk);
        rc = mbedtls_pk_parse_public_key(&k->pk, buf, n + 1);
    }
    qk_rng_free(rng);
    memset(buf, 0, sizeof buf);
    if (rc != 0 || !is_p256(k) || compute_id(k) != QK_OK) {
        qk_key_free(k);
        set_msg(msg, msglen, lang, QK_M_K_PARSE, path);
        return QK_EINVAL;
    }
    *out = k;
    return QK_OK;
}

/* Writes data to a new file with the given mode; refuses to replace one. */
static int write_new(const char *path, const unsigned char *data, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return errno;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            unlink(path);
            return e;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(path);
        return EIO;
    }
    return 0;
}

int qk_key_write(const qk_key *k, const char *private_path, const char *public_path, qk_lang lang,
                 char *msg, size_t msglen)
{
    unsigned char pem[4096];
    if (private_path) {
        if (!k->can_sign || mbedtls_pk_write_key_pem((mbedtls_pk_context *)&k->pk, pem, sizeof pem) != 0)
            return QK_EINVAL;
        int e = write_new(private_path, pem, strlen((char *)pem), 0600);
        memset(pem, 0, sizeof pem);
        if (e) {
            set_msg(msg, msglen, lang, e == EEXIST ? QK_M_K_EXISTS : QK_M_K_WRITE, private_path);
            return e == EEXIST ? QK_EEXISTS : QK_EIO;
        }
    }
    if (public_path) {
        if (mbedtls_pk_write_pubkey_pem((mbedtls_pk_context *)&k->pk, pem, sizeof pem) != 0)
            return QK_EINVAL;
        int e = write_new(public_path, pem, strlen((char *)pem), 0644);
        if (e) {
            if (private_path)
                unlink(private_path); /* all or nothing */
            set_msg(msg, msglen, lang, e == EEXIST ? QK_M_K_EXISTS : QK_M_K_WRITE, public_path);
            return e == EEXIST ? QK_EEXISTS : QK_EIO;
        }
    }
    return QK_OK;
}

const char *qk_key_id(const qk_key *k)
{
    return k->id;
}

int qk_key_can_sign(const qk_key *k)
{
    return k->can_sign;
}

int qk_key_sign(const qk_key *k, const unsigned char hash[32], unsigned char *sig, size_t *sig_len)
{
    unsigned char buf[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t n = 0;
    qk_rng *rng = NULL;
    if (!k->can_sign || qk_rng_new_random(&rng) != QK_OK)
        return QK_EINVAL;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    int rc = mbedtls_pk_sign((mbedtls_pk_context *)&k->pk, MBEDTLS_MD_SHA256, hash, 32, buf,
                             sizeof buf, &n, qk__rng_fn, rng);
#else
    int rc = mbedtls_pk_sign((mbedtls_pk_context *)&k->pk, MBEDTLS_MD_SHA256, hash, 32, buf, &n,
                             qk__rng_fn, rng);
#endif
    qk_rng_free(rng);
    if (rc != 0 || n > QK_KEY_SIG_MAX)
        return QK_EIO;
    memcpy(sig, buf, n);
    *sig_len = n;
    return QK_OK;
}

int qk_key_verify(const qk_key *k, const unsigned char hash[32], const unsigned char *sig,
                  size_t sig_len)
{
    return mbedtls_pk_verify((mbedtls_pk_context *)&k->pk, MBEDTLS_MD_SHA256, hash, 32, sig,
                             sig_len) == 0
               ? QK_OK
               : QK_ESIGNATURE;
}

int qk_key_public_pem(const qk_key *k, char **out)
{
    unsigned char pem[1024];
    *out = NULL;
    if (mbedtls_pk_write_pubkey_pem((mbedtls_pk_context *)&k->pk, pem, sizeof pem) != 0)
        return QK_EINVAL;
    *out = qk__strdup((const char *)pem);
    return *out ? QK_OK : QK_ENOMEM;
}

int qk_key_from_pem(qk_key **out, const char *pem)
{
    *out = NULL;
    qk_key *k = calloc(1, sizeof *k);
    if (!k)
        return QK_ENOMEM;
    mbedtls_pk_init(&k->pk);
    if (mbedtls_pk_parse_public_key(&k->pk, (const unsigned char *)pem, strlen(pem) + 1) != 0 ||
        !is_p256(k) || compute_id(k) != QK_OK) {
        qk_key_free(k);
        return QK_EINVAL;
    }
    *out = k;
    return QK_OK;
}

int qk_key_private_pem(const qk_key *k, char **out)
{
    unsigned char pem[4096];
    *out = NULL;
    if (!k->can_sign || mbedtls_pk_write_key_pem((mbedtls_pk_context *)&k->pk, pem, sizeof pem) != 0)
        return QK_EINVAL;
    *out = qk__strdup((const char *)pem);
    memset(pem, 0, sizeof pem);
    return *out ? QK_OK : QK_ENOMEM;
}

int qk_key_from_private_pem(qk_key **out, const char *pem)
{
    *out = NULL;
    qk_key *k = calloc(1, sizeof *k);
    if (!k)
        return QK_ENOMEM;
    mbedtls_pk_init(&k->pk);
    int rc;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    qk_rng *rng = NULL;
    if (qk_rng_new_random(&rng) != QK_OK) {
        qk_key_free(k);
        return QK_EIO;
    }
    rc = mbedtls_pk_parse_key(&k->pk, (const unsigned char *)pem, strlen(pem) + 1, NULL, 0,
                              qk__rng_fn, rng);
    qk_rng_free(rng);
#else
    rc = mbedtls_pk_parse_key(&k->pk, (const unsigned char *)pem, strlen(pem) + 1, NULL, 0);
#endif
    if (rc != 0 || !is_p256(k) || compute_id(k) != QK_OK) {
        qk_key_free(k);
        return QK_EINVAL;
    }
    k->can_sign = 1;
    *out = k;
    return QK_OK;
}

void *qk__key_pk(const qk_key *k)
{
    return (void *)&k->pk;
}

void qk_key_free(qk_key *k)
{
    if (!k)
        return;
    mbedtls_pk_free(&k->pk);
    free(k);
}
