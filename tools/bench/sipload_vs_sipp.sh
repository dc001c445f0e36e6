#!/usr/bin/env bash
# sipload_vs_sipp.sh: the CPU cost of sipload's UAC against sipp's, in one run on this machine.
#
# Both drive the same sipload UAS (answering at once) with the same call (INVITE, 100, 180, 200,
# ACK, BYE, 200; sipp's built-in "uac" scenario, sipload's "call") at the same fixed rate for the
# same number of calls, in alternating rounds so machine noise hits both alike. The CPU of each
# run is the generator's user+system time (GNU time, all threads), and the figure compared is
# completed calls per CPU-second. sipp runs with its defaults (1 ms timer resolution, and a wake-up
# for every datagram); sipload twice, with its default 2 ms tick and with a 1 ms tick
# (--pace-us 1000), so the tick's share of the difference shows.
#
#   tools/bench/sipload_vs_sipp.sh [--rate 3000] [--calls 30000] [--rounds 3] [--uas-tick-us 0]
#                                  [--quick]
#
# --uas-tick-us N runs the UAS in ticks of N us (sipload uas --tick-us) instead of answering each
# request at once: the generators' sends then no longer pay for waking it per datagram.
#
# Every run is bounded (`timeout`); the UAS stops at the end. Exit status 0 when every run
# completed, 1 otherwise, 77 when sipp or GNU time is missing (ctest reads it as skipped).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SIPLOAD="${SIPLOAD:-$ROOT/build/release/tools/sipload/sipload}"
RATE=3000
CALLS=30000
ROUNDS=3
UAS_TICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) RATE="$2"; shift 2 ;;
    --calls) CALLS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --uas-tick-us) UAS_TICK="$2"; shift 2 ;;
    --quick) RATE=500; CALLS=1000; ROUNDS=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "sipload_vs_sipp: unknown argument $1" >&2; exit 2 ;;
  esac
done

SIPP="$(command -v sipp || true)"
if [ -z "$SIPP" ] || [ ! -x /usr/bin/time ]; then
  echo "sipload_vs_sipp: needs sipp (sip-tester) and GNU time (/usr/bin/time); skipped" >&2
  exit 77
fi
[ -x "$SIPLOAD" ] || { echo "sipload_vs_sipp: $SIPLOAD not built" >&2; exit 1; }

WORK="$(mktemp -d)"
UAS_PID=""
cleanup() {
  [ -n "$UAS_PID" ] && kill -TERM "$UAS_PID" 2>/dev/null && wait "$UAS_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

PORT="$(free_port)"
# Long enough for every round: each call takes 1/RATE s, plus slack for drains and start-up.
RUN_LIMIT=$(( CALLS / RATE + 30 ))
UAS_LIMIT=$(( (RUN_LIMIT + 5) * ROUNDS * 3 + 10 ))
"$SIPLOAD" uas --listen "127.0.0.1:$PORT" --quiet --duration-s "$UAS_LIMIT" --tick-us "$UAS_TICK" >"$WORK/uas.out" 2>"$WORK/uas.err" &
UAS_PID=$!
for _ in $(seq 50); do grep -q listening "$WORK/uas.err" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$WORK/uas.err" || { echo "sipload_vs_sipp: the UAS did not start" >&2; cat "$WORK/uas.err" >&2; exit 1; }

# Prints "ok failed cpu_s" of one run.
run_sipp() {
  local screen="$WORK/sipp.screen"
  rm -f "$screen"
  timeout -s KILL "$RUN_LIMIT" /usr/bin/time -o "$WORK/time" -f "%U %S" \
    "$SIPP" "127.0.0.1:$PORT" -sn uac -i 127.0.0.1 -r "$RATE" -m "$CALLS" -l 100000 -nostdin \
    -timeout "${RUN_LIMIT}s" -trace_screen -screen_file "$screen" >/dev/null 2>&1 || true
  local ok failed
  ok=$(sed -n 's/^ *Successful call *| *[0-9]* *| *\([0-9]*\).*/\1/p' "$screen" 2>/dev/null | tail -1)
  failed=$(sed -n 's/^ *Failed call *| *[0-9]* *| *\([0-9]*\).*/\1/p' "$screen" 2>/dev/null | tail -1)
  echo "${ok:-0} ${failed:-0} $(awk '{print $1 + $2}' "$WORK/time" 2>/dev/null || echo 0)"
}
run_sipload() {  # [extra sipload flags]
  timeout -s KILL "$RUN_LIMIT" /usr/bin/time -o "$WORK/time" -f "%U %S" \
    "$SIPLOAD" uac --target "127.0.0.1:$PORT" --rate "$RATE" --calls "$CALLS" --timeout-ms 8000 \
    --quiet --json "$@" >"$WORK/uac.json" 2>/dev/null || true
  python3 - "$WORK/uac.json" "$WORK/time" <<'EOF'
import json, sys
try:
    t = json.load(open(sys.argv[1]))["total"]
    ok, failed = t["successes"], t["failures"]
except Exception:
    ok, failed = 0, 0
try:
    u, s = open(sys.argv[2]).read().split()[:2]
    cpu = float(u) + float(s)
except Exception:
    cpu = 0
print(ok, failed, cpu)
EOF
}

printf "%s calls at %s calls/s, %s round(s), UAS sipload on 127.0.0.1:%s (tick %s us)\n" "$CALLS" "$RATE" \
  "$ROUNDS" "$PORT" "$UAS_TICK"
printf "%-6s %-12s %10s %8s %8s %14s\n" round tool completed failed cpu_s calls/cpu-s
status=0
declare -A PER
TOOLS=(sipp sipload sipload-1ms)
for round in $(seq "$ROUNDS"); do
  for tool in "${TOOLS[@]}"; do
    case "$tool" in
      sipp) read -r ok failed cpu < <(run_sipp) ;;
      sipload) read -r ok failed cpu < <(run_sipload) ;;
      sipload-1ms) read -r ok failed cpu < <(run_sipload --pace-us 1000) ;;
    esac
    per=$(awk -v ok="$ok" -v cpu="$cpu" 'BEGIN { printf "%.0f", (cpu > 0 ? ok / cpu : 0) }')
    printf "%-6s %-12s %10s %8s %8.2f %14s\n" "$round" "$tool" "$ok" "$failed" "$cpu" "$per"
    [ "$ok" -gt 0 ] && [ "$failed" -eq 0 ] || status=1
    PER[$tool]="${PER[$tool]:-} $per"
  done
done
median() { printf "%s\n" $1 | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for tool in "${TOOLS[@]}"; do
  printf "median   %-12s %14s calls/cpu-s\n" "$tool" "$(median "${PER[$tool]}")"
done
S=$(median "${PER[sipp]}")
for tool in sipload sipload-1ms; do
  awk -v l="$(median "${PER[$tool]}")" -v s="$S" -v t="$tool" \
    'BEGIN { printf "ratio %s/sipp: %.2fx calls per CPU-second\n", t, (s > 0 ? l / s : 0) }'
done
[ "$status" -eq 0 ] || echo "sipload_vs_sipp: a run did not complete every call (see above)" >&2
exit "$status"
