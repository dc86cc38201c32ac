#!/usr/bin/python3
"""Extracts Kafka frames from a loopback capture into golden test vectors.

Usage: extract_frames.py CAPTURE.pcapng BROKER_PORT OUTDIR [PREFIX]

Reads the TCP payloads with tshark, reassembles each connection's two byte streams (in
sequence-number order, duplicates dropped), splits them on the int32 size prefix, pairs each
response with its request by correlation id, and writes one hex file per frame:

  OUTDIR/<PREFIX><api>_v<version>_<request|response>.hex

The first frame of each (api, version, direction) wins; later ones are counted, not written.
Each file holds the whole frame (size prefix, header, body) as hex, 32 bytes a line.
"""
import collections
import os
import struct
import subprocess
import sys

API_NAMES = {0: "produce", 1: "fetch", 2: "list_offsets", 3: "metadata",
             18: "api_versions", 22: "init_pid"}


def payloads(capture, port):
    out = subprocess.run(
        ["tshark", "-r", capture, "-Y", "tcp.len > 0 && tcp.port == %d" % port,
         "-T", "fields", "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.seq",
         "-e", "tcp.payload"],
        check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        stream, srcport, seq, hexdata = line.split("\t")
        yield int(stream), int(srcport) != port, int(seq), bytes.fromhex(hexdata.replace(":", ""))


def reassemble(capture, port):
    """Returns {(stream, to_broker): bytes}."""
    segs = collections.defaultdict(dict)
    for stream, to_broker, seq, data in payloads(capture, port):
        segs[(stream, to_broker)].setdefault(seq, data)
    flows = {}
    for key, by_seq in segs.items():
        buf = bytearray()
        expect = None
        for seq in sorted(by_seq):
            data = by_seq[seq]
            if expect is not None and seq != expect:
                if seq < expect:  # overlap: keep the new part only
                    data = data[expect - seq:]
                else:
                    raise SystemExit("gap in stream %s at seq %d" % (key, seq))
            buf += data
            expect = seq + len(by_seq[seq])
        flows[key] = bytes(buf)
    return flows


def split_frames(buf):
    frames, pos = [], 0
    while pos + 4 <= len(buf):
        (size,) = struct.unpack_from(">i", buf, pos)
        if size < 0 or pos + 4 + size > len(buf):
            break
        frames.append(buf[pos:pos + 4 + size])
        pos += 4 + size
    return frames, len(buf) - pos


def hexfile(path, frame):
    with open(path, "w") as f:
        for i in range(0, len(frame), 32):
            f.write(frame[i:i + 32].hex() + "\n")


def main():
    if len(sys.argv) not in (4, 5):
        raise SystemExit(__doc__)
    capture, port, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    prefix = sys.argv[4] if len(sys.argv) == 5 else ""
    os.makedirs(outdir, exist_ok=True)
    flows = reassemble(capture, port)
    written, seen = [], collections.Counter()
    for stream in sorted({s for s, _ in flows}):
        reqs, left_q = split_frames(flows.get((stream, True), b""))
        resps, left_r = split_frames(flows.get((stream, False), b""))
        if left_q or left_r:
            print("stream %d: %d/%d bytes of a partial frame ignored" % (stream, left_q, left_r))
        by_corr = {}
        for r in resps:
            (corr,) = struct.unpack_from(">i", r, 4)
            by_corr.setdefault(corr, r)
        for q in reqs:
            key, ver, corr = struct.unpack_from(">hhi", q, 4)
            name = API_NAMES.get(key, "api%d" % key)
            for direction, frame in (("request", q), ("response", by_corr.get(corr))):
                if frame is None:
                    continue
                tag = (name, ver, direction)
                seen[tag] += 1
                if seen[tag] == 1:
                    path = os.path.join(outdir, "%s%s_v%d_%s.hex" % (prefix, name, ver, direction))
                    hexfile(path, frame)
                    written.append((path, len(frame)))
    for path, n in written:
        print("%-60s %6d bytes" % (path, n))
    for (name, ver, direction), n in sorted(seen.items()):
        print("seen %-14s v%-2d %-8s x%d" % (name, ver, direction, n))


if __name__ == "__main__":
    main()
