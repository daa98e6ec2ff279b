#!/usr/bin/env bash
# A second opencryptoki software token, only for the PIN-state tests (test/pkcs11/hardening.test.ts
# "PIN states"): they spend wrong logins on it until the token reports CKF_USER_PIN_FINAL_TRY and
# CKF_USER_PIN_LOCKED, which must never happen to the shared token of .ci/opencryptoki-token.sh.
# opencryptoki 3.8 gives a slot its own token directory with `tokname` in opencryptoki.conf
# (/var/lib/opencryptoki/<tokname>, made by pkcsslotd). pkcsslotd reads the conf only when it
# starts, and a restart breaks every other process's open opencryptoki sessions: it is restarted
# only when this script changed the conf. A token already set up is left as it is.
# Needs root, or a user in the pkcs11 group who may edit the conf.
set -euo pipefail
CONF=${BYOK_OPENCRYPTOKI_CONF:-/etc/opencryptoki/opencryptoki.conf}
SLOT=${BYOK_OPENCRYPTOKI_PIN_SLOT:-5}
TOKNAME=byokpin
LABEL=byok-ock-pin
SO_PIN=76543210
USER_PIN=23456789
FACTORY_SO_PIN=87654321

if ! grep -q "tokname = $TOKNAME\$" "$CONF"; then
  printf '\n# byok-hsm: the PIN-state tests'"'"' token (.ci/opencryptoki-pin-token.sh)\nslot %s\n{\nstdll = libpkcs11_sw.so\ntokname = %s\n}\n' \
    "$SLOT" "$TOKNAME" >>"$CONF"
  # Stop the running daemon (by its pid) so that the new slot is read; wait until it has gone.
  if pid=$(pgrep -x pkcsslotd); then
    kill "$pid"
    for _ in $(seq 50); do pgrep -x pkcsslotd >/dev/null || break; sleep 0.1; done
  fi
fi
pgrep -x pkcsslotd >/dev/null || pkcsslotd
if pkcsconf -c "$SLOT" -t | grep -q "Label: $LABEL "; then exit 0; fi
# As in .ci/opencryptoki-token.sh: label from stdin, then the SO PIN changed from the factory one,
# the user PIN set by the SO and changed once by the user (else USER_PIN_TO_BE_CHANGED).
echo "$LABEL" | pkcsconf -c "$SLOT" -I -S "$FACTORY_SO_PIN" >/dev/null
pkcsconf -c "$SLOT" -P -S "$FACTORY_SO_PIN" -n "$SO_PIN"
pkcsconf -c "$SLOT" -u -S "$SO_PIN" -n 12345678
pkcsconf -c "$SLOT" -p -U 12345678 -n "$USER_PIN"
pkcsconf -c "$SLOT" -t | grep -q "Label: $LABEL " || { echo "opencryptoki token $LABEL was not set up" >&2; exit 1; }
