#!/usr/bin/python3
"""Cuts the bodies out of the golden frames (tests/vectors/golden/*.hex) into the message fuzz
targets' seed corpora: corpus/<api>_<req|resp>/golden_<file> = version byte + body.

Usage: golden_seeds.py GOLDEN_DIR CORPUS_DIR
"""
import os
import re
import struct
import sys

RANGES = {"api_versions": 0, "metadata": 0, "produce": 0, "init_pid": 0, "list_offsets": 1,
          "fetch": 4}
# first flexible version of each API (request header v2, response header v1 from there on,
# except ApiVersions responses, which keep header v0)
FLEX = {"api_versions": 3, "metadata": 9, "produce": 9, "init_pid": 2, "list_offsets": 6,
        "fetch": 12}
NAME = re.compile(r"^(?:[a-z0-9]+_)?(api_versions|metadata|produce|init_pid|list_offsets|fetch)"
                  r"_v(\d+)_(request|response)\.hex$")


def main():
    golden, corpus = sys.argv[1], sys.argv[2]
    n = 0
    for f in sorted(os.listdir(golden)):
        m = NAME.match(f)
        if not m:
            continue
        api, ver, direction = m.group(1), int(m.group(2)), m.group(3)
        frame = bytes.fromhex(open(os.path.join(golden, f)).read().replace("\n", ""))
        pos = 4
        if direction == "request":
            pos += 8
            (cid_len,) = struct.unpack_from(">h", frame, pos)
            pos += 2 + max(cid_len, 0)
            if ver >= FLEX[api]:
                pos += 1  # request header v2: empty tagged fields
        else:
            pos += 4  # correlation id
            if ver >= FLEX[api] and api != "api_versions":
                pos += 1  # response header v1: empty tagged fields
        out = os.path.join(corpus, "%s_%s" % (api, "req" if direction == "request" else "resp"))
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "golden_" + f[:-4]), "wb") as o:
            o.write(bytes([ver - RANGES[api]]) + frame[pos:])
        n += 1
    print("%d seeds written" % n)


if __name__ == "__main__":
    main()
