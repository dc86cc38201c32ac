#!/bin/sh
# Checks the Debian packages Courier needs to build, test and run. As root, installs what is
# missing with apt-get; otherwise prints the exact command and fails. Nothing is downloaded
# from anywhere but Debian's archive.
PKGS="make gcc clang libclang-rt-14-dev pkg-config libcunit1-dev libcjson-dev libncurses-dev \
librdkafka-dev kcat tshark python3-kafka tmux zlib1g-dev liblz4-dev libzstd-dev libsnappy-dev \
python3-lz4 python3-snappy python3-zstandard tidy chromium"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing missing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || { echo "deps: apt-get update failed" >&2; exit 1; }
    # tshark asks whether non-root users may capture; answer no without a prompt.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null
    apt-get install -y -qq $missing || { echo "deps: apt-get install failed" >&2; exit 1; }
else
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: run:  sudo apt-get install -y$missing" >&2
    exit 1
fi
