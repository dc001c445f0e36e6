#!/usr/bin/env bash
# sipload_vs_sipp.sh: the CPU cost of sipload's UAC against sipp's, in one run on this machine.
#
# Both drive the same sipload UAS (answering at once) with the same call (INVITE, 100, 180, 200,
# ACK, BYE, 200; sipp's built-in "uac" scenario, sipload's "call"). Two comparisons:
#
# 1. The issue's figure: each tool's highest sustainable call rate, and its calls per CPU-second
#    there. Each tool climbs the same ladder of rates (--ladder), --step-s seconds of calls a
#    rung, and stops at the first rung it cannot sustain: a failed or missing call, a run that
#    had to be killed, or wall time over 1.25x the schedule plus a second (the generator fell
#    behind). Generators get cheaper per call as the rate rises (more datagrams per wake-up), so
#    each is judged at its own best.
# 2. One fixed rate (--rate) for both, --rounds times alternating, so noise hits both alike.
#
# CPU is the generator's user+system time (GNU time, all threads). sipp runs with its defaults (1
# ms timer resolution, a wake-up for every datagram); sipload with its default 2 ms tick and, in
# the fixed-rate rounds, also with a 1 ms tick (--pace-us 1000) so the tick's share shows.
#
#   tools/bench/sipload_vs_sipp.sh [--rate 3000] [--calls 30000] [--rounds 3] [--uas-tick-us 0]
#                                  [--ladder "1000 2000 ..."] [--step-s 3] [--quick]
#
# --uas-tick-us N runs the UAS in ticks of N us (sipload uas --tick-us) instead of answering each
# request at once: the generators' sends then no longer pay for waking it per datagram.
#
# Every run is bounded (`timeout`); the UAS stops at the end. Exit status 0 when every fixed-rate
# run completed and both tools sustained the ladder's first rung, 1 otherwise, 77 when sipp or GNU
# time is missing (ctest reads it as skipped).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SIPLOAD="${SIPLOAD:-$ROOT/build/release/tools/sipload/sipload}"
RATE=3000
CALLS=30000
ROUNDS=3
UAS_TICK=0
LADDER="1000 2000 3000 4000 5000 6000 7000 8000 10000 12000 16000 20000 24000 28000 32000"
STEP_S=3
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) RATE="$2"; shift 2 ;;
    --calls) CALLS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --uas-tick-us) UAS_TICK="$2"; shift 2 ;;
    --ladder) LADDER="$2"; shift 2 ;;
    --step-s) STEP_S="$2"; shift 2 ;;
    --quick) RATE=500; CALLS=1000; ROUNDS=1; LADDER="300 600"; STEP_S=1; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
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
# Long enough for every run: each call takes 1/RATE s, plus slack for drains and start-up. A
# ladder rung that overruns twice its schedule plus 10 s is killed (sipp, overrun, can stall).
RUN_LIMIT=$(( CALLS / RATE + 30 ))
STEP_LIMIT=$(( STEP_S * 2 + 10 ))
RUNGS=$(echo "$LADDER" | wc -w)
UAS_LIMIT=$(( (RUN_LIMIT + 5) * ROUNDS * 3 + (STEP_LIMIT + 5) * RUNGS * 2 + 10 ))
"$SIPLOAD" uas --listen "127.0.0.1:$PORT" --quiet --duration-s "$UAS_LIMIT" --tick-us "$UAS_TICK" >"$WORK/uas.out" 2>"$WORK/uas.err" &
UAS_PID=$!
for _ in $(seq 50); do grep -q listening "$WORK/uas.err" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$WORK/uas.err" || { echo "sipload_vs_sipp: the UAS did not start" >&2; cat "$WORK/uas.err" >&2; exit 1; }

# Each prints "ok failed cpu_s wall_s" of one run: RATE CALLS LIMIT_S [extra sipload flags]. A run
# killed at its limit leaves no time file: cpu 0, so it never counts as sustained.
run_sipp() {
  local rate="$1" calls="$2" limit="$3" screen="$WORK/sipp.screen"
  rm -f "$screen" "$WORK/time"
  timeout -s KILL "$limit" /usr/bin/time -o "$WORK/time" -f "%U %S %e" \
    "$SIPP" "127.0.0.1:$PORT" -sn uac -i 127.0.0.1 -r "$rate" -m "$calls" -l 100000 -nostdin \
    -timeout "${limit}s" -trace_screen -screen_file "$screen" >/dev/null 2>&1 || true
  local ok failed
  ok=$(sed -n 's/^ *Successful call *| *[0-9]* *| *\([0-9]*\).*/\1/p' "$screen" 2>/dev/null | tail -1)
  failed=$(sed -n 's/^ *Failed call *| *[0-9]* *| *\([0-9]*\).*/\1/p' "$screen" 2>/dev/null | tail -1)
  local times
  times=$(awk '{ print $1 + $2, $3 } END { if (NR == 0) print 0, 0 }' "$WORK/time" 2>/dev/null || echo 0 0)
  echo "${ok:-0} ${failed:-0} $times"
}
run_sipload() {
  local rate="$1" calls="$2" limit="$3"
  shift 3
  rm -f "$WORK/time" "$WORK/uac.json"
  timeout -s KILL "$limit" /usr/bin/time -o "$WORK/time" -f "%U %S %e" \
    "$SIPLOAD" uac --target "127.0.0.1:$PORT" --rate "$rate" --calls "$calls" --timeout-ms 8000 \
    --quiet --json "$@" >"$WORK/uac.json" 2>/dev/null || true
  python3 - "$WORK/uac.json" "$WORK/time" <<'EOF'
import json, sys
try:
    t = json.load(open(sys.argv[1]))["total"]
    ok, failed = t["successes"], t["failures"]
except Exception:
    ok, failed = 0, 0
try:
    u, s, e = open(sys.argv[2]).read().split()[:3]
    cpu, wall = float(u) + float(s), float(e)
except Exception:
    cpu, wall = 0, 0
print(ok, failed, cpu, wall)
EOF
}
per_cpu() { awk -v ok="$1" -v cpu="$2" 'BEGIN { printf "%.0f", (cpu > 0 ? ok / cpu : 0) }'; }
status=0

