/* replay.c: runs a fuzz target over every file in a corpus folder, so that the
 * corpus is a regression test in ordinary builds (without libFuzzer). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        perror(argv[1]);
        return 2;
    }
    struct dirent *ent;
    int n = 0;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], ent->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        uint8_t *buf = malloc(1 << 20);
        size_t len = buf ? fread(buf, 1, 1 << 20, f) : 0;
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        n++;
    }
    closedir(d);
    /* Plus a few generated inputs that are awkward to keep as files. */
    uint8_t edge[300];
    for (size_t i = 0; i < sizeof edge; i++)
        edge[i] = (uint8_t)(i * 7 + 0x80);
    LLVMFuzzerTestOneInput(edge, 0);
    LLVMFuzzerTestOneInput(edge, sizeof edge);
    printf("%d passed, 0 failed\n", n + 2);
    return n > 0 ? 0 : 1;
}
