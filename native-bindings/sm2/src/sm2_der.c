/*
 * SM2 ciphertext framing, the C twin of src/algorithms/sm2/sm2-ciphertext.ts (public data only,
 * so it may branch):
 * - DER (GM/T 0009 §7.2 SM2Cipher): SEQUENCE { INTEGER x, INTEGER y, OCTET STRING C3 (32),
 *   OCTET STRING C2 }, strict: definite minimal lengths (X.690 §10.1), minimal non-negative
 *   INTEGERs (§8.3.2), primitive OCTET STRINGs, nothing after the SEQUENCE. That is exactly the
 *   set of encodings the TypeScript parser accepts (it re-encodes canonically and compares).
 * - raw: 04 ‖ x ‖ y ‖ C3 ‖ C2 (C1C3C2) or 04 ‖ x ‖ y ‖ C2 ‖ C3 (C1C2C3).
 */
#include <string.h>
#include "sm2.h"

/* One TLV header with tag `tag` at *pos; its contents must fit in the input. Lengths up to
 * three octets (the TypeScript encoder's limit), each in its minimal form. */
static int read_header(const uint8_t *in, size_t len, size_t *pos, uint8_t tag, size_t *content_len) {
  size_t p = *pos;
  if (p >= len || in[p] != tag) return 0;
  p++;
  if (p >= len) return 0;
  size_t n = in[p++];
  if (n & 0x80) {
    size_t k = n & 0x7f;
    if (k == 0 || k > 3 || len - p < k) return 0; /* 0: indefinite (BER only) */
    if (in[p] == 0) return 0;                     /* a leading zero octet is never minimal */
    n = 0;
    for (size_t i = 0; i < k; i++) n = (n << 8) | in[p++];
    if (n < 0x80) return 0;                       /* long form for a short length */
  }
  if (len - p < n) return 0;
  *pos = p;
  *content_len = n;
  return 1;
}

/* A minimal non-negative INTEGER of at most field_bytes bytes (one leading 00 allowed when the
 * next byte has its top bit set), left-padded into out. */
static int read_coordinate(const uint8_t *in, size_t len, size_t *pos, size_t field_bytes, uint8_t *out) {
  size_t n;
  if (!read_header(in, len, pos, 0x02, &n) || n == 0) return 0;
  const uint8_t *v = in + *pos;
  *pos += n;
  if (v[0] & 0x80) return 0; /* negative */
  if (n > 1 && v[0] == 0) {
    if ((v[1] & 0x80) == 0) return 0; /* a needless leading 00 */
    v++;
    n--;
  }
  if (n > field_bytes) return 0;
  memset(out, 0, field_bytes - n);
  memcpy(out + field_bytes - n, v, n);
  return 1;
}

static int parse_der(const uint8_t *in, size_t len, size_t field_bytes, sm2_parts *parts) {
  size_t pos = 0, n;
  if (!read_header(in, len, &pos, 0x30, &n) || pos + n != len) return 0;
  if (!read_coordinate(in, len, &pos, field_bytes, parts->x)) return 0;
  if (!read_coordinate(in, len, &pos, field_bytes, parts->y)) return 0;
  if (!read_header(in, len, &pos, 0x04, &n) || n != SM2_HASH_BYTES) return 0;
  parts->c3 = in + pos;
  pos += n;
  if (!read_header(in, len, &pos, 0x04, &n) || pos + n != len) return 0;
  parts->c2 = in + pos;
  parts->c2_len = n;
  return 1;
}

static int parse_raw(const uint8_t *in, size_t len, int mode, size_t field_bytes, sm2_parts *parts) {
  size_t c1_len = 1 + 2 * field_bytes;
  /* Only the uncompressed form 04: no wrapping tool writes 02/03/06/07, and O has no 04 form. */
  if (len < c1_len + SM2_HASH_BYTES || in[0] != 0x04) return 0;
  memcpy(parts->x, in + 1, field_bytes);
  memcpy(parts->y, in + 1 + field_bytes, field_bytes);
  parts->c2_len = len - c1_len - SM2_HASH_BYTES;
  if (mode == SM2_C1C3C2) {
    parts->c3 = in + c1_len;
    parts->c2 = in + c1_len + SM2_HASH_BYTES;
  } else if (mode == SM2_C1C2C3) {
    parts->c2 = in + c1_len;
    parts->c3 = in + len - SM2_HASH_BYTES;
  } else {
    return 0;
  }
  return 1;
}

int sm2_parse(const uint8_t *in, size_t in_len, int encoding, int mode, size_t field_bytes, sm2_parts *parts) {
  if (in_len == 0 || field_bytes == 0 || field_bytes > SM2_MAX_FIELD_BYTES) return 0;
  /* auto: DER starts with 30 (SEQUENCE), raw with 04; the first byte is public. */
  if (encoding == SM2_AUTO) encoding = in[0] == 0x30 ? SM2_DER : SM2_RAW;
  if (encoding == SM2_DER) return parse_der(in, in_len, field_bytes, parts);
  if (encoding == SM2_RAW) return parse_raw(in, in_len, mode, field_bytes, parts);
  return 0;
}
