/*
 * pkcs11-attrs: the Cryptoki calls pkcs11js 2.1.7 cannot make, because its templates cannot hold
 * attribute-array attributes (CKA_UNWRAP_TEMPLATE, CKA_WRAP_TEMPLATE, CKA_DERIVE_TEMPLATE) —
 * PKCS#11 2.40 §4.1.4: their value is itself a CK_ATTRIBUTE array.
 *
 * It calls the module pkcs11js already loaded and initialised: dlopen(RTLD_NOLOAD) of the same
 * path gives the same library instance, so C_GetFunctionList returns the same function list and
 * pkcs11js's session and object handles (Buffers of one CK_ULONG) are valid here.
 *
 *   openModule(path)                     -> External (throws if the library is not loaded)
 *   generateKeyPair(module, session, mechanism, publicTemplate, privateTemplate)
 *                                        -> Promise<{ publicKey: Buffer, privateKey: Buffer }>
 *   getAttributeTemplate(module, session, object, type)
 *                                        -> Array<{ type: number, value: Buffer }>
 *
 * A template is an array of { type, value }: value is a boolean (CK_BBOOL), a number (CK_ULONG),
 * a string (UTF-8), a Buffer (bytes), an array of templates' attributes for an attribute-array
 * type, or an array of numbers (CK_ULONG array) for CKA_ALLOWED_MECHANISMS.
 * A failing CK_RV rejects / throws an Error with `code` (the CK_RV) and `method`.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

#include "pkcs11/pkcs11.h"

#define MAX_ATTRIBUTES 256
#define MAX_DEPTH 4

typedef struct {
  void *dl;
  CK_FUNCTION_LIST_PTR fl;
} module_t;

/* Every allocation of one marshalled call, freed together. */
typedef struct {
  struct block { void *p; size_t size; } *blocks;
  size_t count;
  size_t capacity;
} arena_t;

static void *arena_alloc(arena_t *arena, size_t size) {
  if (arena->count == arena->capacity) {
    size_t capacity = arena->capacity ? arena->capacity * 2 : 16;
    struct block *blocks = realloc(arena->blocks, capacity * sizeof *blocks);
    if (!blocks) return NULL;
    arena->blocks = blocks;
    arena->capacity = capacity;
  }
  void *p = calloc(1, size ? size : 1);
  if (p) arena->blocks[arena->count++] = (struct block){p, size};
  return p;
}

/* Zeroes before freeing: a template may carry secret values (CKA_VALUE). */
static void arena_free(arena_t *arena) {
  for (size_t i = 0; i < arena->count; i++) {
    volatile unsigned char *p = arena->blocks[i].p;
    for (size_t j = 0; j < arena->blocks[i].size; j++) p[j] = 0;
    free(arena->blocks[i].p);
  }
  free(arena->blocks);
  arena->blocks = NULL;
  arena->count = arena->capacity = 0;
}

static napi_value rv_error(napi_env env, const char *method, CK_RV rv) {
  char message[96];
  snprintf(message, sizeof message, "%s failed: CK_RV 0x%08lX", method, (unsigned long)rv);
  napi_value msg, error, code, name;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &error);
  napi_create_double(env, (double)rv, &code);
  napi_set_named_property(env, error, "code", code);
  napi_create_string_utf8(env, method, NAPI_AUTO_LENGTH, &name);
  napi_set_named_property(env, error, "method", name);
  return error;
}

static void throw_rv(napi_env env, const char *method, CK_RV rv) {
  napi_throw(env, rv_error(env, method, rv));
}

static int get_ulong(napi_env env, napi_value value, CK_ULONG *out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || d < 0 || d > 18446744073709551615.0 || d != (double)(uint64_t)d) return 0;
  *out = (CK_ULONG)d;
  return 1;
}

/* A handle is a Buffer of one CK_ULONG, as pkcs11js makes them. */
static int get_handle(napi_env env, napi_value value, CK_ULONG *out) {
  bool is_buffer = false;
  void *data;
  size_t length;
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer) return 0;
  napi_get_buffer_info(env, value, &data, &length);
  if (length != sizeof(CK_ULONG)) return 0;
  memcpy(out, data, sizeof(CK_ULONG));
  return 1;
}

static napi_value make_handle(napi_env env, CK_ULONG handle) {
  napi_value buffer;
  napi_create_buffer_copy(env, sizeof(CK_ULONG), &handle, NULL, &buffer);
  return buffer;
}

static int type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return 0;
}

