#!/usr/bin/env bash
# Installs every tool the test suite uses, so that no test skips for a missing
# one: tshark (golden files, field-for-field comparisons), chromium and fonts
# (web UI in a headless browser), clickhouse-server and clickhouse-client
# (central store), tcpreplay and tcpdump (live capture, capture filters), gcc
# (go test -race). Debian packages, installed non-interactively; packages
# already installed are skipped, so a prepared runner does no network I/O.
set -euo pipefail

# package:command that shows it is installed
want=(
  tshark:tshark
  chromium:chromium
  fonts-dejavu-core:
  clickhouse-server:clickhouse-server
  clickhouse-client:clickhouse-client
  tcpreplay:tcpreplay
  tcpdump:tcpdump
  gcc:gcc
  iproute2:ip
)

missing=()
for w in "${want[@]}"; do
  pkg=${w%%:*} cmd=${w#*:}
  if [ -n "$cmd" ] && command -v "$cmd" >/dev/null 2>&1; then continue; fi
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then continue; fi
  missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "tools: all installed"
else
  echo "tools: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  # The wireshark-common debconf question (non-root capture) must not prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

tshark --version | head -n 1
chromium --version 2>/dev/null | head -n 1 || true
clickhouse-client --version 2>/dev/null | head -n 1 || true
tcpreplay --version 2>&1 | head -n 1 || true
tcpdump --version 2>&1 | head -n 1 || true
gcc --version | head -n 1
