#!/usr/bin/python3
"""Writes message bodies encoded by kafka-python's protocol classes (kafka.protocol.*), an
encoder independent of ours, for the versions no live peer here sends.

Usage: kafka_python_vectors.py OUTDIR      (writes OUTDIR/<api>_v<N>_<request|response>.hex)

Each API carries the same logical content at every version (fields a version lacks are left
out); tests/test_protocol_oracle.c checks those values and re-encodes to the same bytes.
Left out because kafka-python 2.0.2's own schema disagrees with apache/kafka's JSON:
  - ListOffsets request v4-v5: kafka-python encodes current_leader_epoch as Int64 (JSON: int32)
  - Produce response v8: kafka-python puts record_errors/error_message after the partitions
    array (JSON: inside each partition)
  - Fetch request v7+ forgotten_topics_data is left empty: kafka-python declares its topic as
    the bare String class and cannot encode one
  - Metadata 6-8, InitProducerId: not in kafka-python 2.0.2
"""
import os
import sys

from kafka.protocol.admin import ApiVersionResponse
from kafka.protocol.fetch import FetchRequest, FetchResponse
from kafka.protocol.metadata import MetadataRequest, MetadataResponse
from kafka.protocol.offset import OffsetRequest, OffsetResponse
from kafka.protocol.produce import ProduceRequest, ProduceResponse


def metadata_req(v):
    args = [["alpha", "beta"]]
    if v >= 4:
        args.append(False)
    return MetadataRequest[v](*args)


def metadata_resp(v):
    def broker(node, host, port, rack):
        return (node, host, port) + ((rack,) if v >= 1 else ())

    def part(err, idx, leader, replicas, isr, offline):
        return (err, idx, leader, replicas, isr) + ((offline,) if v >= 5 else ())

    def topic(err, name, internal, parts):
        return (err, name) + ((internal,) if v >= 1 else ()) + (parts,)

    brokers = [broker(1, "h1", 9001, "rack-1"), broker(2, "h2", 9002, None)]
    topics = [topic(0, "alpha", False, [part(0, 0, 1, [1, 2], [1], [2]),
                                        part(9, 1, 2, [2, 1], [2, 1], [])]),
              topic(3, "gone", True, [])]
    args = []
    if v >= 3:
        args.append(101)
    args.append(brokers)
    if v >= 2:
        args.append("cid-7")
    if v >= 1:
        args.append(2)
    args.append(topics)
    return MetadataResponse[v](*args)


def produce_req(v):
    return ProduceRequest[v](None, -1, 1500,
                             [("alpha", [(0, b"batch-bytes-0"), (3, b""), (4, None)])])


def produce_resp(v):
    def part(idx, err, off, ts, lso):
        return (idx, err, off, ts) + ((lso,) if v >= 5 else ())
    return ProduceResponse[v]([("alpha", [part(0, 0, 100, -1, 5),
                                          part(3, 6, -1, 1700000000000, -1)])], 7)


def list_offsets_req(v):
    args = [-1]
    if v >= 2:
        args.append(1)
    args.append([("alpha", [(0, -2), (1, -1)])])
    return OffsetRequest[v](*args)


def list_offsets_resp(v):
    def part(idx, err, ts, off, epoch):
        return (idx, err, ts, off) + ((epoch,) if v >= 4 else ())
    args = [9] if v >= 2 else []
    args.append([("alpha", [part(0, 0, -1, 42, 6), part(1, 6, 123, -1, -1)])])
    return OffsetResponse[v](*args)


def fetch_req(v):
    def part(idx, cle, off, lso, maxb):
        return ((idx,) + ((cle,) if v >= 9 else ()) + (off,) + ((lso,) if v >= 5 else ())
                + (maxb,))
    args = [-1, 500, 1, 52428800, 0]
    if v >= 7:
        args += [77, 3]
    args.append([("alpha", [part(0, 4, 10, 2, 1048576), part(5, 4, 0, -1, 65536)])])
    if v >= 7:
        args.append([])  # kafka-python 2.0.2 cannot encode a forgotten topic (bare String)
    if v >= 11:
        args.append("r1")
    return FetchRequest[v](*args)


def fetch_resp(v):
    def part(idx, err, hw, lso, logstart, aborted, pref, records):
        return ((idx, err, hw, lso) + ((logstart,) if v >= 5 else ()) + (aborted,)
                + ((pref,) if v >= 11 else ()) + (records,))
    args = [0]
    if v >= 7:
        args += [0, 77]
    args.append([("alpha", [part(0, 0, 20, 19, 1, [(1000, 5)], 2, b"records"),
                            part(1, 1, 5, 5, 0, None, -1, None)])])
    return FetchResponse[v](*args)


def api_versions_resp(v):
    args = [0, [(0, 3, 8), (18, 0, 3)]]
    if v >= 1:
        args.append(3)
    return ApiVersionResponse[v](*args)


PLAN = [
    ("metadata", "request", metadata_req, range(0, 6)),
    ("metadata", "response", metadata_resp, range(0, 6)),
    ("produce", "request", produce_req, range(3, 9)),
    ("produce", "response", produce_resp, range(3, 8)),
    ("list_offsets", "request", list_offsets_req, range(1, 4)),
    ("list_offsets", "response", list_offsets_resp, range(1, 6)),
    ("fetch", "request", fetch_req, range(4, 12)),
    ("fetch", "response", fetch_resp, range(4, 12)),
    ("api_versions", "response", api_versions_resp, range(0, 3)),
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    n = 0
    for api, direction, make, versions in PLAN:
        for v in versions:
            msg = make(v)  # kafka-python binds encode() weakly: keep the object alive
            body = msg.encode()
            with open(os.path.join(out, "%s_v%d_%s.hex" % (api, v, direction)), "w") as f:
                for i in range(0, len(body), 32):
                    f.write(body[i:i + 32].hex() + "\n")
            n += 1
    print("%d bodies written to %s" % (n, out))


if __name__ == "__main__":
    main()
