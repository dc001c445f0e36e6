#!/usr/bin/env bash
# The README's two commands.
#   bash scripts/quickstart.sh run    install what is missing, build, start the appliance
#   bash scripts/quickstart.sh test   install what is missing, build, run the whole test suite
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
case "$mode" in
  run|test) ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"

if [ "$mode" = run ]; then
  # Until the SIP daemon lands, the appliance's engine runs its echo service on the default
  # address, with a built-in client for the first seconds so traffic is visible. Ctrl-C stops it.
  exec build/release/tools/echo/sipring-echo --listen 127.0.0.1:5060 --demo-seconds 5
fi

# The whole suite: unit, integration and slow labels (fuzz targets run in the fuzz preset).
ctest --preset release -j2 --timeout 600
