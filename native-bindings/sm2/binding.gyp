{
  # The SM2 addon (decrypt and key generation): C over N-API (context-aware, so it loads in worker threads) calling
  # the OpenSSL that node itself is linked with. Node's headers carry node's own OpenSSL 3.0
  # headers (include/node/openssl), and node exports those symbols, so nothing links libcrypto:
  # the addon's OpenSSL calls resolve to node's copy when it is loaded.
  "targets": [
    {
      "target_name": "byok_sm2",
      "sources": ["src/sm2_addon.c", "src/sm2_decrypt.c", "src/sm2_der.c", "src/sm2_keygen.c"],
      "defines": ["NAPI_VERSION=8", "OPENSSL_API_COMPAT=30000", "OPENSSL_NO_DEPRECATED"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
    }
  ]
}
