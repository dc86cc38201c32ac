/* `courier produce`: stdin lines to a real cluster, the summary line, per-message failures
 * and exit codes. Runs the courier binary ($COURIER, built by `make`). */
#include "tests/test_producer_util.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static bool have_courier(void) {
    struct stat st;
    if (stat(tu_courier_path(), &st) != 0) {
        fprintf(stderr, "\n%s not built: run `make` (the courier binary) first\n",
                tu_courier_path());
        return false;
    }
    return true;
}

/* Runs `courier produce ARGS < in > out 2> err` (stdin a regular file, which courier maps), or
 * with piped = true `cat in | courier produce ...` (read(2) from a pipe); returns the exit
 * status. */
static int run_produce_from(bool piped, const char *args, const char *input, char *out,
                            size_t outsz, char *err, size_t errsz) {
    char in_path[] = "/tmp/courier-cli-in-XXXXXX";
    int fd = mkstemp(in_path);
    if (fd < 0)
        return -1;
    size_t len = strlen(input);
    if (write(fd, input, len) != (ssize_t)len) {
        close(fd);
        return -1;
    }
    close(fd);
    char out_path[64], err_path[64];
    snprintf(out_path, sizeof out_path, "%s.out", in_path);
    snprintf(err_path, sizeof err_path, "%s.err", in_path);
    char cmd[2048];
    if (piped)
        snprintf(cmd, sizeof cmd, "cat %s | '%s' produce %s > %s 2> %s", in_path,
                 tu_courier_path(), args, out_path, err_path);
    else
        snprintf(cmd, sizeof cmd, "'%s' produce %s < %s > %s 2> %s", tu_courier_path(), args,
                 in_path, out_path, err_path);
    int rc = system(cmd);
    const char *paths[2] = {out_path, err_path};
    char *bufs[2] = {out, err};
    size_t sizes[2] = {outsz, errsz};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(paths[i], "r");
        size_t n = f ? fread(bufs[i], 1, sizes[i] - 1, f) : 0;
        bufs[i][n] = 0;
        if (f)
            fclose(f);
        unlink(paths[i]);
    }
    unlink(in_path);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int run_produce(const char *args, const char *input, char *out, size_t outsz, char *err,
                       size_t errsz) {
    return run_produce_from(false, args, input, out, outsz, err, errsz);
}

typedef struct cli_read {
    int64_t n;
    int64_t with_value_prefix;
    bool seen[200]; /* value-N read back exactly (no key, no newline) */
} cli_read;

static void count_read(int32_t partition, const void *value, size_t len, void *arg) {
    (void)partition;
    cli_read *r = arg;
    r->n++;
    if (len >= 6 && !memcmp(value, "value-", 6))
        r->with_value_prefix++;
    char v[32];
    int i;
    if (len < sizeof v) {
        memcpy(v, value, len);
        v[len] = 0;
        char tail;
        if (sscanf(v, "value-%d%c", &i, &tail) == 1 && i >= 0 && i < 200)
            r->seen[i] = true;
    }
}

static int count_seen(const cli_read *r) {
    int n = 0;
    for (int i = 0; i < 200; i++)
        n += r->seen[i];
    return n;
}

static void test_cli_produces_stdin_lines_and_summarises(void) {
    if (!have_courier()) {
        CU_FAIL("courier binary missing");
        return;
    }
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 3, "cli", 3, 3));
    char *input = malloc(200 * 32);
    size_t off = 0;
    for (int i = 0; i < 200; i++)
        off += (size_t)sprintf(input + off, "key-%d:value-%d\n", i % 7, i);
    char args[768], out[4096], err[4096];
    snprintf(args, sizeof args, "-b %s -t cli -k : -X linger.ms=2 --stats", m.bootstraps);
    int rc = run_produce(args, input, out, sizeof out, err, sizeof err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "sent 200, acked 200, failed 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "p99"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "record-send-total"));
    if (rc != 0)
        fprintf(stderr, "\nstdout: %s\nstderr: %s\n", out, err);
    cli_read r = {0};
    CU_ASSERT_EQUAL(tcl_read_back(&m, "cli", 3, 200, 20000, count_read, &r), 200);
    CU_ASSERT_EQUAL(r.with_value_prefix, 200); /* the key was split off */
    CU_ASSERT_EQUAL(count_seen(&r), 200);       /* each value exactly, without its newline */
    /* -n stops early */
    snprintf(args, sizeof args, "-b %s -t cli -n 5", m.bootstraps);
    rc = run_produce(args, input, out, sizeof out, err, sizeof err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "sent 5, acked 5, failed 0"));
    free(input);
    tcl_stop(&m);
}

