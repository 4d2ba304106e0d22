#!/usr/bin/env bash
# Re-check the tshark golden files (decode/testdata/golden/*.tshark.jsonl)
# against tshark itself: go test ./decode -run TestTsharkGolden -tshark-check
# re-dissects every capture and fails on any difference. Installs tshark when
# it is missing (Debian/Ubuntu runners).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v "${TSHARK:-tshark}" >/dev/null 2>&1; then
  echo "tshark not found: installing it"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  # The wireshark-common debconf question (non-root capture) must not prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tshark
fi
"${TSHARK:-tshark}" --version | head -n 1

# The golden files were made with tshark 4.0.17; another version may show a
# field differently, which this check reports rather than hides.
go test -count=1 ./decode -run 'TestTsharkGolden' -tshark-check -v 2>&1 | grep -v '^=== RUN' || {
  echo "tshark disagrees with the golden files: if tshark is right, regenerate with"
  echo "  go test ./decode -run TestTsharkGolden -update-golden"
  exit 1
}
go test -count=1 ./internal/tsharkref
