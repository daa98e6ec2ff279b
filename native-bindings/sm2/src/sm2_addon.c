/*
 * N-API glue of the SM2 addon (loaded by src/algorithms/sm2/native-sm2.ts):
 *   createKey(d: Uint8Array, curve?: [p, a, b, gx, gy, n] as Uint8Arrays) → key handle
 *   decrypt(key, ciphertext, hash: 0 SM3 | 1 SHA-256, encoding: 0 auto | 1 raw | 2 DER,
 *           mode: 0 C1C3C2 | 1 C1C2C3, expectedLength: -1 any) → { good: 0 | 1, out } | null
 *   generateKey()      → { d: 32 bytes, point: 04 ‖ x ‖ y } on sm2p256v1, Q checked = [d]G; throws
 *                      on an OpenSSL failure
 *   destroyKey(key)    clears d now (the finalizer does it otherwise, when the handle is collected)
 *   openssl            the OpenSSL version the calls resolve to (node's own)
 * null is a public failure (framing, C1), which the caller turns into the one uniform error, as
 * it does `good` = 0. Context-aware (NAPI_MODULE_INIT, per-instance digests) so that every
 * worker thread loads its own instance.
 */
#include <string.h>
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "sm2.h"

typedef struct {
  EVP_MD *sm3;
  EVP_MD *sha256;
  sm2_keygen_ctx *keygen; /* made on the first generateKey */
} instance;

typedef struct {
  sm2_key *key; /* NULL once destroyed */
} handle;

/* Marks our own externals, so that no other external is ever read as a key. */
static const napi_type_tag KEY_TAG = { 0x62796f6b736d3200ULL, 0x6b657968616e646cULL };

#define CHECK(env, call) do { if ((call) != napi_ok) { napi_throw_error((env), NULL, "byok_sm2: " #call); return NULL; } } while (0)

static napi_value type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static int bytes_of(napi_env env, napi_value v, const uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  size_t length, offset;
  void *raw;
  napi_value buffer;
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  if (napi_get_typedarray_info(env, v, &type, &length, &raw, &buffer, &offset) != napi_ok || type != napi_uint8_array) return 0;
  *data = length ? raw : (const uint8_t *)"";
  *len = length;
  return 1;
}

static void finalize_key(napi_env env, void *data, void *hint) {
  handle *h = data;
  sm2_key_free(h->key);
  OPENSSL_free(h);
}

static handle *handle_of(napi_env env, napi_value v) {
  bool tagged = false;
  void *data = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  if (napi_check_object_type_tag(env, v, &KEY_TAG, &tagged) != napi_ok || !tagged) return NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return data;
}

static napi_value create_key(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  const uint8_t *d;
  size_t d_len;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !bytes_of(env, argv[0], &d, &d_len)) return type_error(env, "createKey: d must be a Uint8Array");
  sm2_curve_bytes curve;
  const sm2_curve_bytes *chosen = NULL;
  napi_valuetype t = napi_undefined;
  if (argc > 1) CHECK(env, napi_typeof(env, argv[1], &t));
  if (t != napi_undefined && t != napi_null) {
    const uint8_t **fields[6] = { &curve.p, &curve.a, &curve.b, &curve.gx, &curve.gy, &curve.n };
    size_t *lens[6] = { &curve.p_len, &curve.a_len, &curve.b_len, &curve.gx_len, &curve.gy_len, &curve.n_len };
    for (uint32_t i = 0; i < 6; i++) {
      napi_value item;
      if (napi_get_element(env, argv[1], i, &item) != napi_ok || !bytes_of(env, item, fields[i], lens[i])) {
        return type_error(env, "createKey: curve must be [p, a, b, gx, gy, n] as Uint8Arrays");
      }
    }
    chosen = &curve;
  }
  handle *h = OPENSSL_zalloc(sizeof(*h));
  if (!h) return type_error(env, "createKey: out of memory");
  h->key = sm2_key_new(d, d_len, chosen);
  if (!h->key) {
    OPENSSL_free(h);
    napi_throw_range_error(env, NULL, "createKey: the SM2 key or curve was refused");
    return NULL;
  }
  if (napi_create_external(env, h, finalize_key, NULL, &result) != napi_ok) {
    finalize_key(env, h, NULL);
    napi_throw_error(env, NULL, "byok_sm2: napi_create_external");
    return NULL;
  }
  CHECK(env, napi_type_tag_object(env, result, &KEY_TAG));
  return result;
}

static napi_value destroy_key(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  handle *h = argc == 1 ? handle_of(env, argv[0]) : NULL;
  if (!h) return type_error(env, "destroyKey: not an SM2 key handle");
  sm2_key_free(h->key);
  h->key = NULL;
  return NULL;
}

