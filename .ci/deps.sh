#!/bin/sh
# Checks the Debian packages Courier needs to build, test and run. As root, installs what is
# missing with apt-get; otherwise prints the exact command and fails. Nothing is downloaded
# from anywhere but Debian's archive and, for kafkajs, the npm registry.
PKGS="make gcc clang libclang-rt-14-dev pkg-config libcunit1-dev libcjson-dev libncurses-dev \
librdkafka-dev kcat tshark python3-kafka tmux zlib1g-dev liblz4-dev libzstd-dev libsnappy-dev \
python3-lz4 python3-snappy python3-zstandard tidy chromium groff-base jq"
# kafkajs (a third Kafka client, pure JavaScript) from the npm registry, pinned, into build/npm
# (tests/test_mockbroker_interop.c runs it with NODE_PATH=build/npm/node_modules).
KAFKAJS=kafkajs@2.2.4
npm_deps() {
    [ -f build/npm/node_modules/kafkajs/package.json ] && return 0
    # node and npm: the machine's own when it has them (this image ships NodeSource's, which
    # Debian's npm package conflicts with), otherwise Debian's.
    if ! command -v npm >/dev/null 2>&1; then
        [ "$(id -u)" = 0 ] || { echo "deps: npm is missing: sudo apt-get install -y npm" >&2; return 1; }
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm ||
            { echo "deps: apt-get install npm failed" >&2; return 1; }
    fi
    echo "deps: installing $KAFKAJS into build/npm"
    mkdir -p build/npm
    npm install --prefix build/npm --no-audit --no-fund --no-save "$KAFKAJS" >/dev/null ||
        { echo "deps: npm install $KAFKAJS failed" >&2; return 1; }
}
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && { npm_deps; exit $?; }
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing missing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || { echo "deps: apt-get update failed" >&2; exit 1; }
    # tshark asks whether non-root users may capture; answer no without a prompt.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null
    apt-get install -y -qq $missing || { echo "deps: apt-get install failed" >&2; exit 1; }
    npm_deps || exit 1
else
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: run:  sudo apt-get install -y$missing" >&2
    exit 1
fi
