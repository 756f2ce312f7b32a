/* kiosk_serve.c: the kiosk's screen API over HTTP on 127.0.0.1
 * (qk_kiosk.h): kiosk.c's handler behind http.c's server. */
#include <stdio.h>

#include "http.h"
#include "kiosk_handler.h"
#include "qk_kiosk.h"
#include "sync_msg.h"

qk_kiosk *qk_kiosk_start(qk_engine *e, qk_bundle *b, const qk_kiosk_config *cfg, char *msg,
                         size_t n)
{
    qk_kiosk *k = qk__kiosk_new(e, b, cfg, msg, n);
    if (!k)
        return NULL;
    /* without its pages a kiosk shows nothing: say where they were looked for */
    char page[4300];
    snprintf(page, sizeof page, "%s/kiosk/index.html", qk__kiosk_web(k));
    FILE *f = fopen(page, "rb");
    if (!f) {
        qk__ymsgf(cfg->lang, msg, n, QK_Y_K_NO_PAGES, page);
        qk__kiosk_free(k);
        return NULL;
    }
    fclose(f);
    /* 127.0.0.1 only: the kiosk's screen is this machine's browser */
    qk_http_opts o = {.listen = "127.0.0.1",
                      .port = cfg->port,
                      .threads = 2,
                      .max_conn = 64,
                      .timeout_s = 60,
                      .max_conn_per_addr = 64, /* every connection is this machine's */
                      .log = cfg->log,
                      .clock = cfg->clock,
                      .lang = cfg->lang};
    qk_http *h = qk_http_start(&o, qk__kiosk_handle, qk__kiosk_body_limit, k, msg, n);
    if (!h) {
        qk__kiosk_free(k);
        return NULL;
    }
    qk__kiosk_set_http(k, h);
    return k;
}

unsigned qk_kiosk_port(const qk_kiosk *k)
{
    return qk_http_port(qk__kiosk_get_http(k));
}

void qk_kiosk_stop(qk_kiosk *k)
{
    if (!k)
        return;
    if (qk__kiosk_get_http(k))
        qk_http_stop(qk__kiosk_get_http(k), 2000);
    qk__kiosk_free(k);
}
