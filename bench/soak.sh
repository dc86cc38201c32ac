#!/bin/sh
# Soak: `courier broker` with retention on under mixed load for DURATION seconds (default
# 1200): kcat -P, kafka-python producers and `courier produce` in turn, each connecting,
# sending a burst and disconnecting, with kcat -C readers coming and going. Every 10 s the
# broker's RSS (VmRSS) and open fds are sampled into $OUT (CSV: seconds,rss_kb,fds,records).
# At the end: RSS over the second half must stay within 15% of its peak over the second
# quarter (the first quarter is warm-up),
# the fd count must be back to its idle value, and every record acknowledged in the last
# burst (well within retention) must be read back, with no holes between the log start and
# the end of any partition.
#   bench/soak.sh [DURATION_S] [COURIER]     (make soak; not part of make test)
DUR=${1:-1200}
COURIER=${2:-build/release/courier}
OUT=${OUT:-soak.csv}
T=${TMPDIR:-/tmp}/courier-soak.$$
mkdir -p "$T" || exit 1
trap 'kill $BPID 2>/dev/null; wait $BPID 2>/dev/null; rm -rf "$T"' EXIT INT TERM
# retention: 4 MiB per partition in 512 KiB segments, 6 partitions x 3 replicas
"$COURIER" broker --topic soak:6:3 -X log.retention.bytes=4194304 -X log.segment.bytes=524288 \
    >"$T/bk" 2>&1 &
BPID=$!
while ! grep -q bootstrap "$T/bk"; do
    kill -0 $BPID 2>/dev/null || { cat "$T/bk"; exit 1; }
    sleep 0.05
done
BS=$(sed -n 's/^bootstrap: //p' "$T/bk")
fds() { ls /proc/$BPID/fd | wc -l; }
rss() { awk '/VmRSS/ {print $2}' /proc/$BPID/status; }
IDLE_FDS=$(fds)
echo "soak: courier broker pid $BPID at $BS, $DUR s, idle fds $IDLE_FDS" >&2
python3 -c "
for i in range(20000): print('soak-%06d-%s' % (i, 'x' * 200))" >"$T/lines"
echo "seconds,rss_kb,fds,records" >"$OUT"
start=$(date +%s)
next=0
round=0
total=0
while :; do
    now=$(( $(date +%s) - start ))
    [ "$now" -ge "$DUR" ] && break
    if [ "$now" -ge "$next" ]; then
        echo "$now,$(rss),$(fds),$total" >>"$OUT"
        next=$((next + 10))
    fi
    round=$((round + 1))
    case $((round % 3)) in
    0) kcat -P -b "$BS" -t soak -X acks=all -X enable.idempotence=true -l "$T/lines" 2>>"$T/err" ;;
    1) "$COURIER" produce -b "$BS" -t soak -X acks=all <"$T/lines" >/dev/null 2>>"$T/err" ;;
    2) /usr/bin/python3 - "$BS" "$T/lines" 2>>"$T/err" <<'PY'
import sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1].split(','), acks='all', linger_ms=5)
for line in open(sys.argv[2], 'rb'):
    p.send('soak', line.rstrip(b'\n'))
p.flush()
p.close()
PY
    ;;
    esac
    total=$((total + 20000))
    # a reader that comes and goes
    timeout 5 kcat -C -b "$BS" -t soak -o -1000 -e -q >/dev/null 2>&1 &
    sleep "${SOAK_PAUSE:-1}" # a class's pace, not a load test (SOAK_PAUSE=0: flat out)
done
wait_readers() { for p in $(jobs -p); do [ "$p" = "$BPID" ] || wait "$p" 2>/dev/null; done; }
wait_readers
# the last burst: numbered records, all must be read back
python3 -c "
for i in range(5000): print('last-%06d' % i)" | "$COURIER" produce -b "$BS" -t soak -X acks=all >/dev/null
sleep 1
now=$(( $(date +%s) - start ))
echo "$now,$(rss),$(fds),$((total + 5000))" >>"$OUT"
kcat -C -b "$BS" -t soak -o beginning -e -q -f '%p %o %s\n' >"$T/all" 2>/dev/null
/usr/bin/python3 - "$OUT" "$T/all" "$IDLE_FDS" "$(fds)" <<'PY'
import sys
rows = [l.strip().split(',') for l in open(sys.argv[1]) if l[0].isdigit()]
t = [int(r[0]) for r in rows]; rss = [int(r[1]) for r in rows]; fds = [int(r[2]) for r in rows]
# warm-up: the first quarter; baseline: the peak over the second quarter; after: the peak
# over the second half (and the end)
T = max(t)
base = [r for tt, r in zip(t, rss) if T / 4 <= tt < T / 2] or rss
late = [r for tt, r in zip(t, rss) if tt >= T / 2] or rss
warm, after = max(base), max(late)
last = set(); prev = {}; holes = 0; n = 0
for line in open(sys.argv[2], 'rb'):
    p, o, v = line.rstrip(b'\n').split(b' ', 2)
    p, o = int(p), int(o); n += 1
    if p in prev and o != prev[p] + 1: holes += 1
    prev[p] = o
    if v.startswith(b'last-'): last.add(v)
idle, end_fds = int(sys.argv[3]), int(sys.argv[4])
ok_rss = after <= warm * 1.15
ok_fd = end_fds <= idle
ok_last = len(last) == 5000 and holes == 0
print("soak: %d s, %d samples; RSS peak %d KB over the 2nd quarter, %d KB over the 2nd half (%+.1f%%) %s"
      % (t[-1], len(rows), warm, after, 100.0 * (after - warm) / warm, "flat" if ok_rss else "GROWING"))
print("soak: fds idle %d, max %d, at the end %d %s" % (idle, max(fds), end_fds, "no leak" if ok_fd else "LEAK"))
print("soak: read back %d records within retention, %d holes, last burst %d/5000 %s"
      % (n, holes, len(last), "ok" if ok_last else "MISSING"))
sys.exit(0 if ok_rss and ok_fd and ok_last else 1)
PY
