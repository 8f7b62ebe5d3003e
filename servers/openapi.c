/* openapi.c - filters the embedded OpenAPI document down to the routes a
 * process serves (see openapi.h).
 *
 * Invariants: the source document is never changed (it is parsed afresh);
 * an operation is kept exactly when a route with its method and path is
 * registered, and a path item left without operations is dropped; keys of
 * a path item that are not operations (parameters, summary) stay with it;
 * every registered route without an operation is reported once, in
 * registration order.  The output is compact JSON without escaped slashes.
 */
#include "openapi.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static const char *const operation_keys[] = {
    "get", "put", "post", "delete", "options", "head", "patch", "trace"};

static int is_operation_key(const char *key) {
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(operation_keys); i++)
    if (strcmp(key, operation_keys[i]) == 0)
      return 1;
  return 0;
}

/* The route's path as the document writes it: ":id" becomes "{id}".
 * NULL when out of memory. */
static char *document_path(const char *path) {
  msvc__buf_t b;
  msvc__buf_init(&b);
  for (const char *p = path; *p != '\0'; p++) {
    if (*p == ':' && (p == path || p[-1] == '/')) {
      size_t n = strcspn(p + 1, "/");
      msvc__buf_putc(&b, '{');
      msvc__buf_append(&b, p + 1, n);
      msvc__buf_putc(&b, '}');
      p += n;
    } else {
      msvc__buf_putc(&b, *p);
    }
  }
  if (b.failed || b.len == 0) {
    msvc__buf_free(&b);
    return NULL;
  }
  return b.data;
}

/* 1 when one of `routes` is (method, document path `path`). */
static int is_served(const msvc_openapi_route_t *routes, size_t n,
                     const char *method, const char *path) {
  for (size_t i = 0; i < n; i++) {
    char *p = document_path(routes[i].path);
    int same = p != NULL && strcmp(p, path) == 0 &&
               strcmp(routes[i].method, method) == 0;
    free(p);
    if (same)
      return 1;
  }
  return 0;
}

/* Drops the operations of path item `item` (at `path`) nobody serves;
 * returns how many operations remain. */
static size_t prune_item(json_object *item, const char *path,
                         const msvc_openapi_route_t *routes, size_t n) {
  const char *drop[MSVC__ARRAY_SIZE(operation_keys)];
  size_t ndrop = 0, kept = 0;
  json_object_object_foreach(item, key, val) {
    (void)val;
    if (!is_operation_key(key))
      continue;
    if (is_served(routes, n, key, path))
      kept++;
    else if (ndrop < MSVC__ARRAY_SIZE(drop))
      drop[ndrop++] = key;
  }
  /* Keys live in the object: delete after the walk, last first. */
  while (ndrop > 0)
    json_object_object_del(item, drop[--ndrop]);
  return kept;
}

/* Drops every path item left without a served operation. */
static int prune_paths(json_object *paths, const msvc_openapi_route_t *routes,
                       size_t n) {
  size_t count = (size_t)json_object_object_length(paths), ndrop = 0;
  char **drop = calloc(count > 0 ? count : 1, sizeof(*drop));
  int rc = 0;
  if (drop == NULL)
    return MSVC_ENOMEM;
  json_object_object_foreach(paths, path, item) {
    if (!json_object_is_type(item, json_type_object) ||
        prune_item(item, path, routes, n) == 0)
      if ((drop[ndrop++] = strdup(path)) == NULL)
        rc = MSVC_ENOMEM;
  }
  for (size_t i = 0; i < ndrop; i++) {
    if (drop[i] != NULL)
      json_object_object_del(paths, drop[i]);
    free(drop[i]);
  }
  free(drop);
  return rc;
}

/* Appends "METHOD /path\n" for each route `paths` has no operation for. */
static void report_missing(json_object *paths,
                           const msvc_openapi_route_t *routes, size_t n,
                           msvc__buf_t *missing) {
  for (size_t i = 0; i < n; i++) {
    json_object *item = NULL, *op = NULL;
    char *p = document_path(routes[i].path);
    if (p == NULL || !json_object_object_get_ex(paths, p, &item) ||
        !json_object_object_get_ex(item, routes[i].method, &op)) {
      for (const char *m = routes[i].method; *m != '\0'; m++)
        msvc__buf_putc(missing, (char)(*m >= 'a' && *m <= 'z' ? *m - 32 : *m));
      msvc__buf_putc(missing, ' ');
      msvc__buf_puts(missing, routes[i].path);
      msvc__buf_putc(missing, '\n');
    }
    free(p);
  }
}

static int set_info(json_object *doc, const char *title, const char *version) {
  json_object *info = NULL;
  if (!json_object_object_get_ex(doc, "info", &info) ||
      !json_object_is_type(info, json_type_object))
    return MSVC_EJSON;
  if (title != NULL &&
      json_object_object_add(info, "title", json_object_new_string(title)))
    return MSVC_ENOMEM;
  if (version != NULL &&
      json_object_object_add(info, "version", json_object_new_string(version)))
    return MSVC_ENOMEM;
  return 0;
}

static int write_doc(json_object *doc, msvc__buf_t *out) {
  size_t len = 0;
  const char *s = json_object_to_json_string_length(
      doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
  if (s == NULL)
    return MSVC_ENOMEM;
  msvc__buf_append(out, s, len);
  return out->failed ? MSVC_ENOMEM : 0;
}

int msvc_openapi_filter(const char *src, size_t src_len,
                        const msvc_openapi_route_t *routes, size_t n,
                        const char *title, const char *version,
                        msvc__buf_t *out, msvc__buf_t *missing) {
  json_tokener *tok = json_tokener_new();
  json_object *doc = NULL, *paths = NULL;
  int rc = MSVC_EJSON;
  if (tok == NULL)
    return MSVC_ENOMEM;
  doc = json_tokener_parse_ex(tok, src, (int)src_len);
  json_tokener_free(tok);
  if (doc != NULL && json_object_object_get_ex(doc, "paths", &paths) &&
      json_object_is_type(paths, json_type_object)) {
    report_missing(paths, routes, n, missing);
    rc = prune_paths(paths, routes, n);
    if (rc == 0)
      rc = set_info(doc, title, version);
    if (rc == 0)
      rc = write_doc(doc, out);
  }
  json_object_put(doc);
  return rc != 0 ? rc : missing->failed ? MSVC_ENOMEM : 0;
}
