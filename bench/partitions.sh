#!/bin/sh
# 1000 partitions x 3 brokers: how long `courier broker` takes to start (to its bootstrap
# line), that kcat -L lists every partition, and that `courier produce -k` sends N keyed
# records (default 1,000,000) each to murmur2(key) % 1000 as Java's and librdkafka's
# murmur2 partitioners (checked against kafka-python's murmur2 on every record read back
# with kcat -C).
#   bench/partitions.sh [COURIER] [N]
COURIER=${1:-build/release/courier}
N=${2:-1000000}
PARTS=1000
T=${TMPDIR:-/tmp}/courier-parts.$$
mkdir -p "$T" || exit 1
trap 'kill $BPID 2>/dev/null; wait $BPID 2>/dev/null; rm -rf "$T"' EXIT INT TERM
s=$(date +%s%N)
"$COURIER" broker --brokers 3 --topic big:$PARTS:3 >"$T/bk" 2>&1 &
BPID=$!
while ! grep -q bootstrap "$T/bk"; do
    kill -0 $BPID 2>/dev/null || { cat "$T/bk"; exit 1; }
    sleep 0.005
done
e=$(date +%s%N)
BS=$(sed -n 's/^bootstrap: //p' "$T/bk")
echo "courier broker, 3 brokers, $PARTS partitions x replication 3: started in $(( (e - s) / 1000000 )) ms"
echo "kcat -L lists $(kcat -L -b "$BS" -t big | grep -c ' partition ') partitions"
python3 -c "
import sys
n=int(sys.argv[1])
out=sys.stdout
for i in range(n): out.write('key-%d:v%d\n' % (i, i))
" "$N" >"$T/in"
s=$(date +%s%N)
"$COURIER" produce -b "$BS" -t big -k : -X linger.ms=5 <"$T/in" | tail -1
e=$(date +%s%N)
echo "courier produce: $N keyed records to $PARTS partitions in $(( (e - s) / 1000000 )) ms"
kcat -C -b "$BS" -t big -e -q -f '%p %k\n' >"$T/out" 2>/dev/null
/usr/bin/python3 - "$T/out" "$N" "$PARTS" <<'PY'
import sys
from kafka.partitioner.default import murmur2
path, n, parts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = bad = 0
keys = set()
for line in open(path, 'rb'):
    p, k = line.rstrip(b'\n').split(b' ', 1)
    seen += 1
    keys.add(k)
    if (murmur2(k) & 0x7fffffff) % parts != int(p):
        bad += 1
print("read back %d records, %d distinct keys, %d on a partition other than murmur2's" % (seen, len(keys), bad))
sys.exit(0 if seen == n and len(keys) == n and bad == 0 else 1)
PY
