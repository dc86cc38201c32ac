/* mock_cluster — starts librdkafka's mock cluster so real peers can be recorded.
 *
 * Usage: mock_cluster [-b brokers] [-t topic:partitions]... [-a apikey:min:max]...
 * Prints the bootstrap servers ("127.0.0.1:PORT,...") on one line of stdout, then serves
 * until stdin reaches end of file. -a caps the versions the mock advertises for an API key
 * (it must not exceed what the mock implements); the golden captures use it to keep every
 * exchange inside the versions Courier speaks.
 *
 * Build: gcc -std=c11 -O1 -o build/vectors/mock_cluster tests/vectors/tools/mock_cluster.c
 * -lrdkafka A test tool, not part of any room; see tests/vectors/README.md.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void) {
    fprintf(stderr, "usage: mock_cluster [-b brokers] [-t topic:partitions]... "
                    "[-a apikey:min:max]...\n");
    return 2;
}

int main(int argc, char **argv) {
    int brokers = 1;
    for (int i = 1; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "-b"))
            brokers = atoi(argv[i + 1]);
    if (brokers < 1 || brokers > 16)
        return usage();

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "mock_cluster: %s\n", errstr);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "mock_cluster: rd_kafka_new: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "mock_cluster: rd_kafka_mock_cluster_new failed\n");
        return 1;
    }

    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            return usage();
        const char *opt = argv[i], *val = argv[i + 1];
        if (!strcmp(opt, "-b"))
            continue;
        if (!strcmp(opt, "-t")) {
            char topic[256];
            int parts;
            if (sscanf(val, "%255[^:]:%d", topic, &parts) != 2 || parts < 1)
                return usage();
            rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, topic, parts, 1);
            if (err) {
                fprintf(stderr, "mock_cluster: topic %s: %s\n", topic, rd_kafka_err2str(err));
                return 1;
            }
        } else if (!strcmp(opt, "-a")) {
            int key, lo, hi;
            if (sscanf(val, "%d:%d:%d", &key, &lo, &hi) != 3)
                return usage();
            rd_kafka_resp_err_t err =
                rd_kafka_mock_set_apiversion(mc, (int16_t)key, (int16_t)lo, (int16_t)hi);
            if (err) {
                fprintf(stderr, "mock_cluster: apiversion %s: %s\n", val, rd_kafka_err2str(err));
                return 1;
            }
        } else {
            return usage();
        }
    }

    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    while (getchar() != EOF)
        ;
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
