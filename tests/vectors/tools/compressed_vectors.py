#!/usr/bin/python3
"""Records compressed RecordBatches written by real clients, for tests/test_protocol_compress.c.

Usage (from the repository root, with `courier broker` or librdkafka's mock listening):
  /usr/bin/python3 tests/vectors/tools/compressed_vectors.py BOOTSTRAP OUTDIR PREFIX [kcat|kpy]...

For each client and codec (gzip, snappy, lz4, zstd) it produces 20 records to a topic of its
own (PREFIX_<client>_<codec>): with kcat (`kcat -P -z CODEC -K:`) or with kafka-python's
KafkaProducer(compression_type=CODEC) (Debian python3-kafka, with python3-lz4, python3-snappy
and python3-zstandard). Record i is key "k<i>", value "courier compressed line <i> " * 4.
Then it reads partition 0 back with a raw Fetch v4 (kafka-python's protocol classes, no
decoding of the records) and writes the record bytes the broker served, as hex, to
OUTDIR/PREFIX_<client>_<codec>.hex. The broker serves batches as the client sent them, so the
bytes are the client's own batches (baseOffset aside).
"""
import subprocess
import sys
import time

from kafka import KafkaProducer
from kafka.client_async import KafkaClient
from kafka.protocol.fetch import FetchRequest

CODECS = ["gzip", "snappy", "lz4", "zstd"]


def lines():
    return ["k%d:%s" % (i, ("courier compressed line %d " % i) * 4) for i in range(20)]


def produce_kcat(bootstrap, topic, codec):
    data = "".join(l + "\n" for l in lines()).encode()
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", topic, "-p", "0", "-z", codec, "-K:",
                    "-X", "linger.ms=50"], input=data, check=True)


def produce_kpy(bootstrap, topic, codec):
    p = KafkaProducer(bootstrap_servers=bootstrap, compression_type=codec, linger_ms=50)
    for l in lines():
        k, v = l.split(":", 1)
        p.send(topic, key=k.encode(), value=v.encode(), partition=0)
    p.flush()
    p.close()


def fetch_raw(bootstrap, topic):
    c = KafkaClient(bootstrap_servers=bootstrap, api_version=(2, 0))
    c.add_topic(topic)
    deadline = time.time() + 10
    node = None
    while time.time() < deadline:
        c.poll(timeout_ms=100, future=c.cluster.request_update())
        node = c.cluster.leader_for_partition(__import__("kafka").TopicPartition(topic, 0))
        if node is not None and node >= 0:
            break
    while not c.ready(node) and time.time() < deadline:
        c.poll(timeout_ms=100)
    req = FetchRequest[4](-1, 100, 1, 1 << 20, 0, [(topic, [(0, 0, 1 << 20)])])
    f = c.send(node, req)
    c.poll(future=f, timeout_ms=5000)
    resp = f.value
    c.close()
    part = resp.topics[0][1][0]
    return part[-1]


def main():
    bootstrap, outdir, prefix = sys.argv[1:4]
    for client in sys.argv[4:]:
        for codec in CODECS:
            topic = "%s_%s_%s" % (prefix, client, codec)
            (produce_kcat if client == "kcat" else produce_kpy)(bootstrap, topic, codec)
            raw = fetch_raw(bootstrap, topic)
            with open("%s/%s.hex" % (outdir, topic), "w") as f:
                h = raw.hex()
                for i in range(0, len(h), 64):
                    f.write(h[i:i + 64] + "\n")
            print("%s: %d bytes, attributes 0x%02x" % (topic, len(raw), raw[22] if len(raw) > 22 else -1))


if __name__ == "__main__":
    main()