static int marshal_template(napi_env env, napi_value array, arena_t *arena, int depth, CK_ATTRIBUTE_PTR *out, CK_ULONG *count);

/* One attribute's value into attr->pValue / ulValueLen (memory from the arena). */
static int marshal_value(napi_env env, napi_value value, CK_ATTRIBUTE_PTR attr, arena_t *arena, int depth) {
  napi_valuetype kind;
  bool is_buffer = false, is_array = false;
  napi_typeof(env, value, &kind);
  napi_is_buffer(env, value, &is_buffer);
  napi_is_array(env, value, &is_array);
  if (kind == napi_undefined || kind == napi_null) {
    attr->pValue = NULL;
    attr->ulValueLen = 0;
  } else if (kind == napi_boolean) {
    bool b;
    napi_get_value_bool(env, value, &b);
    CK_BBOOL *p = arena_alloc(arena, sizeof(CK_BBOOL));
    if (!p) return type_error(env, "out of memory");
    *p = b ? CK_TRUE : CK_FALSE;
    attr->pValue = p;
    attr->ulValueLen = sizeof(CK_BBOOL);
  } else if (kind == napi_number) {
    CK_ULONG *p = arena_alloc(arena, sizeof(CK_ULONG));
    if (!p) return type_error(env, "out of memory");
    if (!get_ulong(env, value, p)) return type_error(env, "an attribute's number value must be a CK_ULONG");
    attr->pValue = p;
    attr->ulValueLen = sizeof(CK_ULONG);
  } else if (kind == napi_string) {
    size_t length;
    napi_get_value_string_utf8(env, value, NULL, 0, &length);
    char *p = arena_alloc(arena, length + 1);
    if (!p) return type_error(env, "out of memory");
    napi_get_value_string_utf8(env, value, p, length + 1, &length);
    attr->pValue = p;
    attr->ulValueLen = length;
  } else if (is_buffer) {
    void *data;
    size_t length;
    napi_get_buffer_info(env, value, &data, &length);
    void *p = arena_alloc(arena, length);
    if (!p) return type_error(env, "out of memory");
    memcpy(p, data, length);
    attr->pValue = p;
    attr->ulValueLen = length;
  } else if (is_array && attr->type == CKA_ALLOWED_MECHANISMS) {
    uint32_t n;
    napi_get_array_length(env, value, &n);
    if (n > MAX_ATTRIBUTES) return type_error(env, "too many mechanisms");
    CK_MECHANISM_TYPE *p = arena_alloc(arena, n * sizeof(CK_MECHANISM_TYPE));
    if (!p) return type_error(env, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
      napi_value element;
      napi_get_element(env, value, i, &element);
      if (!get_ulong(env, element, &p[i])) return type_error(env, "CKA_ALLOWED_MECHANISMS takes an array of mechanism numbers");
    }
    attr->pValue = p;
    attr->ulValueLen = n * sizeof(CK_MECHANISM_TYPE);
  } else if (is_array && (attr->type & CKF_ARRAY_ATTRIBUTE)) {
    CK_ATTRIBUTE_PTR nested;
    CK_ULONG n;
    if (!marshal_template(env, value, arena, depth + 1, &nested, &n)) return 0;
    attr->pValue = nested;
    attr->ulValueLen = n * sizeof(CK_ATTRIBUTE);
  } else {
    return type_error(env, "an attribute's value must be a boolean, number, string, Buffer, or an array for an attribute-array type");
  }
  return 1;
}

static int marshal_template(napi_env env, napi_value array, arena_t *arena, int depth, CK_ATTRIBUTE_PTR *out, CK_ULONG *count) {
  bool is_array = false;
  uint32_t n;
  if (depth > MAX_DEPTH) return type_error(env, "templates nest too deep");
  if (napi_is_array(env, array, &is_array) != napi_ok || !is_array) return type_error(env, "a template must be an array");
  napi_get_array_length(env, array, &n);
  if (n > MAX_ATTRIBUTES) return type_error(env, "too many attributes");
  CK_ATTRIBUTE_PTR attrs = arena_alloc(arena, n * sizeof(CK_ATTRIBUTE));
  if (!attrs) return type_error(env, "out of memory");
  for (uint32_t i = 0; i < n; i++) {
    napi_value element, type, value;
    napi_valuetype kind;
    napi_get_element(env, array, i, &element);
    napi_typeof(env, element, &kind);
    if (kind != napi_object) return type_error(env, "a template's element must be { type, value }");
    napi_get_named_property(env, element, "type", &type);
    if (!get_ulong(env, type, &attrs[i].type)) return type_error(env, "an attribute's type must be a number");
    napi_get_named_property(env, element, "value", &value);
    if (!marshal_value(env, value, &attrs[i], arena, depth)) return 0;
  }
  *out = attrs;
  *count = n;
  return 1;
}

