/* stats_xlsx.c: statistics as an Excel workbook (libxlsxwriter), for leaders
 * who hand reports on: opens in Excel and WPS with Chinese intact. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "qk_stats.h"
#include "sync_msg.h"

static const char *sheet_name(const char *subject, qk_lang lang)
{
    static const struct {
        const char *subject, *zh, *en;
    } names[] = {{"participation", "参与率", "Participation"}, {"members", "成员", "Members"},
                 {"inactive", "未参与", "Inactive"},           {"themes", "主题与竞赛", "Themes"},
                 {"trend", "每周趋势", "Trend"},               {"questions", "逐题分析", "Questions"},
                 {"flagged", "存疑记录", "Flagged"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(names[i].subject, subject) == 0)
            return lang == QK_LANG_EN ? names[i].en : names[i].zh;
    }
    return subject;
}

/* A column wide enough for its widest text (Chinese counts double), capped. */
static double width_of(json_t *v, double w)
{
    char buf[64];
    const char *s = json_is_string(v) ? json_string_value(v) : buf;
    if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, sizeof buf, "%.1f", json_real_value(v));
    else if (!json_is_string(v))
        buf[0] = '\0';
    double x = (double)qk_text_width(s, strlen(s)) * 1.1 + 2;
    return x > w ? (x > 60 ? 60 : x) : w;
}

static void write_table(lxw_workbook *wb, json_t *t, lxw_format *head, lxw_format *num, qk_lang lang)
{
    lxw_worksheet *ws = workbook_add_worksheet(
        wb, sheet_name(json_string_value(json_object_get(t, "subject")), lang));
    json_t *cols = json_object_get(t, "columns"), *rows = json_object_get(t, "rows");
    double widths[64] = {0};
    size_t i, k;
    json_t *col, *row, *v;
    json_array_foreach(cols, i, col)
    {
        if (i >= 64)
            break;
        json_t *label = json_object_get(col, lang == QK_LANG_EN ? "en" : "zh");
        worksheet_write_string(ws, 0, (lxw_col_t)i, json_string_value(label), head);
        widths[i] = width_of(label, 8);
    }
    json_array_foreach(rows, i, row)
    {
        json_array_foreach(row, k, v)
        {
            if (k >= 64)
                break;
            lxw_row_t r = (lxw_row_t)(i + 1);
            if (json_is_integer(v))
                worksheet_write_number(ws, r, (lxw_col_t)k, (double)json_integer_value(v), NULL);
            else if (json_is_real(v))
                worksheet_write_number(ws, r, (lxw_col_t)k, json_real_value(v), num);
            else if (json_is_string(v))
                worksheet_write_string(ws, r, (lxw_col_t)k, json_string_value(v), NULL);
            widths[k] = width_of(v, widths[k]);
        }
    }
    for (k = 0; k < json_array_size(cols) && k < 64; k++)
        worksheet_set_column(ws, (lxw_col_t)k, (lxw_col_t)k, widths[k], NULL);
    worksheet_freeze_panes(ws, 1, 0);
}

/* The first sheet: the period and the headline figures. */
static void write_summary(lxw_workbook *wb, json_t *const *tables, size_t n, lxw_format *head,
                          lxw_format *bold, qk_lang lang)
{
    int en = lang == QK_LANG_EN;
    lxw_worksheet *ws = workbook_add_worksheet(wb, en ? "Summary" : "汇总");
    worksheet_set_column(ws, 0, 0, 28, NULL);
    worksheet_set_column(ws, 1, 1, 16, NULL);
    lxw_row_t r = 0;
    worksheet_write_string(ws, r++, 0, en ? "Participation report" : "学习参与情况报表", bold);
    json_t *first = n ? tables[0] : NULL;
    if (first) {
        char period[64];
        snprintf(period, sizeof period, "%s – %s", json_string_value(json_object_get(first, "from")),
                 json_string_value(json_object_get(first, "to")));
        worksheet_write_string(ws, r, 0, en ? "Period (Beijing time)" : "统计期间（北京时间）", head);
        worksheet_write_string(ws, r++, 1, period, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        const char *subject = json_string_value(json_object_get(tables[i], "subject"));
        json_t *rows = json_object_get(tables[i], "rows");
        if (strcmp(subject, "participation") == 0 && json_array_size(rows) > 0) {
            json_t *all = json_array_get(rows, 0);
            static const char *const zh[] = {"名单人数", "参与人数", "参与率（%）", "人均活跃天数", "答题次数"};
            static const char *const en_l[] = {"On the roster", "Took part", "Participation rate (%)",
                                               "Active days per member", "Quiz attempts"};
            for (size_t k = 0; k < 5; k++) {
                json_t *v = json_array_get(all, k + 2);
                worksheet_write_string(ws, r, 0, en ? en_l[k] : zh[k], head);
                if (json_is_number(v))
                    worksheet_write_number(ws, r, 1, json_number_value(v), NULL);
                r++;
            }
        } else if (strcmp(subject, "inactive") == 0) {
            worksheet_write_string(ws, r, 0, en ? "Members who did not take part" : "未参与人数", head);
            worksheet_write_number(ws, r++, 1, (double)json_array_size(rows), NULL);
        }
    }
}

int qk_stats_xlsx(const char *path, json_t *const *tables, size_t n, qk_lang lang, char *msg,
                  size_t msglen)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.part.xlsx", path);
    /* Whether the file can be made at all is asked first: libxlsxwriter
     * reports a failure only when it closes, in English on stderr. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        qk__ymsgf(lang, msg, msglen, QK_Y_WRITE, path, qk_errno_text(errno, lang));
        return QK_EIO;
    }
    close(fd);
    lxw_workbook *wb = workbook_new(tmp);
    if (!wb) {
        unlink(tmp);
        qk__ymsgf(lang, msg, msglen, QK_Y_WRITE, path, qk_errno_text(errno ? errno : EIO, lang));
        return QK_EIO;
    }
    lxw_format *head = workbook_add_format(wb);
    format_set_bold(head);
    format_set_bg_color(head, 0xDDEBF7);
    format_set_bottom(head, LXW_BORDER_THIN);
    lxw_format *bold = workbook_add_format(wb);
    format_set_bold(bold);
    format_set_font_size(bold, 14);
    lxw_format *num = workbook_add_format(wb);
    format_set_num_format(num, "0.0");
    write_summary(wb, tables, n, head, bold, lang);
    for (size_t i = 0; i < n; i++)
        write_table(wb, tables[i], head, num, lang);
    lxw_error e = workbook_close(wb);
    if (e != LXW_NO_ERROR || rename(tmp, path) != 0) {
        qk__ymsgf(lang, msg, msglen, QK_Y_WRITE, path,
                  e != LXW_NO_ERROR ? lxw_strerror(e) : qk_errno_text(errno, lang));
        unlink(tmp);
        return QK_EIO;
    }
    return QK_OK;
}
