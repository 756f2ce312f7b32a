/* Fuzz target for the XML inside a workbook: a zip's checksums stop most
 * mutated .xlsx files at the zip, so here the input becomes one part of a
 * well-formed package (first byte: which part; the rest: its XML), packed by
 * libzip with right checksums, and the whole is imported as .xlsx. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "qk_content.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/styles.xml",
                                    "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "_rels/.rels"};
static const char *const parts[] = {
    "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
    "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c><c r=\"C1\" t=\"s\"><v>2</v></c></row>"
    "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>3</v></c><c r=\"B2\" t=\"inlineStr\"><is><t>1+1=____</t></is></c>"
    "<c r=\"C2\" s=\"1\"><v>2</v></c></row></sheetData></worksheet>",
    "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><si><t>题型</t></si>"
    "<si><t>题干</t></si><si><r><t>答</t></r><r><t>案</t></r></si><si><t>填空</t></si></sst>",
    "<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><numFmts count=\"1\">"
    "<numFmt numFmtId=\"164\" formatCode=\"0&quot;个&quot;\"/></numFmts><cellXfs count=\"2\">"
    "<xf numFmtId=\"0\"/><xf numFmtId=\"164\"/></cellXfs></styleSheet>",
    "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>"
    "<sheet name=\"题库\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>",
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" "
    "Target=\"worksheets/sheet1.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" "
    "Target=\"sharedStrings.xml\"/>"
    "<Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" "
    "Target=\"styles.xml\"/></Relationships>",
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" "
    "Target=\"xl/workbook.xml\"/></Relationships>",
};

static int sink(const qk_question *q, int line, void *payload)
{
    (void)line;
    (void)payload;
    char msg[256];
    if (qk_question_check(q, QK_LANG_EN, msg, sizeof msg) != QK_OK)
        abort();
    return QK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 20)
        return 0;
    size_t which = data[0] % (sizeof names / sizeof names[0]);
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *mem = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_t *z = mem ? zip_open_from_source(mem, ZIP_TRUNCATE, &ze) : NULL;
    zip_error_fini(&ze);
    if (!z) {
        if (mem)
            zip_source_free(mem);
        return 0;
    }
    zip_source_keep(mem);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const void *bytes = i == which ? (const void *)(data + 1) : parts[i];
        size_t n = i == which ? size - 1 : strlen(parts[i]);
        zip_source_t *src = zip_source_buffer(z, bytes, n, 0);
        if (!src || zip_file_add(z, names[i], src, ZIP_FL_OVERWRITE) < 0)
            zip_source_free(src);
    }
    if (zip_close(z) != 0) {
        zip_discard(z);
        zip_source_free(mem);
        return 0;
    }
    zip_stat_t st;
    char *book = NULL;
    if (zip_source_stat(mem, &st) == 0 && zip_source_open(mem) == 0) {
        book = malloc(st.size ? st.size : 1);
        if (book && zip_source_read(mem, book, st.size) == (zip_int64_t)st.size)
            qk_content_parse(QK_SRC_XLSX, "fuzz.xlsx", book, st.size, "t", QK_LANG_EN, NULL, NULL, sink, NULL);
        zip_source_close(mem);
    }
    free(book);
    zip_source_free(mem);
    return 0;
}
