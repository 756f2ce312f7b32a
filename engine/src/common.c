/* common.c: status texts, the message catalogue, error formatting, small buffers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const catalogue[QK__MSG_COUNT][2] = {
#define MSG(id, zh, en) {zh, en},
#include "messages.def"
#undef MSG
};

const char *qk__msg(qk_lang lang, qk__msg_id id)
{
    if ((unsigned)id >= QK__MSG_COUNT)
        return "?";
    return catalogue[id][lang == QK_LANG_EN ? 1 : 0];
}

const char *qk_errno_text(int err, qk_lang lang)
{
    static const struct {
        int err;
        const char *zh;
    } texts[] = {
        {ENOENT, "文件或文件夹不存在"},  {EACCES, "没有权限"},
        {EPERM, "不允许这样操作"},       {ENOSPC, "磁盘空间不足"},
        {EROFS, "文件系统是只读的"},     {EISDIR, "这是一个文件夹"},
        {ENOTDIR, "路径中有一段不是文件夹"}, {EEXIST, "已经存在"},
        {EIO, "读写出错（磁盘或存储卡可能有问题）"}, {ENAMETOOLONG, "文件名太长"},
        {EMFILE, "打开的文件太多"},      {EDQUOT, "超出磁盘配额"},
    };
    if (lang != QK_LANG_EN) {
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
            if (texts[i].err == err)
                return texts[i].zh;
        }
    }
    return strerror(err);
}

const char *qk_strerror(int code, qk_lang lang)
{
    static const struct {
        int code;
        const char *zh, *en;
    } texts[] = {
        {QK_OK, "成功", "success"},
        {QK_ENOMEM, "内存不足", "out of memory"},
        {QK_EINVAL, "无效的参数或输入", "invalid argument or input"},
        {QK_EIO, "读写失败", "input/output error"},
        {QK_ECORRUPT, "文件已损坏或类型不对", "file damaged or of the wrong kind"},
        {QK_ENOTFOUND, "未找到", "not found"},
        {QK_EREADONLY, "文件只读", "file is read-only"},
        {QK_ELOCKED, "已锁定", "locked"},
        {QK_EAUTH, "PIN 错误", "wrong PIN"},
        {QK_ETIMEOUT, "时间已到", "time is up"},
        {QK_ESTATE, "当前状态下不能这样操作", "not allowed in the current state"},
        {QK_EEXISTS, "已存在", "already exists"},
        {QK_EFORMAT, "格式版本不受支持", "unsupported format version"},
        {QK_EDIGEST, "内容与摘要不符", "content does not match its digest"},
        {QK_EVERSION, "题库版本不符", "wrong bundle version"},
        {QK_ELIMIT, "超出限制", "limit exceeded"},
        {QK_EUNSIGNED, "题库包未签名", "bundle is not signed"},
        {QK_EUNTRUSTED, "签名密钥不受信任", "signed by an untrusted key"},
        {QK_ESIGNATURE, "签名无效", "invalid signature"},
        {QK_EPERM, "无权执行此操作", "not allowed"},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (texts[i].code == code)
            return lang == QK_LANG_EN ? texts[i].en : texts[i].zh;
    }
    return lang == QK_LANG_EN ? "unknown error" : "未知错误";
}

qk_lang qk_lang_from_locale(const char *locale)
{
    if (locale && locale[0] == 'e' && locale[1] == 'n')
        return QK_LANG_EN;
    return QK_LANG_ZH;
}

const char *qk_version(void)
{
    return "0.1.0";
}

int qk__errf(qk__err *err, qk_lang lang, int code, qk__msg_id id, ...)
{
    va_list ap;
    va_start(ap, id);
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
    vsnprintf(err->msg, sizeof err->msg, qk__msg(lang, id), ap);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    va_end(ap);
    return code;
}

void qk__err_clear(qk__err *err)
{
    err->msg[0] = '\0';
}

char *qk__strdup(const char *s)
{
    return s ? qk__strndup(s, strlen(s)) : NULL;
}

char *qk__strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void qk__buf_add(qk__buf *b, const void *data, size_t n)
{
    if (b->oom)
        return;
    if (n >= SIZE_MAX / 2 - b->len) {
        b->oom = 1;
        return;
    }
    /* No buffer yet (a zeroed qk__buf), or too small for the bytes and the end mark. */
    if (!b->p || b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void qk__buf_str(qk__buf *b, const char *s)
{
    qk__buf_add(b, s, strlen(s));
}

void qk__buf_fmt(qk__buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->oom = 1; /* only used for short numeric fields */
        return;
    }
    qk__buf_add(b, tmp, (size_t)n);
}

void qk__buf_json_str(qk__buf *b, const char *s)
{
    qk__buf_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': qk__buf_add(b, "\\\"", 2); break;
        case '\\': qk__buf_add(b, "\\\\", 2); break;
        case '\n': qk__buf_add(b, "\\n", 2); break;
        case '\r': qk__buf_add(b, "\\r", 2); break;
        case '\t': qk__buf_add(b, "\\t", 2); break;
        default:
            if (*p < 0x20)
                qk__buf_fmt(b, "\\u%04x", *p);
            else
                qk__buf_add(b, p, 1);
        }
    }
    qk__buf_add(b, "\"", 1);
}

char *qk__buf_take(qk__buf *b)
{
    if (b->oom) {
        qk__buf_free(b);
        return NULL;
    }
    if (!b->p)
        qk__buf_add(b, "", 0);
    char *p = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void qk__buf_free(qk__buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

int qk__hex_encode(char *out, size_t outlen, const unsigned char *in, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (outlen < 2 * n + 1)
        return QK_ELIMIT;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
    return QK_OK;
}

void qk_strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
