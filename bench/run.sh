#!/bin/sh
# Runs every benchmark binary of a build in turn and shows its output:
#   bench/run.sh BUILD        (e.g. bench/run.sh build/release)
# Each bench/bench_<name>.c is built by `make bench` into $BUILD/bench/bench_<name>.
# Exit status: 0 when every benchmark exited 0, 1 otherwise.
BUILD=${1:-build/release}
if [ ! -d "$BUILD/bench" ]; then
    echo "bench/run.sh: no benchmarks in $BUILD/bench (run: make bench)" >&2
    exit 1
fi
status=0
found=0
for b in "$BUILD"/bench/bench_*; do
    case "$b" in *.o|*.d) continue ;; esac
    [ -x "$b" ] || continue
    found=1
    echo "=== $(basename "$b") ==="
    if ! "$b"; then
        echo "=== $(basename "$b"): FAILED" >&2
        status=1
    fi
done
if [ "$found" = 0 ]; then
    echo "bench/run.sh: no benchmark binaries in $BUILD/bench" >&2
    exit 1
fi
exit $status
