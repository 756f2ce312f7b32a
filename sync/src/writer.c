/* writer.c: the server's batches of events go through one writer thread with
 * its own connection, which takes every batch waiting at that moment into one
 * transaction, each batch in a savepoint of its own: one flush to disk for
 * them all (group commit), one judge with its bundles and replays for the
 * whole server, and a batch that fails is undone alone. A request's reply is
 * sent only after the transaction holding its batch is on disk. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* pthread_setname_np */
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "writer.h"

/* Batches in one transaction at most: a long queue is taken in turns, so
 * that the first of them need not wait for the last. */
#define GROUP_MAX 16

typedef struct job {
    const char *device;
    json_t *events;
    qk_lang lang;
    qk_import_result *r;
    json_t *conflicts;
    int rc;
    char *err; /* the store's message when rc is not QK_OK */
    size_t errlen;
    int done;
    qk__writer_done on_done; /* a job of qk__writer_submit's (heap): called, then freed */
    void *arg;
    struct job *next;
} job;

struct qk__writer {
    qk_store *s;
    pthread_t thread;
    pthread_mutex_t m;
    pthread_cond_t work, done;
    job *head, *tail;
    int stopping;
};

static void failed(job *j, int rc, const char *msg)
{
    j->rc = rc;
    memset(j->r, 0, sizeof *j->r);
    snprintf(j->err, j->errlen, "%s", msg);
    json_array_clear(j->conflicts);
}

static void run_group(qk__writer *w, job *group)
{
    qk_store *s = w->s;
    int rc = s->ops->begin(s);
    for (job *j = group; j; j = j->next) {
        if (rc != QK_OK) {
            failed(j, rc, s->err);
            continue;
        }
        s->lang = j->lang;
        j->rc = qk__store_ingest(s, j->device, NULL, j->events, j->r, j->conflicts);
        if (j->rc != QK_OK)
            failed(j, j->rc, s->err);
    }
    if (rc == QK_OK && (rc = s->ops->commit(s)) != QK_OK) {
        /* none of them is on disk: each device sends its batch again */
        for (job *j = group; j; j = j->next)
            if (j->rc == QK_OK)
                failed(j, rc, s->err);
    }
}

static void *writer_main(void *arg)
{
    qk__writer *w = arg;
#ifdef __linux__
    pthread_setname_np(pthread_self(), "qk-writer"); /* for top -H, perf, gdb */
#endif
    pthread_mutex_lock(&w->m);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->work, &w->m);
        if (!w->head)
            break; /* stopping, and nothing is left */
        job *group = w->head, *last = group;
        for (int n = 1; n < GROUP_MAX && last->next; n++)
            last = last->next;
        w->head = last->next;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&w->m);
        run_group(w, group);
        /* the callers who did not wait, answered outside the lock */
        for (job *j = group, *next; j; j = next) {
            next = j->next;
            if (j->on_done)
                j->on_done(j->arg, j->rc);
        }
        pthread_mutex_lock(&w->m);
        for (job *j = group, *next; j; j = next) {
            next = j->next;
            if (j->on_done)
                free(j);
            else
                j->done = 1; /* its caller's stack: read by it, once woken */
        }
        pthread_cond_broadcast(&w->done);
    }
    pthread_mutex_unlock(&w->m);
    return NULL;
}

qk__writer *qk__writer_start(const char *spec, const qk_clock *clock, int checkpointer, char *msg,
                             size_t n)
{
    qk__writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(msg, n, "out of memory");
        return NULL;
    }
    if (qk_store_open(&w->s, spec, QK_LANG_ZH) != QK_OK) {
        snprintf(msg, n, "%s", qk_store_errmsg(w->s));
        qk_store_close(w->s);
        free(w);
        return NULL;
    }
    qk_store_use_clock(w->s, clock);
    if (checkpointer)
        w->s->ops->checkpoint(w->s, 0);
    pthread_mutex_init(&w->m, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->done, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        snprintf(msg, n, "cannot start the writer thread");
        pthread_cond_destroy(&w->done);
        pthread_cond_destroy(&w->work);
        pthread_mutex_destroy(&w->m);
        qk_store_close(w->s);
        free(w);
        return NULL;
    }
    return w;
}

/* Puts j at the end of the queue; the caller holds the lock. */
static void enqueue(qk__writer *w, job *j)
{
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    pthread_cond_signal(&w->work);
}

int qk__writer_ingest(qk__writer *w, const char *device, json_t *events, qk_lang lang,
                      qk_import_result *r, json_t *conflicts, char *err, size_t errlen)
{
    job j = {.device = device, .events = events, .lang = lang, .r = r, .conflicts = conflicts,
             .err = err, .errlen = errlen};
    pthread_mutex_lock(&w->m);
    enqueue(w, &j);
    while (!j.done)
        pthread_cond_wait(&w->done, &w->m);
    pthread_mutex_unlock(&w->m);
    return j.rc;
}

int qk__writer_submit(qk__writer *w, const char *device, json_t *events, qk_lang lang, qk_import_result *r,
                      json_t *conflicts, char *err, size_t errlen, qk__writer_done done, void *arg)
{
    job *j = calloc(1, sizeof *j);
    if (!j)
        return QK_ENOMEM;
    *j = (job){.device = device, .events = events, .lang = lang, .r = r, .conflicts = conflicts,
               .err = err, .errlen = errlen, .on_done = done, .arg = arg};
    pthread_mutex_lock(&w->m);
    enqueue(w, j);
    pthread_mutex_unlock(&w->m);
    return QK_OK;
}

void qk__writer_stop(qk__writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->m);
    w->stopping = 1;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->m);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->done);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->m);
    qk_store_close(w->s);
    free(w);
}
