/* cli.h: what the quizkit command's files share: the context, the message
 * catalogue, terminal helpers and the data folder. The CLI uses only the
 * public engine and content APIs. */
#ifndef QK_CLI_H
#define QK_CLI_H

#include <signal.h>
#include <stdio.h>

#include "qk_client.h"
#include "qk_content.h"
#include "quizkit.h"

/* Exit codes. */
#define EXIT_OK 0
#define EXIT_FAIL 1        /* an error the message explains */
#define EXIT_USAGE 2       /* bad command line, or I/O problem with a named file */
#define EXIT_INTERRUPTED 3 /* input ended mid-quiz; progress saved */
#define EXIT_SIGINT 130

typedef enum cli_msg {
#define MSG(id, zh, en) id,
#include "messages.def"
#undef MSG
    M__COUNT
} cli_msg;

typedef struct cli {
    qk_lang lang;
    const char *data_dir_opt; /* --data-dir as given */
    char *data_dir;           /* resolved, created */
    int color;                /* ANSI colours on stdout */
    int allow_untrusted;      /* --allow-untrusted: developer escape hatch, warns */
    qk_clock clock;           /* QUIZKIT_NOW or the system clock: every engine, store,
                                 server and kiosk this command opens runs on it */
} cli;

const char *M(const cli *c, cli_msg id);
/* printf of a catalogue message to a stream. */
void out(const cli *c, FILE *f, cli_msg id, ...);
/* snprintf of a catalogue message into buf. */
void msgf(const cli *c, char *buf, size_t n, cli_msg id, ...);
/* "error: <text>" on stderr, text already formatted. */
void err_text(const cli *c, const char *text);
/* "error: <catalogue message>" on stderr. */
void err(const cli *c, cli_msg id, ...);
void warn_text(const cli *c, const char *text);

/* --- terminal (term.c) --- */
/* Installs the SIGINT handler; after Ctrl-C, reads return TERM_INTERRUPTED. */
void term_init(void);
/* The clock input deadlines are measured on (NULL: the system clock). */
void term_set_clock(const qk_clock *clock);
int term_interrupted(void);
#define TERM_LINE 1
#define TERM_EOF 0
#define TERM_TIMEOUT -1
#define TERM_INTERRUPTED -2
/* Reads one line from stdin (without the newline) into a buffer owned by the
 * terminal module, waiting at most timeout_ms (negative: no limit). */
int term_read_line(const char **line, int64_t timeout_ms);
/* Reads a PIN: no echo on a terminal, one line from a pipe. */
int term_read_secret(const cli *c, const char *prompt, const char **line);
/* Prints s padded with spaces to width display columns. */
void term_pad(FILE *f, const char *s, size_t width);
/* Prints rows of tab-separated cells as an aligned table (header first). */
void term_table(FILE *f, const char *const *rows, size_t n_rows, int bold_header, int color);
/* A table built row by row: the first row is the header; cells are separated
 * by tabs. table_print aligns it by display width (term_table). */
