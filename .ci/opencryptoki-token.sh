#!/usr/bin/env bash
# opencryptoki's software token for the PKCS#11 tests (test/helpers/devices.ts): start pkcsslotd
# if it is not running, and set up the swtok (slot 3 in Debian's opencryptoki.conf) from its
# factory state with the label and PINs the tests use. A token already set up is left as it is.
# Another slot and label (BYOK_OPENCRYPTOKI_SLOT, BYOK_OPENCRYPTOKI_LABEL) set up another token the
# same way (.ci/opencryptoki-pin-token.sh). Needs root, or a user in the pkcs11 group.
set -euo pipefail
LABEL=${BYOK_OPENCRYPTOKI_LABEL:-byok-ock}
SO_PIN=76543210
USER_PIN=23456789
FACTORY_SO_PIN=87654321
SLOT=${BYOK_OPENCRYPTOKI_SLOT:-3}

pgrep -x pkcsslotd >/dev/null || pkcsslotd
if pkcsconf -c "$SLOT" -t | grep -q "Label: $LABEL "; then exit 0; fi
# -I reads the label from stdin. Then the factory SO PIN is changed, the user PIN set by the SO
# and changed once by the user (else the token stays USER_PIN_TO_BE_CHANGED). Re-initialising a
# token set up before fails on opencryptoki 3.8 (the SO login answers CKR_FUNCTION_FAILED): to
# start again, stop pkcsslotd and remove /var/lib/opencryptoki/swtok/{NVTOK.DAT,MK_SO,MK_USER,TOK_OBJ/*}.
echo "$LABEL" | pkcsconf -c "$SLOT" -I -S "$FACTORY_SO_PIN" >/dev/null
pkcsconf -c "$SLOT" -P -S "$FACTORY_SO_PIN" -n "$SO_PIN"
pkcsconf -c "$SLOT" -u -S "$SO_PIN" -n 12345678
pkcsconf -c "$SLOT" -p -U 12345678 -n "$USER_PIN"
pkcsconf -c "$SLOT" -t | grep -q "Label: $LABEL " || { echo "opencryptoki token $LABEL was not set up" >&2; exit 1; }