# 1. The ladder.
printf "ladder: %s s of calls a rung, up to the first rate a tool cannot sustain; UAS sipload on 127.0.0.1:%s\n" \
  "$STEP_S" "$PORT"
printf "%-8s %8s %10s %8s %8s %8s %14s  %s\n" tool rate completed failed cpu_s wall_s calls/cpu-s verdict
declare -A TOP_RATE TOP_PER
for tool in sipp sipload; do
  TOP_RATE[$tool]=0
  TOP_PER[$tool]=0
  for rate in $LADDER; do
    calls=$(( rate * STEP_S ))
    read -r ok failed cpu wall < <("run_$tool" "$rate" "$calls" "$STEP_LIMIT")
    per=$(per_cpu "$ok" "$cpu")
    verdict=$(awk -v ok="$ok" -v calls="$calls" -v failed="$failed" -v cpu="$cpu" -v wall="$wall" \
      -v step="$STEP_S" 'BEGIN {
        if (cpu == 0) print "killed";
        else if (failed > 0 || ok < calls) print "failed-calls";
        else if (wall > step * 1.25 + 1) print "fell-behind";
        else print "sustained" }')
    printf "%-8s %8s %10s %8s %8.2f %8.2f %14s  %s\n" "$tool" "$rate" "$ok" "$failed" "$cpu" "$wall" \
      "$per" "$verdict"
    [ "$verdict" = sustained ] || break
    TOP_RATE[$tool]=$rate
    TOP_PER[$tool]=$per
  done
  [ "${TOP_RATE[$tool]}" -gt 0 ] || status=1
done
for tool in sipp sipload; do
  printf "top    %-8s %8s calls/s sustained, %8s calls/cpu-s there\n" "$tool" "${TOP_RATE[$tool]}" \
    "${TOP_PER[$tool]}"
done
awk -v l="${TOP_PER[sipload]}" -v s="${TOP_PER[sipp]}" -v lr="${TOP_RATE[sipload]}" \
  -v sr="${TOP_RATE[sipp]}" 'BEGIN {
    printf "ratio sipload/sipp at each one'"'"'s highest sustained rate: %.2fx calls per CPU-second (rate %.2fx)\n",
      (s > 0 ? l / s : 0), (sr > 0 ? lr / sr : 0) }'
if [ "${TOP_RATE[sipload]}" = "$(echo "$LADDER" | awk '{ print $NF }')" ]; then
  echo "(sipload sustained the ladder's last rung: its own ceiling is higher)"
fi
echo

# 2. The same rate for both.
printf "%s calls at %s calls/s, %s round(s), UAS sipload on 127.0.0.1:%s (tick %s us)\n" "$CALLS" "$RATE" \
  "$ROUNDS" "$PORT" "$UAS_TICK"
printf "%-6s %-12s %10s %8s %8s %14s\n" round tool completed failed cpu_s calls/cpu-s
declare -A PER
TOOLS=(sipp sipload sipload-1ms)
for round in $(seq "$ROUNDS"); do
  for tool in "${TOOLS[@]}"; do
    case "$tool" in
      sipp) read -r ok failed cpu _ < <(run_sipp "$RATE" "$CALLS" "$RUN_LIMIT") ;;
      sipload) read -r ok failed cpu _ < <(run_sipload "$RATE" "$CALLS" "$RUN_LIMIT") ;;
      sipload-1ms) read -r ok failed cpu _ < <(run_sipload "$RATE" "$CALLS" "$RUN_LIMIT" --pace-us 1000) ;;
    esac
    per=$(per_cpu "$ok" "$cpu")
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
    'BEGIN { printf "ratio %s/sipp at the same rate: %.2fx calls per CPU-second\n", t, (s > 0 ? l / s : 0) }'
done
[ "$status" -eq 0 ] || echo "sipload_vs_sipp: a run did not complete every call, or a tool sustained no rung (see above)" >&2
exit "$status"
