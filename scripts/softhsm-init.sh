#!/usr/bin/env bash
# Create a SoftHSM2 token in a directory of its own, without root and without touching
# /etc/softhsm or /var/lib/softhsm: the token lives in DIR/tokens and DIR/softhsm2.conf points to it.
#
#   scripts/softhsm-init.sh DIR [TOKEN_LABEL]
#
# PINs come from the environment, not the command line (softhsm2-util itself still receives them as
# arguments for the moment it runs: use this for test and development tokens):
#   NEWEID_PKCS11_SO_PIN  security-officer PIN (required)
#   NEWEID_PKCS11_PIN     user PIN (required, 4-255 characters)
# TOKEN_LABEL defaults to $NEWEID_PKCS11_TOKEN, else "neweid".
# On success it prints the variables that point the SoftHSM2 module and neweid at the token
# (the PIN is not printed).
set -euo pipefail

usage() { echo "usage: $0 DIR [TOKEN_LABEL]  (PINs in NEWEID_PKCS11_SO_PIN, NEWEID_PKCS11_PIN)" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
dir=$1
label=${2:-${NEWEID_PKCS11_TOKEN:-neweid}}
so_pin=${NEWEID_PKCS11_SO_PIN:-}
user_pin=${NEWEID_PKCS11_PIN:-}
[ -n "$so_pin" ] || { echo "$0: NEWEID_PKCS11_SO_PIN is not set" >&2; exit 2; }
[ -n "$user_pin" ] || { echo "$0: NEWEID_PKCS11_PIN is not set" >&2; exit 2; }
[ -n "$label" ] && [ ${#label} -le 32 ] || { echo "$0: token label must be 1-32 characters" >&2; exit 2; }

command -v softhsm2-util >/dev/null || { echo "$0: softhsm2-util not found (scripts/install-system-parts.sh)" >&2; exit 1; }
module=${NEWEID_PKCS11_MODULE:-}
if [ -z "$module" ]; then
  for candidate in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
                   /usr/local/lib/softhsm/libsofthsm2.so /usr/lib64/softhsm/libsofthsm2.so; do
    if [ -f "$candidate" ]; then module=$candidate; break; fi
  done
fi
[ -n "$module" ] && [ -f "$module" ] || { echo "$0: libsofthsm2.so not found; set NEWEID_PKCS11_MODULE" >&2; exit 1; }

umask 077
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
conf="$dir/softhsm2.conf"
if [ ! -f "$conf" ]; then
  cat >"$conf" <<CONF
# SoftHSM2 configuration written by neweid scripts/softhsm-init.sh
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
fi
export SOFTHSM2_CONF="$conf"

if softhsm2-util --show-slots 2>/dev/null | sed -n 's/^ *Label: *//p' | sed 's/ *$//' | grep -Fxq -- "$label"; then
  echo "$0: a token labelled '$label' already exists in $dir" >&2
  exit 1
fi
softhsm2-util --init-token --free --label "$label" --so-pin "$so_pin" --pin "$user_pin" >/dev/null

printf 'export SOFTHSM2_CONF=%q\n' "$conf"
printf 'export NEWEID_PKCS11_MODULE=%q\n' "$module"
printf 'export NEWEID_PKCS11_TOKEN=%q\n' "$label"
