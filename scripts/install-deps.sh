#!/usr/bin/env bash
# Installs the Debian 12 packages sipring needs, skipping those already there (idempotent).
# Run as root. Safe to run again and again.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  liburing-dev libssl-dev libabsl-dev libtoml11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev   # the fuzz preset (libFuzzer)
  sip-tester                 # sipp: the real SIP peer of the integration tests and the demo
  systemd                    # systemd-analyze: the unit file test verifies sipring.service
  curl                       # the quick-start demo reads sipring's /metrics
  valgrind                   # callgrind instruction counts for per-message costs
  kamailio                   # the incumbent proxy tools/bench/proxy_bench.py measures sipring against
  gnuplot-nox                # proxy_bench.py's PNG (latency against rate, goodput under overload)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
