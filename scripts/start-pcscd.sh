#!/usr/bin/env bash
# Starts pcscd (with vsmartcard's vpcd reader driver) if it is not running. Idempotent.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if pgrep -x pcscd >/dev/null 2>&1; then
  echo "pcscd already running"
  exit 0
fi
$SUDO mkdir -p /run/pcscd
$SUDO pcscd
for _ in $(seq 1 50); do
  [ -S /run/pcscd/pcscd.comm ] && break
  sleep 0.1
done
echo "pcscd started"
