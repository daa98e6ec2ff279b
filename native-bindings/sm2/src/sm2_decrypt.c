/*
 * SM2 decryption, GM/T 0003.4-2012 §7.1 steps B1–B7, on node's OpenSSL (the library node is
 * linked with; this addon links nothing). What OpenSSL's own ossl_sm2_decrypt does, minus its
 * per-call setup (the group, the digest fetch, the KDF fetch, the ASN.1 decoder) and plus the
 * checks the TypeScript path makes: C1's coordinates below p (EC_POINT_set_affine_coordinates
 * would reduce them mod p), t ≠ 0 (B4), and a non-empty C2.
 *
 * Secrets: [d]C1 runs OpenSSL's constant-time Montgomery ladder (EC_POINT_mul with one point
 * and no generator term: ossl_ec_scalar_mul_ladder, d flagged BN_FLG_CONSTTIME); x2, y2, t, M
 * and Hash(x2 ‖ M ‖ y2) are handled with masks only, C3 compared with CRYPTO_memcmp, and every
 * secret-dependent check folded into one `good` mask decided after all the work. Secret buffers
 * are cleared with OPENSSL_cleanse; the BN_CTX is a secure one, cleared when freed.
 */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include "sm2.h"

/* 0xffffffff when a == 0, else 0; no branch. */
static uint32_t ct_is_zero(uint32_t a) {
  return (uint32_t)0 - ((~a & (a - 1)) >> 31);
}

static BIGNUM *bn_from(const uint8_t *bytes, size_t len) {
  return len > 0 && len <= 1024 ? BN_bin2bn(bytes, (int)len, NULL) : NULL;
}

/* A GFp group from explicit parameters, cofactor 1 (the only kind sm2_key_new accepts). */
static EC_GROUP *group_from(const sm2_curve_bytes *c, BN_CTX *bn) {
  EC_GROUP *group = NULL;
  EC_POINT *g = NULL;
  BIGNUM *p = bn_from(c->p, c->p_len), *a = bn_from(c->a, c->a_len), *b = bn_from(c->b, c->b_len);
  BIGNUM *gx = bn_from(c->gx, c->gx_len), *gy = bn_from(c->gy, c->gy_len), *n = bn_from(c->n, c->n_len);
  if (p && a && b && gx && gy && n && (group = EC_GROUP_new_curve_GFp(p, a, b, bn)) != NULL) {
    g = EC_POINT_new(group);
    if (!g || !EC_POINT_set_affine_coordinates(group, g, gx, gy, bn) || !EC_GROUP_set_generator(group, g, n, BN_value_one())) {
      EC_GROUP_free(group);
      group = NULL;
    }
  }
  EC_POINT_free(g);
  BN_free(p); BN_free(a); BN_free(b); BN_free(gx); BN_free(gy); BN_free(n);
  return group;
}

sm2_key *sm2_key_new(const uint8_t *d, size_t d_len, const sm2_curve_bytes *curve) {
  sm2_key *key = OPENSSL_zalloc(sizeof(*key));
  BN_CTX *bn = BN_CTX_new();
  int ok = 0;
  if (!key || !bn) goto done;
  key->group = curve ? group_from(curve, bn) : EC_GROUP_new_by_curve_name(NID_sm2);
  if (!key->group) goto done;
  key->p = BN_new();
  if (!key->p || !EC_GROUP_get_curve(key->group, key->p, NULL, NULL, bn)) goto done;
  key->field_bytes = (size_t)BN_num_bytes(key->p);
  if (key->field_bytes == 0 || key->field_bytes > SM2_MAX_FIELD_BYTES) goto done;
  /* GM/T 0003.4 §7.1 B2 ([h]C1 ≠ O) is implied only with h = 1. */
  if (!BN_is_one(EC_GROUP_get0_cofactor(key->group))) goto done;
  key->d = BN_secure_new();
  if (!key->d || d_len == 0 || d_len > key->field_bytes || !BN_bin2bn(d, (int)d_len, key->d)) goto done;
  BN_set_flags(key->d, BN_FLG_CONSTTIME);
  /* d ∈ [1, n − 1], once per key (the outcome is public: a bad key is refused). */
  if (BN_is_zero(key->d) || BN_cmp(key->d, EC_GROUP_get0_order(key->group)) >= 0) goto done;
  ok = 1;
done:
  BN_CTX_free(bn);
  if (!ok) {
    sm2_key_free(key);
    ERR_clear_error();
    return NULL;
  }
  return key;
}

void sm2_key_free(sm2_key *key) {
  if (!key) return;
  BN_clear_free(key->d);
  BN_free(key->p);
  EC_GROUP_free(key->group);
  OPENSSL_free(key);
}