typedef struct table {
    char **rows;
    size_t n, cap;
} table;
void table_add(table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void table_print(const cli *c, const table *t);
void table_free(table *t);
/* "8", "8.5" or "8.33" for hundredths. */
void fmt_points(char *buf, size_t n, qk_centi v);
void fmt_duration(const cli *c, char *buf, size_t n, int64_t ms);
/* A time as people here read it: Beijing time, "YYYY-MM-DD HH:MM". Headers
 * and labels say 北京时间 where a reader could take it for local time. */
void fmt_time(char *buf, size_t n, int64_t unix_ms);

/* --- data folder and bundles (paths.c) --- */
/* Resolves and creates the data folder; prints the error itself. */
int data_dir_ready(cli *c);
/* Opens the engine on <data>/progress.db; prints the error itself. */
int engine_open(cli *c, qk_engine **e);
/* Opens the bundle to play: --bundle FILE or installed ID, else the installed
 * one, installing the sample bundle on first use. Prints errors itself. An
 * installed bundle verified before and unchanged since is not read in full
 * again (<data>/bundles/.verified, qk_bundle_open_trusted). */
int bundle_open_current(cli *c, const char *which, qk_bundle **b);
/* Verifies FILE (digest and signature against the trust store), refuses a
 * downgrade, and copies it into <data>/bundles/<id>.qkb atomically. */
int bundle_install(cli *c, const char *file, int quiet);
/* Opens a bundle and verifies its digest and its signature against the trust
 * store (untrusted only with --allow-untrusted, with a warning). */
int bundle_open_checked(cli *c, const char *path, qk_bundle **b);
/* The trust store, <data>/trust/<key id>.pub. */
int trust_load(cli *c, qk_key ***keys, size_t *n);
void trust_free(qk_key **keys, size_t n);
/* Copies a public key into the trust store; prints what it did. */
int trust_add_file(cli *c, const char *pub, int dev_notice);
/* share/quizkit/NAME of an installed command (bin/../share/quizkit, found
 * from where the running binary is, so an install with any --prefix, or one
 * moved whole, finds its pages and sample) into out: 1 when it exists, 0
 * when the command runs from its build folder (it then uses the build's and
 * the source's files, as configured). */
int share_path(char *out, size_t n, const char *name);
/* Installed bundle files: caller frees with qk_strv_free. */
int bundle_installed(cli *c, char ***paths, size_t *n);
/* The default installed bundle (the first by id), for read-only commands that
 * only name things with it: never installs the sample, never prints. 0 with
 * *b, or 1 with *b NULL when none is installed or it does not open. */
int bundle_open_installed(cli *c, qk_bundle **b);
/* When more bundles than current are installed: says which one is in use
 * and lists the others with the --bundle value that chooses each. */
void bundle_note_others(cli *c, const qk_bundle *current);

/* --- questions on the terminal (quiz_ui.c) --- */
const char *qtype_label(const cli *c, qk_qtype t);
const char *mode_label(const cli *c, qk_mode m); /* 练习, 考试, 每日答题, ... */
void show_options(const qk_question *q, const char *const *option_text);
void answer_prompt(cli *c, const qk_question *q);
void explain_problem(cli *c, const qk_question *q, qk_answer_problem p);
void show_feedback(cli *c, const qk_feedback *fb, const qk_question *q);

/* Asks for the member's PIN and logs in (cmd_play.c); prints errors itself.
 * Member ids compare without regard to case: on success *id points to who,
 * which holds the id as the member was added (A12 for a12 typed), so that
 * what follows records and reads that member's own id. */
#define CLI_ID_BUF 64
int member_login(cli *c, qk_engine *e, const char **id, char who[CLI_ID_BUF]);

/* --- subcommands --- */
int cmd_play(cli *c, int argc, char **argv);
int cmd_history(cli *c, int argc, char **argv);
int cmd_member(cli *c, int argc, char **argv);
int cmd_bundle(cli *c, int argc, char **argv);
int cmd_keygen(cli *c, int argc, char **argv);
int cmd_review(cli *c, int argc, char **argv);
int cmd_points(cli *c, int argc, char **argv);
int cmd_lesson(cli *c, int argc, char **argv);
int cmd_export(cli *c, int argc, char **argv);
int cmd_import_ack(cli *c, int argc, char **argv);
int cmd_status(cli *c, int argc, char **argv);
int cmd_admin(cli *c, int argc, char **argv);
int cmd_trust(cli *c, int argc, char **argv);
int cmd_serve(cli *c, int argc, char **argv);
int cmd_kiosk(cli *c, int argc, char **argv);
/* A long-running command (serve, kiosk) stops on SIGTERM or SIGINT. Call
 * serve_signals_block before starting any thread: the two signals are
 * blocked in every thread (threads inherit the mask), so none of them can
 * take one, and serve_signals_wait, in the main thread, is the one place
 * that receives them; it returns the signal. A closed connection's SIGPIPE
 * is ignored. A child to be exec'd calls serve_signals_unblock first. */
void serve_signals_block(sigset_t *set);
int serve_signals_wait(const sigset_t *set);
void serve_signals_unblock(void);
/* Writes the port in use to path (a temporary file renamed into place). */
void write_port_file(const char *path, unsigned port);
/* <data>/server.json (NULL when the data folder is not usable). */
char *net_conf_path(cli *c);
/* One sync with the server: clock, push, roster, bundles, competitions,
 * leaderboards; the cursor and times are saved to path even after a failure. */
int net_sync_once(cli *c, qk_client_conf *conf, const char *path, qk_client **clp, char *msg,
                  size_t n);
int cmd_compete(cli *c, int argc, char **argv);
int cmd_stats(cli *c, int argc, char **argv);
int cmd_report(cli *c, int argc, char **argv);
int cmd_enroll(cli *c, int argc, char **argv);
int cmd_sync(cli *c, int argc, char **argv);
int admin_server(cli *c, int argc, char **argv); /* admin init|branch|leader|member|code|device|backup|bundle */
/* The device's signing key, <data>/device.key (0600), made on first use. */
int device_key(cli *c, qk_key **k);
void status_server(cli *c);

/* Shared option parsing: returns 1 and sets *val for "--name VALUE" or
 * "--name=VALUE" at argv[*i] (advancing *i), 0 if argv[*i] is not that option,
 * -1 if the value is missing (after printing the error). */
int opt_value(const cli *c, const char *cmd, int argc, char **argv, int *i, const char *name,
              const char **val);
int is_help(const char *arg);
int parse_uint(const char *s, unsigned long long max, unsigned long long *out);

#endif
