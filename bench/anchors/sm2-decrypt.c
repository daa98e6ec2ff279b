/*
 * The SM2 anchor of `byok bench`: OpenSSL's own SM2 decryption and key generation in a plain C
 * loop, the limit our unwrap is measured against. Built in the same bench run with the
 * system's cc and libcrypto (libssl-dev).
 *
 *   sm2-decrypt decrypt SECONDS   one key, one 32-byte message encrypted once (GM/T 0009 DER,
 *                                 SM3), EVP_PKEY_decrypt on one EVP_PKEY_CTX in a loop
 *   sm2-decrypt keygen SECONDS    EVP_PKEY_keygen on one EVP_PKEY_CTX in a loop
 *
 * Prints one line: "<operation> <count> <seconds> <ops/s>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "sm2-decrypt: %s failed\n", what);
  exit(1);
}

static EVP_PKEY *sm2_key(void) {
  EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
  if (key == NULL) die("EVP_PKEY_Q_keygen(SM2)");
  return key;
}

static void run_decrypt(double seconds) {
  EVP_PKEY *key = sm2_key();
  unsigned char msg[32], ct[256], out[256];
  size_t ct_len = sizeof(ct);
  if (RAND_bytes(msg, sizeof(msg)) != 1) die("RAND_bytes");
  EVP_PKEY_CTX *enc = EVP_PKEY_CTX_new(key, NULL);
  if (enc == NULL || EVP_PKEY_encrypt_init(enc) != 1 || EVP_PKEY_encrypt(enc, ct, &ct_len, msg, sizeof(msg)) != 1) die("EVP_PKEY_encrypt");
  EVP_PKEY_CTX *dec = EVP_PKEY_CTX_new(key, NULL);
  if (dec == NULL || EVP_PKEY_decrypt_init(dec) != 1) die("EVP_PKEY_decrypt_init");
  long count = 0;
  double start = now(), end = start + seconds, t = start;
  while (t < end) {
    for (int i = 0; i < 16; i++) {
      size_t out_len = sizeof(out);
      if (EVP_PKEY_decrypt(dec, out, &out_len, ct, ct_len) != 1 || out_len != sizeof(msg) || memcmp(out, msg, sizeof(msg)) != 0) die("EVP_PKEY_decrypt");
    }
    count += 16;
    t = now();
  }
  printf("decrypt %ld %.3f %.1f\n", count, t - start, (double)count / (t - start));
  EVP_PKEY_CTX_free(enc);
  EVP_PKEY_CTX_free(dec);
  EVP_PKEY_free(key);
}

static void run_keygen(double seconds) {
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
  if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1) die("EVP_PKEY_keygen_init");
  long count = 0;
  double start = now(), end = start + seconds, t = start;
  while (t < end) {
    for (int i = 0; i < 16; i++) {
      EVP_PKEY *key = NULL;
      if (EVP_PKEY_keygen(ctx, &key) != 1) die("EVP_PKEY_keygen");
      EVP_PKEY_free(key);
    }
    count += 16;
    t = now();
  }
  printf("keygen %ld %.3f %.1f\n", count, t - start, (double)count / (t - start));
  EVP_PKEY_CTX_free(ctx);
}

int main(int argc, char **argv) {
  double seconds = argc > 2 ? atof(argv[2]) : 1.0;
  if (argc < 2 || seconds <= 0) {
    fprintf(stderr, "usage: sm2-decrypt decrypt|keygen SECONDS\n");
    return 2;
  }
  if (strcmp(argv[1], "decrypt") == 0) run_decrypt(seconds);
  else if (strcmp(argv[1], "keygen") == 0) run_keygen(seconds);
  else {
    fprintf(stderr, "usage: sm2-decrypt decrypt|keygen SECONDS\n");
    return 2;
  }
  return 0;
}
