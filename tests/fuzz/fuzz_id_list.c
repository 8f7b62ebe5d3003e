/* fuzz_id_list.c - POST /api/getUsers bodies: {"userIds":[...]} or a bare
 * array of ids, through msvc__json_parse_id_list as prepare_lookup_many
 * (servers/routes_auth.c) calls it.
 *
 * Each input is parsed twice: with the route's cap of
 * MSVC__GET_USERS_MAX ids, and with a cap of 3 taken from the input's
 * first byte (0 to 3), so that MSVC_ETOOBIG is reached by small inputs.
 * Invariants: the codes are the documented ones; a list comes back only
 * with 0, holding at most `max` ids of 24 lower-case hex digits each; a
 * field error names "userIds" and comes with no list; the ids keep the
 * order of the body (checked against a second parse with json-c).
 */
#include <ctype.h>
#include <json-c/json.h>
#include <strings.h>

#include "fuzz.h"
#include "wire/json.h"
#include "wire/routes.h"

static void check_order(const uint8_t *data, size_t size, const msvc_id_t *ids,
                        size_t n) {
  json_object *doc = NULL, *arr;
  FUZZ_CHECK(msvc__json_parse_strict((const char *)data, size, &doc) == 0);
  arr = doc;
  if (json_object_is_type(doc, json_type_object))
    FUZZ_CHECK(json_object_object_get_ex(doc, "userIds", &arr));
  FUZZ_CHECK(json_object_is_type(arr, json_type_array));
  FUZZ_CHECK(json_object_array_length(arr) == n);
  for (size_t i = 0; i < n; i++) {
    json_object *el = json_object_array_get_idx(arr, i);
    FUZZ_CHECK(strcasecmp(json_object_get_string(el), ids[i].hex) == 0);
  }
  json_object_put(doc);
}

static void parse(const uint8_t *data, size_t size, size_t max) {
  msvc_id_t *ids = (msvc_id_t *)&ids; /* must be overwritten */
  size_t n = (size_t)-1;
  msvc_errors_t *errs = NULL;
  int rc;
  FUZZ_CHECK(msvc_errors_new(&errs) == 0);
  rc = msvc__json_parse_id_list((const char *)data, size, max, &ids, &n, errs);
  FUZZ_CHECK(rc == 0 || rc == MSVC_EJSON || rc == MSVC_ENOTOBJECT ||
             rc == MSVC_ETOOBIG);
  FUZZ_CHECK((n == 0) == (ids == NULL));
  if (rc != 0 || msvc_errors_count(errs) > 0)
    FUZZ_CHECK(n == 0);
  if (msvc_errors_count(errs) > 0) {
    FUZZ_CHECK(rc == 0 && msvc_errors_count(errs) == 1);
    FUZZ_CHECK(strcmp(msvc_errors_field(errs, 0), "userIds") == 0);
  }
  FUZZ_CHECK(n <= max);
  for (size_t i = 0; i < n; i++) {
    FUZZ_CHECK(strlen(ids[i].hex) == MSVC_ID_LEN);
    FUZZ_CHECK(msvc_id_valid(ids[i].hex, MSVC_ID_LEN));
    for (size_t k = 0; k < MSVC_ID_LEN; k++)
      FUZZ_CHECK(!isupper((unsigned char)ids[i].hex[k]));
  }
  if (rc == 0 && msvc_errors_count(errs) == 0)
    check_order(data, size, ids, n);
  free(ids);
  msvc_errors_free(errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  parse(data, size, MSVC__GET_USERS_MAX);
  parse(data, size, size > 0 ? data[0] & 3 : 0);
  return 0;
}
