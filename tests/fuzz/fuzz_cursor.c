/* fuzz_cursor.c - the post listing's cursors (GET /api/posts?cursor=...).
 *
 * Three views of each input:
 *  - as a cursor a client sent: msvc__cursor_decode on the raw bytes; one
 *    that decodes must encode back to exactly the same 32 characters
 *    (every position has one spelling) and name a valid id and a time
 *    that is not negative;
 *  - as a position: the first 20 bytes make a time and an id, which must
 *    survive encoding and decoding unchanged;
 *  - through the public API as the route calls it: msvc_post_list on a
 *    handle over an empty SQLite store with the input as the cursor (and
 *    the byte after the cursor's 32 characters picking limit and user
 *    filter), which answers a page (empty) or MSVC_EVALIDATION naming
 *    only the fields of the request.
 */
#include "domain/validate.h"
#include "fuzz.h"
#include "internal.h"

static msvc_t *svc;

static void setup(void) {
  msvc_options_t *o = NULL;
  char url[4200], err[256];
  snprintf(url, sizeof(url), "sqlite:%s/cursor.db", fuzz_tempdir("cursor"));
  FUZZ_CHECK(msvc_options_new(&o) == 0);
  FUZZ_CHECK(msvc_options_set_database_url(o, url) == 0);
  FUZZ_CHECK(msvc_options_set_jwt_secret(o, "fuzz", 4) == 0);
  if (msvc_open(o, &svc, err, sizeof(err)) != 0) {
    fprintf(stderr, "fuzz_cursor: msvc_open: %s\n", err);
    abort();
  }
  msvc_options_free(o);
}

static void check_decode(const uint8_t *data, size_t size) {
  msvc_cursor_t c;
  char again[MSVC__CURSOR_SIZE];
  memset(&c, 0, sizeof(c));
  if (msvc__cursor_decode((const char *)data, size, &c) != 0)
    return;
  FUZZ_CHECK(c.created_at >= 0);
  FUZZ_CHECK(msvc_id_valid(c.id, strlen(c.id)));
  msvc__cursor_encode(&c, again);
  FUZZ_CHECK(strlen(again) == size && memcmp(again, data, size) == 0);
}

static void check_roundtrip(const uint8_t *data, size_t size) {
  msvc_cursor_t c, back;
  char text[MSVC__CURSOR_SIZE];
  uint64_t t = 0;
  if (size < 20)
    return;
  for (int i = 0; i < 8; i++)
    t = t << 8 | data[i];
  memset(&c, 0, sizeof(c));
  c.created_at = (int64_t)(t >> 1);
  msvc__hex_encode(data + 8, 12, c.id);
  msvc__cursor_encode(&c, text);
  FUZZ_CHECK(strlen(text) == 32);
  FUZZ_CHECK(msvc__cursor_decode(text, strlen(text), &back) == 0);
  FUZZ_CHECK(back.created_at == c.created_at && strcmp(back.id, c.id) == 0);
}

static void check_list(const uint8_t *data, size_t size) {
  static const char *const users[] = {NULL, "", "65b3a1f2c9e77a0012345678",
                                      "not-an-id"};
  msvc_list_request_t req = MSVC_LIST_REQUEST_INIT;
  msvc_post_page_t *page = NULL;
  msvc_errors_t *errs = NULL;
  char *cursor = fuzz_strndup(data, size);
  unsigned pick = size > 32 ? data[32] : 0;
  int rc;
  FUZZ_CHECK(msvc_errors_new(&errs) == 0);
  req.cursor = cursor;
  req.limit = pick & 0x80 ? pick & 0x7f : MSVC_LIST_DEFAULT_LIMIT;
  req.user_id = users[pick & 3];
  rc = msvc_post_list(svc, NULL, &req, &page, errs);
  if (rc == 0) {
    FUZZ_CHECK(page != NULL && page->count == 0);
    FUZZ_CHECK(msvc_errors_count(errs) == 0);
  } else {
    FUZZ_CHECK(rc == MSVC_EVALIDATION && page == NULL);
    FUZZ_CHECK(msvc_errors_count(errs) > 0);
    for (size_t i = 0; i < msvc_errors_count(errs); i++) {
      const char *f = msvc_errors_field(errs, i);
      FUZZ_CHECK(strcmp(f, "cursor") == 0 || strcmp(f, "limit") == 0 ||
                 strcmp(f, "user_id") == 0);
    }
  }
  msvc_post_page_free(page);
  msvc_errors_free(errs);
  free(cursor);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (svc == NULL)
    setup();
  check_decode(data, size);
  check_roundtrip(data, size);
  check_list(data, size);
  return 0;
}
