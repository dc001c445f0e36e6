#!/usr/bin/env bash
# The README's two commands.
#   bash scripts/quickstart.sh run [--keep]   install what is missing, build, run the appliance
#                                             with two demo backends and a caller, print a summary
#   bash scripts/quickstart.sh test           install what is missing, build, run the whole suite
#
# `run` starts two sipp UAS backends (127.0.0.1:5070 and :5071), then sipring on its built-in
# default config (UDP 127.0.0.1:5060, metrics on http://127.0.0.1:9090/metrics), sends 2000 calls
# at 200/s through it with a sipp UAC, and prints sipp's result and sipring's counters. Then it
# stops everything it started (also on Ctrl-C or failure), unless --keep or SIPRING_DEMO_KEEP=1
# leaves sipring and the backends running after a successful demo. Logs: build/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 run [--keep] | test" >&2; exit 2; }

mode=${1:-}
keep=${SIPRING_DEMO_KEEP:-0}
case "$mode" in
  run)
    shift
    for arg in "$@"; do
      case "$arg" in
        --keep) keep=1 ;;
        *) usage ;;
      esac
    done ;;
  test) [ $# -eq 1 ] || usage ;;
  *) usage ;;
esac

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"

if [ "$mode" = test ]; then
  # The whole suite: unit, integration and slow labels (fuzz targets run in the fuzz preset).
  ctest --preset release -j2 --timeout 600
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# run: the demo. Everything below talks to the built-in default config's fixed addresses.

SIPRING=build/release/tools/sipring/sipring
METRICS_URL=http://127.0.0.1:9090/metrics
DEMO_DIR=$PWD/build/demo
CALLS=2000
RATE=200

say() { echo "quickstart: $*"; }

# A port is busy when any socket of its protocol holds it (any address, IPv4 or IPv6): sipring
# binds with SO_REUSEPORT, so a stray process sharing 5060 would silently take part of the
# traffic; better to refuse up front. /proc/net needs no extra tool.
port_busy() {  # port proto(udp|tcp)
  local hex
  hex=$(printf '%04X' "$1")
  if [ "$2" = udp ]; then
    awk -v h=":$hex" 'FNR > 1 && substr($2, length($2) - 4) == h { found = 1 }
                      END { exit !found }' /proc/net/udp /proc/net/udp6 2>/dev/null
  else
    awk -v h=":$hex" 'FNR > 1 && substr($2, length($2) - 4) == h && $4 == "0A" { found = 1 }
                      END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
  fi
}

busy=()
for p in 5060/udp 5070/udp 5071/udp 9090/tcp; do
  if port_busy "${p%/*}" "${p#*/}"; then busy+=("$p"); fi
