#!/bin/sh
# Records golden Kafka frames: real clients (kcat = librdkafka 2.0.2, and kafka-python 2.0)
# talking to librdkafka 2.0.2's mock cluster, captured with tshark on lo, split into frames by
# extract_frames.py. Run as root from the repository root:
#   sh tests/vectors/tools/capture.sh [OUTDIR [RUN...]]
# RUN names which runs to make (default, mid, low, quirk, kpy, kpy20); all when none given.
# See tests/vectors/README.md for what comes out and why the versions are capped.
set -eu
OUT=${1:-tests/vectors/golden}
[ $# -gt 0 ] && shift
RUNS=${*:-default mid low quirk kpy kpy20}
WORK=$(mktemp -d /tmp/courier-capture.XXXXXX)
TOOLS=$(dirname "$0")
mkdir -p "$OUT"

gcc -std=c11 -O1 -o "$WORK/mock_cluster" "$TOOLS/mock_cluster.c" -lrdkafka

# run NAME PREFIX CLIENT MOCK_ARGS...: one mock cluster, one capture, one client session.
run() {
    name=$1 prefix=$2 client=$3
    shift 3
    case " $RUNS " in *" $name "*) ;; *) return 0 ;; esac
    rm -f "$WORK/hold" "$WORK/bootstrap"
    mkfifo "$WORK/hold"
    "$WORK/mock_cluster" -b 1 -t golden:1 "$@" <"$WORK/hold" >"$WORK/bootstrap" &
    mock=$!
    exec 9>"$WORK/hold"
    for _ in $(seq 50); do [ -s "$WORK/bootstrap" ] && break; sleep 0.1; done
    bs=$(head -1 "$WORK/bootstrap")
    port=${bs##*:}
    echo "== run '$prefix' ($client, mock args: $*) at $bs"

    tshark -q -i lo -f "tcp port $port" -w "$WORK/$prefix.pcapng" 2>"$WORK/tshark.log" &
    tshark=$!
    for _ in $(seq 50); do grep -q "Capturing on" "$WORK/tshark.log" && break; sleep 0.1; done
    sleep 0.5

    case $client in
    kcat | kcat-produce-only)
        printf 'k1:hello\nk2:world\n:no-key\n' |
          timeout 20 kcat -P -b "$bs" -t golden -p 0 -K: -X enable.idempotence=true \
               -X acks=all -X client.id=courier-golden -X message.timeout.ms=5000 || true
        if [ "$client" = kcat ]; then
            timeout 20 kcat -C -b "$bs" -t golden -p 0 -o beginning -e -q \
                 -X client.id=courier-golden || true
        fi
        ;;
    kafka-python)
        timeout 60 /usr/bin/python3 "$TOOLS/kafka_python_session.py" "$bs" || true
        ;;
    kafka-python-2.0)
        timeout 60 /usr/bin/python3 "$TOOLS/kafka_python_session.py" "$bs" 2.0 || true
        ;;
    esac

    sleep 0.5
    kill "$tshark"; wait "$tshark" || true
    exec 9>&-
    wait "$mock" || true
    /usr/bin/python3 "$TOOLS/extract_frames.py" "$WORK/$prefix.pcapng" "$port" "$OUT" "$prefix"
    mkdir -p "$OUT/pcap"
    cp "$WORK/$prefix.pcapng" "$OUT/pcap/${prefix:-default_}port$port.pcapng"
}

# 1. kcat at the versions it picks when the mock advertises everything it implements within
#    Courier's ranges (Metadata capped at 8, InitProducerId at 1).
run default "" kcat -a 3:0:8 -a 22:0:1
# 2. kcat with the mock capped lower: Produce 4, Fetch 7, ListOffsets 1, Metadata 2,
#    InitProducerId 0.
run mid mid_ kcat -a 0:0:4 -a 1:0:7 -a 2:0:1 -a 3:0:2 -a 22:0:0
# 3. kcat at the lowest versions librdkafka accepts for record batches: Produce 3, Fetch 4.
run low low_ kcat -a 0:0:3 -a 1:0:4 -a 2:0:1 -a 3:0:1 -a 22:0:0
# 4. Produce v5 alone: the mock omits log_start_offset from its v5 response (a mock bug that
#    makes librdkafka fail the delivery with "Read underflow"); kept as a quirk vector.
run quirk quirk_ kcat-produce-only -a 0:0:5 -a 3:0:8 -a 22:0:1
# 5. kafka-python (another client implementation) against the default mock.
run kpy kpy_ kafka-python -a 3:0:8 -a 22:0:1
# 6. kafka-python pinned to broker 2.0: Produce v6 (which the mock answers correctly).
run kpy20 kpy20_ kafka-python-2.0 -a 3:0:8 -a 22:0:1
# 7. InitProducerId v4 (flexible, with the KIP-360 producer id/epoch fields): kcat producing
#    with the mock's InitProducerId left at its 0-4.
run pid4 pid4_ kcat-produce-only -a 3:0:8 -a 22:0:4

rm -rf "$WORK"
