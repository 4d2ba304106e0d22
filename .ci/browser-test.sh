#!/usr/bin/env bash
# End-to-end browser test of the investigator UI (web/e2e): replays
# pcaps/scenarios.pcap into a temporary store, serves it on 127.0.0.1 and
# drives headless Chromium over the DevTools protocol: login, search a
# number, download the pcap (re-read by capture/decode), open the call.
# Installs Chromium when it is missing (Debian/Ubuntu runners).
#
# GATEWARDEN_SCREENSHOTS=docs .ci/browser-test.sh refreshes docs/search.png
# and docs/call.png.
set -euo pipefail
cd "$(dirname "$0")/.."

find_chromium() {
  for c in "${CHROMIUM:-}" chromium chromium-browser google-chrome; do
    if [ -n "$c" ] && command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
  done
  return 1
}

if ! CHROMIUM_BIN=$(find_chromium); then
  echo "chromium not found: installing it"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core
  CHROMIUM_BIN=$(find_chromium)
fi
"$CHROMIUM_BIN" --version 2>/dev/null | head -n 1 || true

if [ -n "${GATEWARDEN_SCREENSHOTS:-}" ]; then
  mkdir -p "$GATEWARDEN_SCREENSHOTS"
  GATEWARDEN_SCREENSHOTS=$(cd "$GATEWARDEN_SCREENSHOTS" && pwd)
  export GATEWARDEN_SCREENSHOTS
fi
CHROMIUM="$CHROMIUM_BIN" GATEWARDEN_BROWSER=1 go test -count=1 -v -run 'TestBrowser' ./web/e2e
