#!/usr/bin/env bash
# Detection time of a dead backend under load, and false downs, over a long run.
#
#   tools/bench/health_detection.sh [--duration S] [--rate CPS] [--kill-every S] [--shards N]
#
# Starts two sipp UAS backends (b0, b1), sipring (release build) on the default probe settings,
# and a sipp UAC making calls at --rate through it for --duration seconds. Every --kill-every
# seconds b1 is killed with SIGKILL, and started again once sipring has marked it down and it has
# been out for a second. Detection time = sipring's "state=down" log timestamp minus the kill
# time (both wall clock, ms). A false down is any down of b0 (never killed) or any extra down of
# b1. Prints p50 and max detection, false downs, and the calls the UAC completed and failed
# (stateless mode: calls sent to b1 between its death and its detection fail; the transaction
# layer's failover is a separate issue).
#
# Everything runs on 127.0.0.1; every process is bounded by --duration and killed on exit.
set -euo pipefail

DURATION=300
RATE=1000
KILL_EVERY=15
SHARDS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --kill-every) KILL_EVERY=$2; shift 2 ;;
    --shards) SHARDS=$2; shift 2 ;;
    *) echo "usage: $0 [--duration S] [--rate CPS] [--kill-every S] [--shards N]" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${SIPRING_BIN:-$ROOT/build/release/tools/sipring/sipring}
UAS_XML=$ROOT/tests/integration/scenarios/uas_rr.xml
[ -x "$BIN" ] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 1; }
command -v sipp >/dev/null || { echo "sipp missing: apt-get install sip-tester" >&2; exit 1; }

DIR=$(mktemp -d /tmp/sipring-health-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

LISTEN=25060; B0=25070; B1=25071; ADMIN=29090
start_uas() {  # port name
  (cd "$DIR" && exec sipp -sf "$UAS_XML" -i 127.0.0.1 -p "$1" -nostdin >>"$DIR/$2.log" 2>&1) &
  echo $!
}
now_ms() { date +%s%3N; }

cat >"$DIR/sipring.toml" <<EOF
[engine]
shards = $SHARDS
[[listen]]
address = "127.0.0.1:$LISTEN"
[[backend]]
uri = "sip:127.0.0.1:$B0"
name = "b0"
[[backend]]
uri = "sip:127.0.0.1:$B1"
name = "b1"
[admin]
address = "127.0.0.1:$ADMIN"
EOF

b0_pid=$(start_uas $B0 b0); PIDS+=("$b0_pid")
b1_pid=$(start_uas $B1 b1); PIDS+=("$b1_pid")
sleep 0.5
"$BIN" -c "$DIR/sipring.toml" --run-seconds $((DURATION + 60)) >"$DIR/sipring.log" 2>&1 &
PIDS+=("$!")
sleep 1.5

(cd "$DIR" && exec sipp 127.0.0.1:$LISTEN -sn uac -i 127.0.0.1 -r "$RATE" -m $((RATE * DURATION)) \
  -l $((RATE * 4)) -recv_timeout 10000 -nostdin -trace_screen -screen_file "$DIR/uac.screen" \
  >"$DIR/uac.log" 2>&1) &
uac_pid=$!
PIDS+=("$uac_pid")

echo "health detection: $RATE calls/s for ${DURATION}s, b1 killed every ${KILL_EVERY}s; logs in $DIR"
kills=()
start=$(now_ms)
while [ $(( $(now_ms) - start )) -lt $(( (DURATION - KILL_EVERY / 2) * 1000 )) ]; do
  sleep "$KILL_EVERY"
  kill -9 "$b1_pid" 2>/dev/null || true
  kills+=("$(now_ms)")
  downs_before=$(grep -c 'backend=b1 state=down' "$DIR/sipring.log" || true)
  for _ in $(seq 1 300); do  # wait up to 3 s for the down line
    [ "$(grep -c 'backend=b1 state=down' "$DIR/sipring.log" || true)" -gt "$downs_before" ] && break
    sleep 0.01
  done
  sleep 1
  b1_pid=$(start_uas $B1 b1); PIDS+=("$b1_pid")
done
# The UAC has made its calls by now; SIGUSR1 ends it once its last calls end (a call lost with
# b1 fails after -recv_timeout), and writes its final screen.
sleep 2
kill -USR1 "$uac_pid" 2>/dev/null || true
for _ in $(seq 1 300); do kill -0 "$uac_pid" 2>/dev/null || break; sleep 0.1; done
kill -9 "$uac_pid" 2>/dev/null || true
wait "$uac_pid" 2>/dev/null || true
kill -TERM "${PIDS[2]}" 2>/dev/null || true
sleep 2.5

# Pair each kill with the first b1 down logged after it.
mapfile -t downs < <( (grep 'backend=b1 state=down' "$DIR/sipring.log" || true) |
  sed -E 's/^ts=([^ ]+) .*/\1/' | while read -r ts; do date -d "$ts" +%s%3N; done)
detections=()
for k in "${kills[@]}"; do
  for d in "${downs[@]}"; do
    if [ "$d" -ge "$k" ]; then detections+=($((d - k))); break; fi
  done
done
b0_downs=$(grep -c 'backend=b0 state=down' "$DIR/sipring.log" || true)
false_downs=$(( b0_downs + ${#downs[@]} - ${#detections[@]} ))
sorted=$(printf '%s\n' "${detections[@]}" | sort -n)
n=${#detections[@]}
p50=$(echo "$sorted" | sed -n "$(( (n + 1) / 2 ))p")
max=$(echo "$sorted" | tail -1)
ok=$( (grep -E 'Successful call' "$DIR/uac.screen" || true) | awk -F'|' '{print $3}' | tr -d ' ' | tail -1)
failed=$( (grep -E 'Failed call' "$DIR/uac.screen" || true) | awk -F'|' '{print $3}' | tr -d ' ' | tail -1)
echo "kills: ${#kills[@]}  detected: $n  detection ms p50: ${p50:-n/a}  max: ${max:-n/a}"
echo "all detections (ms): $(echo "$sorted" | tr '\n' ' ')"
echo "false downs: $false_downs (b0 downs: $b0_downs)"
echo "calls: ${ok:-?} completed, ${failed:-?} failed at $RATE calls/s"
[ "$n" -eq "${#kills[@]}" ] && [ "$false_downs" -eq 0 ]