static int int_of(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

static napi_value decrypt(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], result, out_buffer, out_array, good_value, null_value;
  const uint8_t *in;
  size_t in_len;
  int64_t hash, encoding, mode, expected;
  instance *inst;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(env, napi_get_instance_data(env, (void **)&inst));
  if (argc != 6) return type_error(env, "decrypt: six arguments");
  handle *h = handle_of(env, argv[0]);
  if (!h) return type_error(env, "decrypt: not an SM2 key handle");
  if (!bytes_of(env, argv[1], &in, &in_len)) return type_error(env, "decrypt: the ciphertext must be a Uint8Array");
  if (!int_of(env, argv[2], &hash) || !int_of(env, argv[3], &encoding) || !int_of(env, argv[4], &mode) || !int_of(env, argv[5], &expected)) {
    return type_error(env, "decrypt: hash, encoding, mode and expectedLength must be numbers");
  }
  const EVP_MD *md = hash == 0 ? inst->sm3 : hash == 1 ? inst->sha256 : NULL;
  if (!md) return type_error(env, "decrypt: unknown hash");
  CHECK(env, napi_get_null(env, &null_value));
  sm2_parts parts;
  /* A destroyed key fails like any ciphertext (the TypeScript path's key then holds d = 1). */
  if (!h->key || !sm2_parse(in, in_len, (int)encoding, (int)mode, h->key->field_bytes, &parts)) return null_value;
  if (parts.c2_len == 0) return null_value; /* public; checked again in sm2_decrypt */
  const size_t klen = parts.c2_len;
  void *out;
  CHECK(env, napi_create_arraybuffer(env, klen, &out, &out_buffer));
  int good = sm2_decrypt(h->key, md, &parts, expected < 0 ? -1 : (long)expected, out);
  OPENSSL_cleanse(&parts, sizeof(parts));
  if (good < 0) return null_value;
  CHECK(env, napi_create_typedarray(env, napi_uint8_array, klen, out_buffer, 0, &out_array));
  CHECK(env, napi_create_uint32(env, (uint32_t)good, &good_value));
  CHECK(env, napi_create_object(env, &result));
  CHECK(env, napi_set_named_property(env, result, "good", good_value));
  CHECK(env, napi_set_named_property(env, result, "out", out_array));
  return result;
}

static napi_value generate_key(napi_env env, napi_callback_info info) {
  instance *inst;
  napi_value result, d_buffer, d_array, q_buffer, q_array;
  void *d, *q;
  CHECK(env, napi_get_instance_data(env, (void **)&inst));
  if (!inst->keygen && !(inst->keygen = sm2_keygen_new())) {
    napi_throw_error(env, NULL, "byok_sm2: SM2 key generation is not available in node's OpenSSL");
    return NULL;
  }
  CHECK(env, napi_create_arraybuffer(env, SM2_KEY_BYTES, &d, &d_buffer));
  CHECK(env, napi_create_arraybuffer(env, SM2_POINT_BYTES, &q, &q_buffer));
  if (!sm2_generate(inst->keygen, d, q)) {
    napi_throw_error(env, NULL, "byok_sm2: SM2 key generation failed");
    return NULL;
  }
  CHECK(env, napi_create_typedarray(env, napi_uint8_array, SM2_KEY_BYTES, d_buffer, 0, &d_array));
  CHECK(env, napi_create_typedarray(env, napi_uint8_array, SM2_POINT_BYTES, q_buffer, 0, &q_array));
  CHECK(env, napi_create_object(env, &result));
  CHECK(env, napi_set_named_property(env, result, "d", d_array));
  CHECK(env, napi_set_named_property(env, result, "point", q_array));
  return result;
}

static void finalize_instance(napi_env env, void *data, void *hint) {
  instance *inst = data;
  sm2_keygen_free(inst->keygen);
  EVP_MD_free(inst->sm3);
  EVP_MD_free(inst->sha256);
  OPENSSL_free(inst);
}

NAPI_MODULE_INIT() {
  instance *inst = OPENSSL_zalloc(sizeof(*inst));
  if (!inst) return NULL;
  /* Fetched once per instance (an implicit fetch per call costs a lookup and a lock). */
  inst->sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
  inst->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
  if (!inst->sm3 || !inst->sha256 || napi_set_instance_data(env, inst, finalize_instance, NULL) != napi_ok) {
    finalize_instance(env, inst, NULL);
    napi_throw_error(env, NULL, "byok_sm2: SM3 or SHA-256 is not available in node's OpenSSL");
    return NULL;
  }
  napi_value fn, version;
  const struct { const char *name; napi_callback cb; } fns[] = {
    { "createKey", create_key }, { "decrypt", decrypt }, { "destroyKey", destroy_key }, { "generateKey", generate_key },
  };
  for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &fn) != napi_ok
        || napi_set_named_property(env, exports, fns[i].name, fn) != napi_ok) return NULL;
  }
  if (napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &version) != napi_ok
      || napi_set_named_property(env, exports, "openssl", version) != napi_ok) return NULL;
  return exports;
}
