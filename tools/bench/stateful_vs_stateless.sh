#!/usr/bin/env bash
# Stateful against stateless forwarding, in one run: the same calls (sipp caller honouring
# Record-Route, two sipp UAS backends, all on loopback) through sipring in each mode, one shard.
# Prints, side by side: proxy CPU microseconds per call (utime+stime of the whole process from
# /proc/PID/stat over the run, divided by the calls), peak RSS, and the memory one transaction
# reserves (sipring_transaction_bytes). Bounded: each run is --calls calls at --rate, and sipp
# gives up after 60 s.
#   tools/bench/stateful_vs_stateless.sh [--calls 6000] [--rate 300] [--build build/release]
set -euo pipefail
calls=6000 rate=300 build=build/release
while [ $# -gt 0 ]; do
  case "$1" in
    --calls) calls=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) echo "usage: $0 [--calls N] [--rate N] [--build DIR]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/../.."
scen=tests/integration/scenarios
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
clk=$(getconf CLK_TCK)

free_port() { python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

run_mode() {  # mode -> prints "cpu_us_per_call rss_kb txn_bytes ok failed"
  local mode=$1 p0 p1 lp ap
  p0=$(free_port); p1=$(free_port); lp=$(free_port); ap=$(free_port)
  sipp -sf $scen/uas_rr.xml -i 127.0.0.1 -p "$p0" -nostdin -bg >/dev/null 2>&1 || true
  sipp -sf $scen/uas_rr.xml -i 127.0.0.1 -p "$p1" -nostdin -bg >/dev/null 2>&1 || true
  cat > "$tmp/$mode.toml" <<CFG
[engine]
shards = 1
[[listen]]
address = "127.0.0.1:$lp"
[[backend]]
uri = "sip:127.0.0.1:$p0"
[[backend]]
uri = "sip:127.0.0.1:$p1"
[balancer]
mode = "$mode"
[admin]
address = "127.0.0.1:$ap"
[log]
level = "warn"
CFG
  "$build/tools/sipring/sipring" -c "$tmp/$mode.toml" --run-seconds 300 >"$tmp/$mode.log" 2>&1 &
  local d=$!
  pids+=("$d")
  sleep 1.5
  local before after
  before=$(awk '{print $14+$15}' "/proc/$d/stat")
  sipp "127.0.0.1:$lp" -sf $scen/uac_routes.xml -i 127.0.0.1 -m "$calls" -r "$rate" -l 5000 \
    -nostdin -timeout 60s -trace_screen -screen_file "$tmp/$mode.screen" >/dev/null 2>&1 || true
  after=$(awk '{print $14+$15}' "/proc/$d/stat")
  local rss txn ok failed
  rss=$(awk '/VmHWM/{print $2}' "/proc/$d/status")
  txn=$(curl -s "127.0.0.1:$ap/metrics" | awk '/^sipring_transaction_bytes /{print $2}')
  ok=$(grep -E 'Successful call' "$tmp/$mode.screen" | awk -F'|' '{gsub(/ /,"",$3); print $3}')
  failed=$(grep -E 'Failed call' "$tmp/$mode.screen" | awk -F'|' '{gsub(/ /,"",$3); print $3}')
  kill "$d"; wait "$d" 2>/dev/null || true
  pkill -f "sipp -sf $scen/uas_rr.xml -i 127.0.0.1 -p $p0" || true
  pkill -f "sipp -sf $scen/uas_rr.xml -i 127.0.0.1 -p $p1" || true
  echo "$(( (after - before) * 1000000 / clk / calls )) $rss ${txn:-0} ${ok:-?} ${failed:-?}"
}

read -r sl_cpu sl_rss _ sl_ok sl_failed < <(run_mode stateless)
read -r sf_cpu sf_rss sf_txn sf_ok sf_failed < <(run_mode stateful)
printf '%-10s %14s %12s %10s %8s %8s\n' mode "cpu_us/call" peak_rss_kb txn_bytes ok failed
printf '%-10s %14s %12s %10s %8s %8s\n' stateless "$sl_cpu" "$sl_rss" - "$sl_ok" "$sl_failed"
printf '%-10s %14s %12s %10s %8s %8s\n' stateful "$sf_cpu" "$sf_rss" "$sf_txn" "$sf_ok" "$sf_failed"
awk -v a="$sf_cpu" -v b="$sl_cpu" 'BEGIN { if (b > 0) printf "stateful / stateless CPU per call: %.2fx\n", a / b }'
echo "($calls calls at $rate/s each; CPU from /proc/PID/stat at $clk ticks/s: +-$(( 1000000 / clk / calls * 1 )) us/call resolution)"
