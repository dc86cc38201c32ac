#!/bin/sh
# courier produce against kcat -P on the same input and the same `courier broker`: 1M x 100 B
# and 1M x 1 KB lines (N=... to change), whole-process wall time and CPU time (user + sys),
# ROUNDS (default 5) alternating pairs, medians and the median of the per-pair ratios
# courier / kcat (below 1.0 = courier faster).
#   bench/cli.sh [COURIER]
COURIER=${1:-build/release/courier}
N=${N:-1000000}
ROUNDS=${ROUNDS:-5}
T=${TMPDIR:-/tmp}/courier-cli.$$
mkdir -p "$T" || exit 1
trap 'kill $BPID 2>/dev/null; wait $BPID 2>/dev/null; rm -rf "$T"' EXIT INT TERM
"$COURIER" broker --topic p:6:3 >"$T/bk" 2>&1 &
BPID=$!
while ! grep -q bootstrap "$T/bk"; do sleep 0.05; done
BS=$(sed -n 's/^bootstrap: //p' "$T/bk")
echo "bench/cli.sh: $N lines, 6 partitions x replication 3, acks=all linger.ms=5 no idempotence on both, $ROUNDS pairs; load average $(cut -d' ' -f1 /proc/loadavg)"
for size in 100 1024; do
    python3 -c "
import sys
n, s = int(sys.argv[1]), int(sys.argv[2])
line = b'x' * (s - 1) + b'\n'
sys.stdout.buffer.write(line * n)" "$N" "$size" >"$T/in"
    : >"$T/times"
    r=0
    while [ $r -lt "$ROUNDS" ]; do
        /usr/bin/time -f "courier %e %U %S" -a -o "$T/times" "$COURIER" produce -b "$BS" -t p -X acks=all -X linger.ms=5 -X enable.idempotence=false <"$T/in" >/dev/null || echo "courier produce failed" >&2
        /usr/bin/time -f "kcat %e %U %S" -a -o "$T/times" kcat -P -b "$BS" -t p -X acks=all -X linger.ms=5 -l "$T/in" || echo "kcat failed" >&2
        r=$((r + 1))
    done
    /usr/bin/python3 - "$T/times" "$size" <<'PY'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1]) if l.split() and l.split()[0] in ('courier', 'kcat')]
c = [(float(r[1]), float(r[2]) + float(r[3])) for r in rows if r[0] == 'courier']
k = [(float(r[1]), float(r[2]) + float(r[3])) for r in rows if r[0] == 'kcat']
wr = [a[0] / b[0] for a, b in zip(c, k)]
cr = [a[1] / b[1] for a, b in zip(c, k)]
print("  %5s B lines: wall courier %.2f s, kcat %.2f s (median), ratio %.2f (pairs: %s); CPU courier %.2f s, kcat %.2f s, ratio %.2f"
      % (sys.argv[2], st.median(x[0] for x in c), st.median(x[0] for x in k), st.median(wr),
         ' '.join('%.2f' % x for x in wr), st.median(x[1] for x in c), st.median(x[1] for x in k), st.median(cr)))
PY
done