done
if [ ${#busy[@]} -gt 0 ]; then
  say "cannot start the demo: port(s) ${busy[*]} on this host already in use."
  say "the demo needs 127.0.0.1:5060/udp (sipring), 5070/udp and 5071/udp (sipp backends) and"
  say "127.0.0.1:9090/tcp (metrics). Stop what holds them, e.g. a demo left by --keep:"
  if command -v ss >/dev/null; then
    for p in "${busy[@]}"; do
      ss -Hanp "$([ "${p#*/}" = udp ] && echo -u || echo -t)" "sport = :${p%/*}" \
        | sed 's/^/    /' || true
    done
  else
    say "(install iproute2 and run: ss -lunpt) to see which processes."
  fi
  exit 1
fi

mkdir -p "$DEMO_DIR"
rm -f "$DEMO_DIR"/*.log "$DEMO_DIR"/*.screen "$DEMO_DIR"/*.txt

sipring_pid=""
uas_pids=()
uac_pid=""

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# Waits up to $2 tenths of a second for pid $1 to be gone.
wait_gone() {
  local i
  for ((i = 0; i < $2; i++)); do alive "$1" || return 0; sleep 0.1; done
  ! alive "$1"
}

stop_all() {
  local pid rc
  if alive "$uac_pid"; then kill -TERM "$uac_pid" 2>/dev/null || true; fi
  if alive "$sipring_pid"; then
    kill -TERM "$sipring_pid" 2>/dev/null || true   # drains for up to 2 s, then exits 0
    if wait_gone "$sipring_pid" 50; then
      rc=0; wait "$sipring_pid" 2>/dev/null || rc=$?
      say "sipring stopped (SIGTERM, exit $rc)"
    else
      kill -KILL "$sipring_pid" 2>/dev/null || true
      say "sipring did not stop within 5 s of SIGTERM; killed"
    fi
  fi
  # sipp ends on SIGUSR1 like on 'q' (no calls are left on a UAS by now); SIGTERM, SIGKILL after.
  for pid in "${uas_pids[@]}"; do kill -USR1 "$pid" 2>/dev/null || true; done
  for pid in "${uas_pids[@]}"; do
    wait_gone "$pid" 30 || { kill -TERM "$pid" 2>/dev/null || true; }
    wait_gone "$pid" 20 || { kill -KILL "$pid" 2>/dev/null || true; }
  done
  [ ${#uas_pids[@]} -eq 0 ] || say "sipp backends stopped"
  sipring_pid=""
  uas_pids=()
  uac_pid=""
}

# Everything started here stops on any exit (failure, Ctrl-C, kill) unless the demo succeeded
# with --keep; then `kept` is set and the trap leaves them running.
kept=0
on_exit() { [ "$kept" = 1 ] || stop_all; }
trap on_exit EXIT
trap 'echo; say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

die() { say "$*"; exit 1; }

show_log() {  # file: its last lines, indented
  [ -s "$1" ] && tail -n 15 "$1" | sed 's/^/    /'
  return 0
}

# Each child runs in its own session (setsid): Ctrl-C on the terminal then reaches this script
# only, and the traps stop the children in order (sipring drains on SIGTERM) instead of each
# dying on its own; with --keep they also outlive the terminal. setsid does not fork here (a
# background child is no group leader), so $! is the child's own pid.
#
# The backends: sipp's built-in UAS answers INVITE with 180 + 200 and BYE with 200.
for port in 5070 5071; do
  (cd "$DEMO_DIR" && exec setsid sipp -sn uas -i 127.0.0.1 -p "$port" -nostdin \
     >"$DEMO_DIR/uas-$port.log" 2>&1 </dev/null) &
  uas_pids+=($!)
done
say "sipp UAS backends on 127.0.0.1:5070 and 127.0.0.1:5071 (pids ${uas_pids[*]})"

# The appliance, on its built-in default config (`$SIPRING --print-default-config` shows it).
setsid "$SIPRING" >"$DEMO_DIR/sipring.log" 2>&1 </dev/null &
sipring_pid=$!
say "sipring started (pid $sipring_pid), waiting for $METRICS_URL"

metrics() { curl -fsS --max-time 2 "$METRICS_URL" 2>/dev/null; }

for ((i = 0; i < 100; i++)); do  # 10 s
  if ! alive "$sipring_pid"; then
    rc=0; wait "$sipring_pid" 2>/dev/null || rc=$?
    sipring_pid=""
    say "sipring exited during start-up (exit $rc); $DEMO_DIR/sipring.log:"
    show_log "$DEMO_DIR/sipring.log"
    exit 1
  fi
  metrics >/dev/null && break
  sleep 0.1
done
metrics >/dev/null || { show_log "$DEMO_DIR/sipring.log"; die "no answer on $METRICS_URL after 10 s"; }
grep -m1 'event=started' "$DEMO_DIR/sipring.log" | sed 's/^/    /' || true
for pid in "${uas_pids[@]}"; do
  alive "$pid" || { show_log "$DEMO_DIR/uas-5070.log"; show_log "$DEMO_DIR/uas-5071.log";
                    die "a sipp backend exited; see $DEMO_DIR/uas-*.log"; }
done

# The caller: sipp's built-in UAC (INVITE, ACK, BYE per call) towards sipring, bounded by -m and
# -timeout. A line every 2 s shows sipring's counters while it runs.
say "sending $CALLS calls at $RATE/s through 127.0.0.1:5060 (about $((CALLS / RATE)) s)"
(cd "$DEMO_DIR" && exec setsid sipp 127.0.0.1:5060 -sn uac -i 127.0.0.1 -m "$CALLS" -r "$RATE" \
   -nostdin -timeout 30s -trace_screen -screen_file "$DEMO_DIR/uac.screen" \
   >"$DEMO_DIR/uac.log" 2>&1 </dev/null) &
uac_pid=$!

counter() {  # text name: sum of every series of a metric
  awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $NF } END { printf "%d", s }' <<<"$1"
}

start=$SECONDS
while alive "$uac_pid"; do
  sleep 2
  if m=$(metrics); then
    printf '    %3ds  requests in %6s  forwarded %6s  rejected %s\n' $((SECONDS - start)) \
      "$(counter "$m" sipring_requests_total)" \
      "$(awk '$1 == "sipring_forwarded_total{kind=\"request\"}" { printf "%d", $NF }' <<<"$m")" \
      "$(counter "$m" sipring_rejected_total)"
  fi
  if ((SECONDS - start > 40)); then
    kill -TERM "$uac_pid" 2>/dev/null || true
    say "the sipp caller ran past 40 s; stopped it"
    break
  fi
done
uac_rc=0; wait "$uac_pid" 2>/dev/null || uac_rc=$?
uac_pid=""

# ---------------------------------------------------------------------------------------------
# Summary.

read -r ok failed < <(awk '/Successful call/ { s = $NF } /Failed call/ { f = $NF }
                           END { print s + 0, f + 0 }' "$DEMO_DIR/uac.screen" 2>/dev/null ||
                      echo "0 0")
echo
say "sipp caller: $ok successful, $failed failed calls of $CALLS (sipp exit $uac_rc)"

m=$(metrics) || die "cannot read $METRICS_URL for the summary"
printf '%s\n' "$m" > "$DEMO_DIR/metrics.txt"
say "sipring counters ($METRICS_URL, non-zero series):"
for family in sipring_requests_total sipring_forwarded_total sipring_backend_requests_total \
              sipring_rejected_total sipring_added_latency_seconds_count \
              sipring_added_latency_seconds_sum; do
  awk -v n="$family" '($1 == n || index($1, n "{") == 1) && $NF != 0 { print "    " $0 }' <<<"$m"
done
rejected=$(counter "$m" sipring_rejected_total)
[ "$rejected" != 0 ] || echo "    (sipring_rejected_total is 0 for every reason)"
awk '$1 == "sipring_added_latency_seconds_sum" { s = $NF }
     $1 == "sipring_added_latency_seconds_count" { c = $NF }
     END { if (c > 0) printf "    (mean latency sipring added: %.1f us per forwarded message)\n",
                             s / c * 1e6 }' <<<"$m"
say "logs: $DEMO_DIR (sipring.log, uas-5070.log, uas-5071.log, uac.screen, metrics.txt)"

status=0
if [ "$uac_rc" != 0 ] || [ "$failed" != 0 ] || [ "$ok" != "$CALLS" ]; then
  say "the demo FAILED: see $DEMO_DIR/uac.screen and $DEMO_DIR/sipring.log"
  status=1
fi

if [ "$keep" = 1 ] && [ "$status" = 0 ]; then
  kept=1
  say "--keep: left running: sipring (pid $sipring_pid), sipp backends (pids ${uas_pids[*]})"
  say "  try: curl -s $METRICS_URL | grep sipring_requests_total"
  say "  stop them with: kill $sipring_pid ${uas_pids[*]}"
fi
exit "$status"
