#!/bin/sh
# Records the frames of a `courier produce` -> `courier broker` session at the highest versions
# both sides speak (flexible encoding): tshark on lo, split into frames by extract_frames.py.
# Run as root from the repository root after `make`:
#   sh tests/vectors/tools/capture_courier.sh [OUTDIR]
# Writes OUTDIR/courier_<api>_v<N>_<request|response>.hex (default tests/vectors/flexible) and
# OUTDIR/pcap/courier_port<PORT>.pcapng; prints the versions tshark saw. See
# tests/vectors/README.md ("Flexible versions").
set -eu
OUT=${1:-tests/vectors/flexible}
COURIER=${COURIER:-build/release/courier}
TOOLS=$(dirname "$0")
WORK=$(mktemp -d /tmp/courier-capture.XXXXXX)
mkdir -p "$OUT/pcap"

"$COURIER" broker --brokers 1 --topic golden:1:1 >"$WORK/broker.out" 2>&1 &
broker=$!
for _ in $(seq 50); do grep -q bootstrap "$WORK/broker.out" && break; sleep 0.1; done
bs=$(grep -o '127.0.0.1:[0-9]*' "$WORK/broker.out" | head -1)
port=${bs##*:}
echo "== courier broker at $bs"

tshark -q -i lo -f "tcp port $port" -w "$WORK/courier.pcapng" 2>"$WORK/tshark.log" &
tshark=$!
for _ in $(seq 50); do grep -q "Capturing on" "$WORK/tshark.log" && break; sleep 0.1; done
sleep 0.5

printf 'k1:hello\nk2:world\n:no-key\n' |
  timeout 20 "$COURIER" produce -b "$bs" -t golden -p 0 -k : -X acks=all \
    -X enable.idempotence=true -X client.id=courier-golden || true

sleep 0.5
kill "$tshark"; wait "$tshark" || true
kill "$broker"; wait "$broker" || true
/usr/bin/python3 "$TOOLS/extract_frames.py" "$WORK/courier.pcapng" "$port" "$OUT" courier_
cp "$WORK/courier.pcapng" "$OUT/pcap/courier_port$port.pcapng"
tshark -r "$WORK/courier.pcapng" -d "tcp.port==$port,kafka" -Y kafka 2>/dev/null
rm -rf "$WORK"
