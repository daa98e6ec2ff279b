{
  "targets": [
    {
      "target_name": "pkcs11_attrs",
      "sources": ["src/pkcs11_attrs.c"],
      "include_dirs": ["include"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "libraries": ["-ldl"]
    }
  ]
}
