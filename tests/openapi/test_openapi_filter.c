/* test_openapi_filter.c - servers/openapi.c on its own: an operation is
 * kept exactly when its route is registered, ":id" matches "{id}", path
 * items left empty are dropped (their other keys go with them), info is
 * rewritten, and routes the document lacks are named.  The embedded
 * document itself must parse and keep all of its operations when every
 * one is registered.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "openapi.h"
#include "testutil.h"

static const char doc[] =
    "{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"t\",\"version\":\"0\"},"
    "\"paths\":{"
    "\"/a\":{\"get\":{\"responses\":{}},\"post\":{\"responses\":{}}},"
    "\"/a/{id}\":{\"parameters\":[],\"delete\":{\"responses\":{}}},"
    "\"/gone\":{\"summary\":\"s\",\"get\":{\"responses\":{}}}}}";

static json_object *filtered(const msvc_openapi_route_t *r, size_t n,
                             msvc__buf_t *missing) {
  msvc__buf_t out;
  json_object *obj;
  msvc__buf_init(&out);
  CHECK(msvc_openapi_filter(doc, sizeof(doc) - 1, r, n, "name", "1.2.3", &out,
                            missing) == 0);
  CHECK(out.len == 0 || memmem(out.data, out.len, "\\/", 2) == NULL);
  obj = json_tokener_parse(out.len > 0 ? out.data : "{\"paths\":{}}");
  CHECK(obj != NULL);
  msvc__buf_free(&out);
  return obj;
}

static int has(json_object *obj, const char *path, const char *method) {
  json_object *paths, *item, *op;
  json_object_object_get_ex(obj, "paths", &paths);
  if (!json_object_object_get_ex(paths, path, &item))
    return 0;
  return method == NULL || json_object_object_get_ex(item, method, &op);
}

static void test_filter(void) {
  const msvc_openapi_route_t routes[] = {
      {"get", "/a"}, {"delete", "/a/:id"}, {"put", "/new/:id"}};
  msvc__buf_t missing;
  json_object *obj, *info, *v;
  msvc__buf_init(&missing);
  obj = filtered(routes, 3, &missing);
  CHECK(has(obj, "/a", "get") && !has(obj, "/a", "post"));
  CHECK(has(obj, "/a/{id}", "delete") && has(obj, "/a/{id}", "parameters"));
  CHECK(!has(obj, "/gone", NULL));
  json_object_object_get_ex(obj, "info", &info);
  json_object_object_get_ex(info, "title", &v);
  CHECK(strcmp(json_object_get_string(v), "name") == 0);
  json_object_object_get_ex(info, "version", &v);
  CHECK(strcmp(json_object_get_string(v), "1.2.3") == 0);
  CHECK(missing.len > 0 && strcmp(missing.data, "PUT /new/:id\n") == 0);
  json_object_put(obj);
  msvc__buf_free(&missing);
}

static void test_nothing_served(void) {
  msvc__buf_t missing;
  json_object *obj, *paths;
  msvc__buf_init(&missing);
  obj = filtered(NULL, 0, &missing);
  json_object_object_get_ex(obj, "paths", &paths);
  CHECK(json_object_object_length(paths) == 0 && missing.len == 0);
  json_object_put(obj);
}

static void test_not_a_document(void) {
  msvc__buf_t out, missing;
  msvc__buf_init(&out);
  msvc__buf_init(&missing);
  CHECK(msvc_openapi_filter("[]", 2, NULL, 0, NULL, NULL, &out, &missing) ==
        MSVC_EJSON);
  CHECK(msvc_openapi_filter("{\"paths\":", 9, NULL, 0, NULL, NULL, &out,
                            &missing) == MSVC_EJSON);
  msvc__buf_free(&out);
  msvc__buf_free(&missing);
}

/* Registering every operation of the embedded document keeps them all. */
static void test_embedded_document(void) {
  json_object *src = json_tokener_parse(msvc_openapi_source), *paths;
  msvc_openapi_route_t routes[64];
  size_t n = 0, kept = 0;
  msvc__buf_t out, missing;
  CHECK(src != NULL && strlen(msvc_openapi_source) == msvc_openapi_source_len);
  if (src == NULL || !json_object_object_get_ex(src, "paths", &paths)) {
    CHECK(!"the embedded document has paths");
    return;
  }
  json_object_object_foreach(paths, path, item) {
    json_object_object_foreach(item, method, op) {
      (void)op;
      if (n == 64)
        break;
      routes[n].method = method;
      routes[n++].path = path; /* "{id}" as written: matches itself */
    }
  }
  msvc__buf_init(&out);
  msvc__buf_init(&missing);
  CHECK(msvc_openapi_filter(msvc_openapi_source, msvc_openapi_source_len,
                            routes, n, NULL, NULL, &out, &missing) == 0);
  CHECK(missing.len == 0);
  {
    json_object *obj = json_tokener_parse(out.len > 0 ? out.data : "{}"), *p;
    json_object_object_get_ex(obj, "paths", &p);
    json_object_object_foreach(p, k, it) {
      (void)k;
      kept += (size_t)json_object_object_length(it);
    }
    json_object_put(obj);
  }
  CHECK(n > 20 && kept == n);
  msvc__buf_free(&out);
  msvc__buf_free(&missing);
  json_object_put(src);
}

int main(void) {
  RUN(test_filter);
  RUN(test_nothing_served);
  RUN(test_not_a_document);
  RUN(test_embedded_document);
  TEST_MAIN_END();
}