/* The same lines through a pipe (read(2)) and from a file (mapped) give the same records; the
 * last line may lack its newline. */
static void test_cli_reads_pipes_and_files_alike(void) {
    if (!have_courier()) {
        CU_FAIL("courier binary missing");
        return;
    }
    for (int piped = 0; piped < 2; piped++) {
        tcl m;
        CU_ASSERT_FATAL(tcl_start(&m, false, 1, "cli2", 2, 1));
        char input[200 * 32];
        size_t off = 0;
        for (int i = 0; i < 200; i++)
            off += (size_t)sprintf(input + off, "k%d=>value-%d%s", i, i, i < 199 ? "\n" : "");
        char args[768], out[4096], err[4096];
        snprintf(args, sizeof args, "-b %s -t cli2 -k '=>'", m.bootstraps);
        int rc =
            run_produce_from(piped != 0, args, input, out, sizeof out, err, sizeof err);
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "sent 200, acked 200, failed 0"));
        if (rc != 0)
            fprintf(stderr, "\n%s: stdout: %s\nstderr: %s\n", piped ? "pipe" : "file", out, err);
        cli_read r = {0};
        CU_ASSERT_EQUAL(tcl_read_back(&m, "cli2", 2, 200, 20000, count_read, &r), 200);
        CU_ASSERT_EQUAL(count_seen(&r), 200);
        tcl_stop(&m);
    }
}

static void test_cli_failures_exit_1_and_name_the_error(void) {
    if (!have_courier()) {
        CU_FAIL("courier binary missing");
        return;
    }
    char out[4096], err[4096];
    int rc = run_produce("-b 127.0.0.1:1 -t nowhere -X max.block.ms=100", "a\nb\n", out, sizeof out,
                         err, sizeof err);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "METADATA_TIMEOUT"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "sent 2, acked 0, failed 2"));
}

static void test_cli_bad_usage_exits_2(void) {
    if (!have_courier()) {
        CU_FAIL("courier binary missing");
        return;
    }
    char out[4096], err[4096];
    CU_ASSERT_EQUAL(run_produce("-t t", "", out, sizeof out, err, sizeof err), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "-b"));
    CU_ASSERT_EQUAL(
        run_produce("-b 127.0.0.1:9 -t t -X acks=7", "", out, sizeof out, err, sizeof err), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "acks"));
    CU_ASSERT_EQUAL(
        run_produce("-b 127.0.0.1:9 -t t --bogus", "", out, sizeof out, err, sizeof err), 2);
    CU_ASSERT_EQUAL(run_produce("-b 127.0.0.1:9 -t t -X enable.idempotence=true -X acks=1", "", out,
                                sizeof out, err, sizeof err),
                    2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "acks=all"));
    CU_ASSERT_EQUAL(run_produce("--help", "", out, sizeof out, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "usage: courier produce"));
}

void suite_producer_cli(void);
void suite_producer_cli(void) {
    tu_suite("producer_cli");
    tu_test("test_cli_produces_stdin_lines_and_summarises",
            test_cli_produces_stdin_lines_and_summarises);
    tu_test("test_cli_reads_pipes_and_files_alike", test_cli_reads_pipes_and_files_alike);
    tu_test("test_cli_failures_exit_1_and_name_the_error",
            test_cli_failures_exit_1_and_name_the_error);
    tu_test("test_cli_bad_usage_exits_2", test_cli_bad_usage_exits_2);
}
