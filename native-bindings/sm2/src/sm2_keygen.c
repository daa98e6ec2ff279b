/*
 * SM2 key generation on node's OpenSSL: EVP_PKEY_keygen (OpenSSL's own SM2 keygen, d drawn in
 * [1, n − 2] as GM/T 0003.1 §6.1 asks), then d and the uncompressed point read back, and the
 * postcondition that the pair matches: Q is recomputed as [d]G (the constant-time ladder, d
 * flagged BN_FLG_CONSTTIME) and compared. Node's generateKeyPair pays for OpenSSL 3.0's DER
 * encoders on top of the same keygen, and the TypeScript postcondition re-parses both; here the
 * caller builds the DER from the two byte strings.
 */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include "sm2.h"

sm2_keygen_ctx *sm2_keygen_new(void) {
  sm2_keygen_ctx *g = OPENSSL_zalloc(sizeof(*g));
  if (!g) return NULL;
  g->pkey = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
  g->group = EC_GROUP_new_by_curve_name(NID_sm2);
  if (!g->pkey || EVP_PKEY_keygen_init(g->pkey) != 1 || !g->group) {
    sm2_keygen_free(g);
    ERR_clear_error();
    return NULL;
  }
  return g;
}

void sm2_keygen_free(sm2_keygen_ctx *g) {
  if (!g) return;
  EVP_PKEY_CTX_free(g->pkey);
  EC_GROUP_free(g->group);
  OPENSSL_free(g);
}

int sm2_generate(sm2_keygen_ctx *g, uint8_t d_out[SM2_KEY_BYTES], uint8_t q_out[SM2_POINT_BYTES]) {
  int ok = 0;
  EVP_PKEY *key = NULL;
  BN_CTX *bn = BN_CTX_secure_new();
  BIGNUM *d = BN_secure_new();
  EC_POINT *q = NULL;
  uint8_t check[SM2_POINT_BYTES];
  size_t q_len = 0;
  if (!bn || !d || EVP_PKEY_keygen(g->pkey, &key) != 1) goto done;
  BN_set_flags(d, BN_FLG_CONSTTIME);
  /* d is read into our secure BIGNUM (OSSL_PARAM_get_BN fills a given one). */
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1) goto done;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, q_out, SM2_POINT_BYTES, &q_len) != 1) goto done;
  if (q_len != SM2_POINT_BYTES || q_out[0] != 0x04) goto done;
  if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(g->group)) >= 0) goto done;
  if (BN_bn2binpad(d, d_out, SM2_KEY_BYTES) != SM2_KEY_BYTES) goto done;
  /* Postcondition: Q = [d]G, on the curve. */
  q = EC_POINT_new(g->group);
  if (!q || !EC_POINT_mul(g->group, q, d, NULL, NULL, bn)) goto done;
  if (EC_POINT_point2oct(g->group, q, POINT_CONVERSION_UNCOMPRESSED, check, sizeof(check), bn) != SM2_POINT_BYTES) goto done;
  ok = CRYPTO_memcmp(check, q_out, SM2_POINT_BYTES) == 0;
done:
  if (!ok) {
    OPENSSL_cleanse(d_out, SM2_KEY_BYTES);
    ERR_clear_error();
  }
  EC_POINT_clear_free(q);
  BN_clear_free(d);
  EVP_PKEY_free(key); /* EC keys are freed with BN_clear_free of the scalar */
  BN_CTX_free(bn);
  return ok;
}