static module_t *get_module(napi_env env, napi_value value) {
  napi_valuetype kind;
  void *data = NULL;
  napi_typeof(env, value, &kind);
  if (kind != napi_external || napi_get_value_external(env, value, &data) != napi_ok || !data) {
    napi_throw_type_error(env, NULL, "the first argument must be a module from openModule");
    return NULL;
  }
  return data;
}

static void finalize_module(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  module_t *module = data;
  dlclose(module->dl);
  free(module);
}

static napi_value open_module(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char path[4096];
  size_t length;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &length) != napi_ok || length >= sizeof path - 1) {
    napi_throw_type_error(env, NULL, "openModule takes the module's path");
    return NULL;
  }
  /* RTLD_NOLOAD: only a library already loaded (by pkcs11js) — a fresh copy would be uninitialised. */
  void *dl = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (!dl) {
    napi_throw_error(env, "ERR_MODULE_NOT_LOADED", "the PKCS#11 module is not loaded in this process (open it with pkcs11js first)");
    return NULL;
  }
  CK_C_GetFunctionList get_function_list = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
  CK_FUNCTION_LIST_PTR fl = NULL;
  CK_RV rv = get_function_list ? get_function_list(&fl) : CKR_GENERAL_ERROR;
  if (rv != CKR_OK || !fl) {
    dlclose(dl);
    throw_rv(env, "C_GetFunctionList", rv);
    return NULL;
  }
  module_t *module = malloc(sizeof *module);
  if (!module) {
    dlclose(dl);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  module->dl = dl;
  module->fl = fl;
  napi_value external;
  napi_create_external(env, module, finalize_module, NULL, &external);
  return external;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref module_ref;
  module_t *module;
  arena_t arena;
  CK_SESSION_HANDLE session;
  CK_MECHANISM mechanism;
  CK_ATTRIBUTE_PTR public_template, private_template;
  CK_ULONG public_count, private_count;
  CK_OBJECT_HANDLE public_key, private_key;
  CK_RV rv;
} generate_job_t;

static void generate_execute(napi_env env, void *data) {
  (void)env;
  generate_job_t *job = data;
  job->rv = job->module->fl->C_GenerateKeyPair(job->session, &job->mechanism, job->public_template, job->public_count,
                                               job->private_template, job->private_count, &job->public_key, &job->private_key);
}

static void generate_complete(napi_env env, napi_status status, void *data) {
  generate_job_t *job = data;
  if (status != napi_ok) {
    napi_value msg, error;
    napi_create_string_utf8(env, "C_GenerateKeyPair was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &error);
    napi_reject_deferred(env, job->deferred, error);
  } else if (job->rv != CKR_OK) {
    napi_reject_deferred(env, job->deferred, rv_error(env, "C_GenerateKeyPair", job->rv));
  } else {
    napi_value result;
    napi_create_object(env, &result);
    napi_set_named_property(env, result, "publicKey", make_handle(env, job->public_key));
    napi_set_named_property(env, result, "privateKey", make_handle(env, job->private_key));
    napi_resolve_deferred(env, job->deferred, result);
  }
  napi_delete_async_work(env, job->work);
  napi_delete_reference(env, job->module_ref);
  arena_free(&job->arena);
  free(job);
}

static napi_value generate_key_pair(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "generateKeyPair(module, session, mechanism, publicTemplate, privateTemplate)");
    return NULL;
  }
  module_t *module = get_module(env, argv[0]);
  if (!module) return NULL;
  generate_job_t *job = calloc(1, sizeof *job);
  if (!job) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  job->module = module;
  CK_ULONG mechanism;
  if (!get_handle(env, argv[1], &job->session)) {
    napi_throw_type_error(env, NULL, "the session must be a pkcs11js session handle");
    goto fail;
  }
  if (!get_ulong(env, argv[2], &mechanism)) {
    napi_throw_type_error(env, NULL, "the mechanism must be a number");
    goto fail;
  }
  job->mechanism.mechanism = mechanism;
  if (!marshal_template(env, argv[3], &job->arena, 0, &job->public_template, &job->public_count)) goto fail;
  if (!marshal_template(env, argv[4], &job->arena, 0, &job->private_template, &job->private_count)) goto fail;

  napi_value promise, name;
  napi_create_promise(env, &job->deferred, &promise);
  /* The module outlives the job: keep its External alive until the call returns. */
  napi_create_reference(env, argv[0], 1, &job->module_ref);
  napi_create_string_utf8(env, "pkcs11-attrs:C_GenerateKeyPair", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, generate_execute, generate_complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;

fail:
  arena_free(&job->arena);
  free(job);
  return NULL;
}

