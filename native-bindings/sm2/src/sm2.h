/*
 * SM2 public-key decryption (GM/T 0003.4-2012 §7.1, = GB/T 32918.4-2016) on node's OpenSSL:
 * the same inputs, outputs and single failure as src/algorithms/sm2/sm2-decrypt.ts.
 */
#ifndef BYOK_SM2_H
#define BYOK_SM2_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

/* Coordinates up to 66 bytes (P-521 sized); both SM2 curves we know have 32. */
#define SM2_MAX_FIELD_BYTES 66
/* C3 is one SM3 (or, for the non-standard variant, SHA-256) digest. */
#define SM2_HASH_BYTES 32

/* A wrapping key, built once: the group (with its Montgomery data) and d, so a decrypt is the
 * decrypt only. */
typedef struct {
  EC_GROUP *group;
  BIGNUM *p;      /* the field prime (public): C1's coordinates must be below it */
  BIGNUM *d;      /* the secret scalar, BN_FLG_CONSTTIME, cleared on free */
  size_t field_bytes;
} sm2_key;

/* Curve parameters, each big-endian: a non-standard curve (the GB/T 32918 example curve of the
 * published vectors). NULL everywhere means sm2p256v1 (GM/T 0003.5). */
typedef struct {
  const uint8_t *p, *a, *b, *gx, *gy, *n;
  size_t p_len, a_len, b_len, gx_len, gy_len, n_len;
} sm2_curve_bytes;

/* C = C1 ‖ C3 ‖ C2 located in the caller's buffer; C1's coordinates left-padded here. */
typedef struct {
  uint8_t x[SM2_MAX_FIELD_BYTES];
  uint8_t y[SM2_MAX_FIELD_BYTES];
  const uint8_t *c3;
  const uint8_t *c2;
  size_t c2_len;
} sm2_parts;

enum sm2_encoding { SM2_AUTO = 0, SM2_RAW = 1, SM2_DER = 2 };
enum sm2_mode { SM2_C1C3C2 = 0, SM2_C1C2C3 = 1 };

/* NULL when d is not in [1, n − 1], the curve is malformed or has a cofactor, or memory ran out. */
sm2_key *sm2_key_new(const uint8_t *d, size_t d_len, const sm2_curve_bytes *curve);
/* Clears d and frees everything; NULL is fine. */
void sm2_key_free(sm2_key *key);

/* Strict framing (public data): 1 when `in` is a well-formed ciphertext, else 0. */
int sm2_parse(const uint8_t *in, size_t in_len, int encoding, int mode, size_t field_bytes, sm2_parts *parts);

/*
 * B1–B7 into out[0 .. parts->c2_len). Returns -1 on a public failure (C1 not a canonical point
 * of the curve, an empty C2, an OpenSSL failure): out is then cleared. Otherwise returns `good`,
 * 1 or 0, computed without a branch on secrets: C3 (CRYPTO_memcmp), t ≠ 0 and the expected
 * length (expected < 0: any) folded into one mask; when 0, out is all zero.
 */
int sm2_decrypt(const sm2_key *key, const EVP_MD *md, const sm2_parts *parts, long expected, uint8_t *out);

/* Key generation on sm2p256v1 (sm2_keygen.c): per addon instance (an EVP_PKEY_CTX is not shared
 * between threads). */
#define SM2_KEY_BYTES 32
#define SM2_POINT_BYTES 65
typedef struct {
  EVP_PKEY_CTX *pkey;
  EC_GROUP *group;
} sm2_keygen_ctx;

sm2_keygen_ctx *sm2_keygen_new(void);
void sm2_keygen_free(sm2_keygen_ctx *g);
/* 1 with d (big-endian, 32 bytes) and Q = 04 ‖ x ‖ y checked to be [d]G; 0 on any failure
 * (d_out cleared). */
int sm2_generate(sm2_keygen_ctx *g, uint8_t d_out[SM2_KEY_BYTES], uint8_t q_out[SM2_POINT_BYTES]);

#endif
