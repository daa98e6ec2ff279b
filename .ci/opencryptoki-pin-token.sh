#!/usr/bin/env bash
# A second opencryptoki software token (label byok-ock-pin), only for test/pkcs11/pin-states.test.ts:
# it spends wrong logins on it until the token reports CKF_USER_PIN_FINAL_TRY and
# CKF_USER_PIN_LOCKED, which must never happen to the shared token of .ci/opencryptoki-token.sh
# (and runs opencryptoki's object counts there, whose sweeps must not reach other processes' keys).
# opencryptoki 3.8 gives a slot its own token directory with `tokname` in opencryptoki.conf
# (/var/lib/opencryptoki/<tokname>, made by pkcsslotd). pkcsslotd reads the conf only when it
# starts, and a restart breaks every other process's open opencryptoki sessions: it is restarted
# only when this script changed the conf. A token already set up is left as it is.
# Needs root, or a user in the pkcs11 group who may edit the conf.
set -euo pipefail
CONF=${BYOK_OPENCRYPTOKI_CONF:-/etc/opencryptoki/opencryptoki.conf}
SLOT=${BYOK_OPENCRYPTOKI_PIN_SLOT:-5}
TOKNAME=byokpin

if ! grep -q "tokname = $TOKNAME\$" "$CONF"; then
  printf '\n# byok-hsm: the PIN-state tests'"'"' token (.ci/opencryptoki-pin-token.sh)\nslot %s\n{\nstdll = libpkcs11_sw.so\ntokname = %s\n}\n' \
    "$SLOT" "$TOKNAME" >>"$CONF"
  # Stop the running daemon (by its pid) so that the new slot is read; wait until it has gone.
  if pid=$(pgrep -x pkcsslotd); then
    kill "$pid"
    for _ in $(seq 50); do pgrep -x pkcsslotd >/dev/null || break; sleep 0.1; done
  fi
fi
# Then the token is set up as the shared one is, with the same PINs (test/helpers/devices.ts).
BYOK_OPENCRYPTOKI_SLOT=$SLOT BYOK_OPENCRYPTOKI_LABEL=byok-ock-pin "$(dirname "$0")/opencryptoki-token.sh"
