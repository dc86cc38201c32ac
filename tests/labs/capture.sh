#!/bin/bash
# A screen capture for the docs from a shipped recording (issue 19):
#   tests/labs/capture.sh NAME COLSxROWS AT [REPLAY-OPTION...] [-- KEY...]
# opens `courier replay scenarios/recordings/NAME.rec` in a detached tmux of that size on a
# private server, goes to AT (`g AT Enter`: "2.4s" a simulated time, "1234" an event), sends
# the KEYs (tmux send-keys words: "?", "/", "4", "Enter") and prints the screen. The page
# states the command, so a class gets the same screen.
set -eu
name=$1 size=$2 at=$3; shift 3
opts=() keys=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
[ $# -gt 0 ] && { shift; keys=("$@"); }
cols=${size%x*} rows=${size#*x}
root=$(cd "$(dirname "$0")/../.." && pwd)
courier=${COURIER:-$root/build/release/courier}
sock=labs-cap-$$
trap 'tmux -L $sock kill-server >/dev/null 2>&1 || true' EXIT
tmux -L "$sock" -f /dev/null new-session -d -s cap -x "$cols" -y "$rows" \
    "TERM=xterm-256color $courier replay $root/scenarios/recordings/$name.rec ${opts[*]:-}; sleep 60"
screen() { tmux -L "$sock" capture-pane -p -t cap; }
settle() {
    local prev= cur
    for _ in $(seq 50); do sleep 0.2; cur=$(screen); [ "$cur" = "$prev" ] && break; prev=$cur; done
}
for _ in $(seq 100); do screen | grep -q '^REPLAY\|^回放' && break; sleep 0.1; done
tmux -L "$sock" send-keys -t cap g
sleep 0.3
tmux -L "$sock" send-keys -t cap "$at" Enter
settle
for k in "${keys[@]}"; do tmux -L "$sock" send-keys -t cap "$k"; sleep 0.2; done
[ ${#keys[@]} -gt 0 ] && settle
screen | sed -e 's/[[:space:]]*$//' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