/* out = Hash(a ‖ b ‖ c), 32 bytes. */
static int digest3(EVP_MD_CTX *h, const EVP_MD *md, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                   const uint8_t *c, size_t c_len, uint8_t *out) {
  return EVP_DigestInit_ex(h, md, NULL) && EVP_DigestUpdate(h, a, a_len) && EVP_DigestUpdate(h, b, b_len)
    && EVP_DigestUpdate(h, c, c_len) && EVP_DigestFinal_ex(h, out, NULL);
}

int sm2_decrypt(const sm2_key *key, const EVP_MD *md, const sm2_parts *parts, long expected, uint8_t *out) {
  const EC_GROUP *group = key->group;
  const size_t len = key->field_bytes, klen = parts->c2_len;
  uint8_t z[2 * SM2_MAX_FIELD_BYTES]; /* x2 ‖ y2 */
  uint8_t block[EVP_MAX_MD_SIZE], u[EVP_MAX_MD_SIZE];
  int result = -1;
  BN_CTX *bn = BN_CTX_secure_new();
  EVP_MD_CTX *h = EVP_MD_CTX_new();
  EC_POINT *c1 = NULL, *s = NULL;
  BIGNUM *x = NULL, *y = NULL;
  uint32_t any = 0, good;
  if (!bn || !h || EVP_MD_get_size(md) != SM2_HASH_BYTES) goto done;
  /* klen = 0 is refused (public): t would be empty, all-zero by B4's letter. */
  if (klen == 0) goto done;
  BN_CTX_start(bn);
  x = BN_CTX_get(bn);
  y = BN_CTX_get(bn);
  c1 = EC_POINT_new(group);
  s = EC_POINT_new(group);
  if (!y || !c1 || !s) goto end;
  /* B1 (public): C1 a point of the curve with canonical coordinates (< p). */
  if (!BN_bin2bn(parts->x, (int)len, x) || !BN_bin2bn(parts->y, (int)len, y)) goto end;
  if (BN_cmp(x, key->p) >= 0 || BN_cmp(y, key->p) >= 0) goto end;
  if (!EC_POINT_set_affine_coordinates(group, c1, x, y, bn)) goto end;
  /* B2 holds with h = 1; B3: S = [d]C1 = (x2, y2), never O for d ∈ [1, n − 1]. */
  if (!EC_POINT_mul(group, s, NULL, c1, key->d, bn)) goto end;
  if (!EC_POINT_get_affine_coordinates(group, s, x, y, bn)) goto end;
  if (BN_bn2binpad(x, z, (int)len) != (int)len || BN_bn2binpad(y, z + len, (int)len) != (int)len) goto end;

  /* B4–B5: t = KDF(x2 ‖ y2, klen) (§5.4.3: Hash(Z ‖ ct), ct = 1, 2, … big-endian), M' = C2 ⊕ t. */
  for (uint32_t ct = 1, off = 0; off < klen; ct++, off += SM2_HASH_BYTES) {
    const uint8_t counter[4] = { (uint8_t)(ct >> 24), (uint8_t)(ct >> 16), (uint8_t)(ct >> 8), (uint8_t)ct };
    if (!digest3(h, md, z, 2 * len, counter, 4, NULL, 0, block)) goto end;
    const size_t take = klen - off < SM2_HASH_BYTES ? klen - off : SM2_HASH_BYTES;
    for (size_t i = 0; i < take; i++) {
      any |= block[i];
      out[off + i] = parts->c2[off + i] ^ block[i];
    }
  }
  /* B6: u = Hash(x2 ‖ M' ‖ y2) = C3? B7 and B4's t ≠ 0, and the expected length, as one mask. */
  if (!digest3(h, md, z, len, out, klen, z + len, len, u)) goto end;
  good = ct_is_zero((uint32_t)CRYPTO_memcmp(u, parts->c3, SM2_HASH_BYTES)) & ~ct_is_zero(any);
  good &= expected < 0 || (size_t)expected == klen ? 0xffffffffu : 0; /* the length is public */
  const uint8_t mask = (uint8_t)good;
  for (size_t i = 0; i < klen; i++) out[i] &= mask;
  result = (int)(good & 1);
end:
  if (x) BN_clear(x);
  if (y) BN_clear(y);
  BN_CTX_end(bn);
done:
  if (result < 0) {
    OPENSSL_cleanse(out, klen);
    ERR_clear_error(); /* OpenSSL's reason (point not on curve, …) must not outlive the call */
  }
  OPENSSL_cleanse(z, sizeof(z));
  OPENSSL_cleanse(block, sizeof(block));
  OPENSSL_cleanse(u, sizeof(u));
  EC_POINT_clear_free(s);
  EC_POINT_free(c1);
  EVP_MD_CTX_free(h); /* frees the digest state with OPENSSL_clear_free */
  BN_CTX_free(bn);    /* clears every BIGNUM it handed out */
  return result;
}