/*
 * The nested template of an attribute-array attribute, read as PKCS#11 2.40 §5.7 (C_GetAttributeValue)
 * describes: first its length (a multiple of sizeof(CK_ATTRIBUTE)), then each element's length,
 * then the values.
 */
static napi_value get_attribute_template(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "getAttributeTemplate(module, session, object, type)");
    return NULL;
  }
  module_t *module = get_module(env, argv[0]);
  if (!module) return NULL;
  CK_SESSION_HANDLE session;
  CK_OBJECT_HANDLE object;
  CK_ULONG type;
  if (!get_handle(env, argv[1], &session) || !get_handle(env, argv[2], &object) || !get_ulong(env, argv[3], &type)) {
    napi_throw_type_error(env, NULL, "getAttributeTemplate(module, session: Buffer, object: Buffer, type: number)");
    return NULL;
  }
  if (!(type & CKF_ARRAY_ATTRIBUTE)) {
    napi_throw_type_error(env, NULL, "the type must be an attribute-array attribute (CKF_ARRAY_ATTRIBUTE)");
    return NULL;
  }
  CK_FUNCTION_LIST_PTR fl = module->fl;
  CK_ATTRIBUTE outer = {type, NULL, 0};
  CK_RV rv = fl->C_GetAttributeValue(session, object, &outer, 1);
  if (rv != CKR_OK) {
    throw_rv(env, "C_GetAttributeValue", rv);
    return NULL;
  }
  if (outer.ulValueLen == (CK_ULONG)-1 || outer.ulValueLen % sizeof(CK_ATTRIBUTE) != 0 || outer.ulValueLen / sizeof(CK_ATTRIBUTE) > MAX_ATTRIBUTES) {
    napi_throw_error(env, NULL, "the device reported an attribute-array length that is not a whole number of CK_ATTRIBUTEs");
    return NULL;
  }
  CK_ULONG n = outer.ulValueLen / sizeof(CK_ATTRIBUTE);
  arena_t arena = {0};
  napi_value result = NULL;
  CK_ATTRIBUTE_PTR inner = arena_alloc(&arena, n * sizeof(CK_ATTRIBUTE));
  if (!inner) goto oom;
  outer.pValue = inner;
  rv = fl->C_GetAttributeValue(session, object, &outer, 1);
  if (rv != CKR_OK) {
    throw_rv(env, "C_GetAttributeValue", rv);
    goto done;
  }
  for (CK_ULONG i = 0; i < n; i++) {
    if (inner[i].ulValueLen == (CK_ULONG)-1 || inner[i].ulValueLen > 65536) {
      napi_throw_error(env, NULL, "the device reported an unusable length inside an attribute array");
      goto done;
    }
    inner[i].pValue = arena_alloc(&arena, inner[i].ulValueLen);
    if (!inner[i].pValue) goto oom;
  }
  rv = fl->C_GetAttributeValue(session, object, &outer, 1);
  if (rv != CKR_OK) {
    throw_rv(env, "C_GetAttributeValue", rv);
    goto done;
  }
  napi_create_array_with_length(env, n, &result);
  for (CK_ULONG i = 0; i < n; i++) {
    napi_value element, t, v;
    napi_create_object(env, &element);
    napi_create_double(env, (double)inner[i].type, &t);
    napi_create_buffer_copy(env, inner[i].ulValueLen, inner[i].pValue, NULL, &v);
    napi_set_named_property(env, element, "type", t);
    napi_set_named_property(env, element, "value", v);
    napi_set_element(env, result, (uint32_t)i, element);
  }
  goto done;
oom:
  napi_throw_error(env, NULL, "out of memory");
done:
  arena_free(&arena);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    {"openModule", NULL, open_module, NULL, NULL, NULL, napi_enumerable, NULL},
    {"generateKeyPair", NULL, generate_key_pair, NULL, NULL, NULL, napi_enumerable, NULL},
    {"getAttributeTemplate", NULL, get_attribute_template, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_value size;
  napi_create_double(env, (double)sizeof(CK_ULONG), &size);
  napi_set_named_property(env, exports, "ckUlongSize", size);
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
