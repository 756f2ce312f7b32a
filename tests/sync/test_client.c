/* Tests for sync/src/client.c: which server addresses a device will talk to. */
#include <stdlib.h>
#include <string.h>

#include "../../sync/src/netlib.h"
#include "qk_client.h"
#include "support.h"

static int accepted(const char *url)
{
    qk_client_conf conf;
    memset(&conf, 0, sizeof conf);
    snprintf(conf.url, sizeof conf.url, "%s", url);
    qk_client *c = NULL;
    char msg[512] = "";
    int rc = qk_client_new(&c, &conf, QK_LANG_EN, msg, sizeof msg);
    qk_client_free(c);
    if (rc != QK_OK)
        assert_non_null(strstr(msg, "https://")); /* the refusal says what to use */
    return rc == QK_OK;
}

/* libcurl and libmicrohttpd are opened on first use (QK_DLOPEN) or linked:
 * either way a client and a server can start, and a second call is the same
 * table. The clients above have already loaded libcurl. */
static void the_network_libraries_load_when_needed(void **state)
{
    (void)state;
    char msg[512] = "";
    assert_int_equal(qk__netlib_curl(QK_LANG_EN, msg, sizeof msg), QK_OK);
    assert_int_equal(qk__netlib_mhd(QK_LANG_EN, msg, sizeof msg), QK_OK);
    assert_int_equal(qk__netlib_mhd(QK_LANG_ZH, msg, sizeof msg), QK_OK);
    assert_string_equal(msg, "");
}

/* A machine without the library, or with one too old to have a function,
 * gets a message that names the library and the loader's reason, in the
 * member's language, and nothing is half loaded. */
static void a_network_library_that_cannot_load_is_named(void **state)
{
    (void)state;
#if QK_DLOPEN
    const char *names[] = {"curl_easy_init", "qk_no_such_function"};
    void *fns[2] = {NULL, NULL};
    char msg[512];
    assert_int_equal(qk__netlib_open("libquizkit-absent.so.9", names, fns, 1, QK_LANG_EN, msg, sizeof msg),
                     QK_EIO);
    assert_non_null(strstr(msg, "cannot load the network library libquizkit-absent.so.9"));
    assert_non_null(strstr(msg, "install the package"));
    assert_null(fns[0]);
    assert_int_equal(qk__netlib_open("libquizkit-absent.so.9", names, fns, 1, QK_LANG_ZH, msg, sizeof msg),
                     QK_EIO);
    assert_non_null(strstr(msg, "无法加载网络库 libquizkit-absent.so.9"));
    /* libc is there, the second function is not */
    assert_int_equal(qk__netlib_open("libc.so.6", (const char *[]){"strlen", "qk_no_such_function"}, fns, 2,
                                     QK_LANG_EN, msg, sizeof msg),
                     QK_EIO);
    assert_non_null(strstr(msg, "qk_no_such_function"));
    assert_non_null(strstr(msg, "libc.so.6"));
#else
    skip(); /* linked: nothing is opened */
#endif
}

/* DESIGN.md decision 6: HTTPS anywhere, plain HTTP only to this machine. */
static void https_anywhere_http_only_to_loopback(void **state)
{
    (void)state;
    assert_true(accepted("https://branch.example.cn:8443"));
    assert_true(accepted("https://10.1.2.3"));
    assert_true(accepted("http://127.0.0.1:8080"));
    assert_true(accepted("http://127.8.9.10:8080/"));
    assert_true(accepted("http://localhost:8080"));
    assert_true(accepted("http://LOCALHOST:8080"));
    assert_true(accepted("http://[::1]:8080"));
    assert_false(accepted("http://192.0.2.1:80"));
    assert_false(accepted("http://[::2]:80"));
    assert_false(accepted("ftp://127.0.0.1"));
    assert_false(accepted("127.0.0.1:8080"));
    assert_false(accepted(""));
}

/* Issue 14, item 6: a prefix match let these through to another host. */
static void the_host_is_parsed_not_matched_by_prefix(void **state)
{
    (void)state;
    assert_false(accepted("http://127.0.0.1:9@example.invalid:9"));
    assert_false(accepted("http://localhost.example.invalid"));
    assert_false(accepted("http://localhost@example.invalid"));
    assert_false(accepted("http://127.0.0.1.example.invalid"));
    assert_false(accepted("http://127.0.0.1%2f@example.invalid"));
    assert_false(accepted("https://user:secret@branch.example.cn")); /* no credentials in URLs */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(https_anywhere_http_only_to_loopback),
        cmocka_unit_test(the_network_libraries_load_when_needed),
        cmocka_unit_test(a_network_library_that_cannot_load_is_named),
        cmocka_unit_test(the_host_is_parsed_not_matched_by_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
