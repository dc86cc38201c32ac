#!/bin/sh
# `make test`'s runners: tests/run-rooms.sh BUILD_DIR "ROOMS" [SUITE[:TEST]]
# (ROOMS: the Makefile's list, in the order shown; each has BUILD_DIR/tests/ROOM_tests.)
#
# The sim room's runner (the longest: it mostly waits on timers, tmux and peer tools) starts
# first, in the background, its output into BUILD_DIR/test-logs/sim.log; meanwhile the other
# rooms run one after the other on this terminal; then sim's log is shown from its start and
# followed until it ends. So the output reads as a serial run (protocol, producer, mockbroker,
# sim, ending with sim's CUnit summary) in the time of the longest room. Every room runs even
# when one fails; the end names the rooms that failed and repeats their failures.
# With a SUITE argument (suites are named after their room: sim_gate, producer_e2e...) only
# that room's runner runs, with it.
set -u
build=$1
rooms=$2
shift 2
logs="$build/test-logs"
mkdir -p "$logs"
rm -f "$logs"/*.log "$logs"/*.rc
COURIER=${COURIER:-$(pwd)/$build/courier}
export COURIER

failed=""
# check_rc ROOM: adds ROOM to the failed ones unless its runner exited 0
check_rc() {
    [ "$(cat "$logs/$1.rc" 2>/dev/null)" = 0 ] || failed="$failed $1"
}

# run_room ROOM [ARG]: the room's runner, its output also into its log, its code into ROOM.rc
run_room() {
    echo "=== $1 ==="
    { "$build/tests/$1_tests" ${2+"$2"}; echo $? > "$logs/$1.rc"; } 2>&1 | tee "$logs/$1.log"
    check_rc "$1"
}

if [ $# -gt 0 ]; then
    r=${1%%_*}
    case " $rooms " in
    *" $r "*) ;;
    *) echo "no room for the suite $1 (suites are named ROOM_...: $rooms)"; exit 2 ;;
    esac
    run_room "$r" "$1"
else
    { "$build/tests/sim_tests" > "$logs/sim.log" 2>&1; echo $? > "$logs/sim.rc"; } &
    sim=$!
    for r in $rooms; do
        [ "$r" = sim ] || run_room "$r"
    done
    echo "=== sim ==="
    tail -n +1 -f --pid="$sim" "$logs/sim.log"
    wait "$sim"
    check_rc sim
fi

if [ -n "$failed" ]; then
    for r in $failed; do
        echo
        echo "=== $r failed (its log: $logs/$r.log) ==="
        if grep -q '^The failures again:' "$logs/$r.log"; then
            sed -n '/^The failures again:/,$p' "$logs/$r.log"
        else # the runner itself stopped (a sanitizer's report, a crash): its last lines
            tail -n 40 "$logs/$r.log"
        fi
    done
    echo "make test: failed in:$failed"
    exit 1
fi
