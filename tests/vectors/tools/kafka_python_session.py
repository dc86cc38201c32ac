#!/usr/bin/python3
"""One kafka-python session for the golden captures: produce three records with acks=all to
topic "golden" partition 0, then read them back from the beginning.

Usage: kafka_python_session.py BOOTSTRAP [API_VERSION]
API_VERSION ("2.0") pins the broker version kafka-python assumes instead of asking, which
picks the request versions (2.0 -> Produce v6).
"""
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition


def main():
    bs = sys.argv[1]
    pinned = {}
    if len(sys.argv) > 2:
        pinned["api_version"] = tuple(int(x) for x in sys.argv[2].split("."))
    producer = KafkaProducer(bootstrap_servers=bs, acks="all", client_id="courier-golden-py",
                             linger_ms=50, **pinned)
    for key, value in ((b"k1", b"hello"), (b"k2", b"world"), (None, b"no-key")):
        producer.send("golden", key=key, value=value, partition=0)
    producer.flush(10)
    producer.close(10)

    consumer = KafkaConsumer(bootstrap_servers=bs, client_id="courier-golden-py",
                             enable_auto_commit=False, consumer_timeout_ms=3000, **pinned)
    tp = TopicPartition("golden", 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    got = 0
    for msg in consumer:
        print(msg.offset, msg.key, msg.value)
        got += 1
        if got == 3:
            break
    consumer.close()
    if got != 3:
        raise SystemExit("kafka-python read %d records back, expected 3" % got)


if __name__ == "__main__":
    main()
