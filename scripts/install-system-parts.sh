#!/usr/bin/env bash
# Optional system parts for neweid (Debian/Ubuntu, run as root or with sudo):
#   pcscd + vsmartcard's vpcd  - serve the virtual card to any PC/SC application
#   libpcsclite-dev + swig     - build pyscard (the `pcsc` extra) for the PC/SC transport
#   opensc                     - opensc-tool, a PC/SC application used by the interop test
#   openpace                   - cvc-print/cvc-create for CV-certificate interop tests (EAC issue)
#   openssl                    - CLI used by interop tests
#   softhsm2                   - a PKCS#11 token for the HSM key-store tests
#   chromium, chromium-driver  - a real browser for the console UI tests (selenium)
# The core (./dev.sh demo, ./dev.sh test) never needs them; tests that do are skipped without them.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
pkgs="pcscd vsmartcard-vpcd libpcsclite-dev swig pcsc-tools opensc openpace openssl softhsm2 chromium chromium-driver"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq || true
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
echo "system parts present: $pkgs"
