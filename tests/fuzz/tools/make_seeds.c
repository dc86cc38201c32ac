/* make_seeds — writes the message fuzz targets' seed corpora from the sample messages of
 * tests/test_protocol_messages.c (every API, both directions, every supported version):
 * corpus/<api>_<req|resp>/sample_v<N> = one version byte (N - min) + the encoded body.
 *
 * Build and run from the repository root (see tests/vectors/README.md, "Fuzz seeds"):
 *   cc -std=c11 -D_GNU_SOURCE -I. -o /tmp/make_seeds tests/fuzz/tools/make_seeds.c \
 *      tests/tu.c protocol/*.c -lcunit -lz -llz4 -lzstd -lsnappy && /tmp/make_seeds tests/fuzz/corpus
 * It includes the test file itself so the samples are the very ones the tests check. */
#include "tests/test_protocol_messages.c"

#include <errno.h>
#include <sys/stat.h>

static const char *target_dir(const codec *c) {
    static const struct {
        const char *name;
        const char *dir;
    } map[] = {{"ApiVersions", "api_versions"}, {"Metadata", "metadata"},
               {"Produce", "produce"},          {"InitProducerId", "init_pid"},
               {"ListOffsets", "list_offsets"}, {"Fetch", "fetch"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i].name, c->name))
            return map[i].dir;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds CORPUS_DIR\n");
        return 2;
    }
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    int written = 0;
    for (size_t i = 0; i < N_CODECS; i++) {
        const codec *c = &codecs[i];
        char dir[512];
        snprintf(dir, sizeof dir, "%s/%s_%s", argv[1], target_dir(c),
                 strcmp(c->dir, "request") ? "resp" : "req");
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            perror(dir);
            return 1;
        }
        for (int16_t v = c->min; v <= c->max; v++) {
            any_msg m;
            memset(&m, 0, sizeof m);
            c->fill(&m);
            kw_wbuf_reset(&wb);
            kw_write_i8(&wb, (int8_t)(v - c->min));
            c->enc(&wb, v, &m);
            char path[600];
            snprintf(path, sizeof path, "%s/sample_v%d", dir, v);
            FILE *f = fopen(path, "wb");
            if (!f || fwrite(wb.p, 1, wb.len, f) != wb.len || fclose(f) != 0) {
                perror(path);
                return 1;
            }
            written++;
        }
    }
    kw_wbuf_free(&wb);
    printf("%d seeds written\n", written);
    return 0;
}
