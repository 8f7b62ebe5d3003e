/* test_json.c - the JSON wire format (libmsvc/wire/json.c): strict input
 * and direct output, with the buffer (base/buf.c) and the timestamps
 * (base/timestamp.c) it writes with.
 *
 * Writers are checked twice: against exact expected bytes (the contract's
 * shapes, no spaces, '/' unescaped) and by parsing what they wrote back
 * with json-c, so escaping cannot drift from what a real parser reads.
 * Parsers are fed malformed, non-object and ill-typed bodies, which must
 * come back as error codes or field errors, never as coerced values.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "wire/json.h"

#define ID_A "65b3a1f2c9e77a0012345678"
#define ID_B "65b3a1f2c9e77a00123456ff"

#define ALL_USER_FIELDS                                                        \
  (MSVC__FIELD_NAME | MSVC__FIELD_EMAIL | MSVC__FIELD_PASSWORD |               \
   MSVC__FIELD_CURRENT_PASSWORD)

/* An empty errors object; the test frees it with msvc_errors_free. */
static msvc_errors_t *errs_new(void) {
  msvc_errors_t *errs = NULL;
  CHECK_EQ_INT(msvc_errors_new(&errs), 0);
  return errs;
}

/* Renders with fn into a fresh buffer and compares with want. */
#define CHECK_RENDER(want, call)                                               \
  do {                                                                         \
    msvc__buf_t b_;                                                            \
    msvc__buf_init(&b_);                                                       \
    call(&b_);                                                                 \
    CHECK(!b_.failed);                                                         \
    CHECK_EQ_STR(b_.data, want);                                               \
    msvc__buf_free(&b_);                                                       \
  } while (0)

/* ---- buffer ------------------------------------------------------------- */

static void test_buf(void) {
  msvc__buf_t b;
  size_t cap;
  msvc__buf_init(&b);
  CHECK(b.data == NULL && b.len == 0 && !b.failed);
  msvc__buf_puts(&b, "ab");
  msvc__buf_append(&b, "cdef", 2);
  msvc__buf_append(&b, NULL, 0);
  msvc__buf_puts(&b, NULL);
  CHECK_EQ_STR(b.data, "abcd");
  CHECK_EQ_INT(b.len, 4);
  cap = b.cap;
  msvc__buf_reset(&b);
  CHECK_EQ_INT(b.len, 0);
  CHECK_EQ_INT(b.cap, cap);
  CHECK_EQ_STR(b.data, "");
  /* Growth well past the first allocation keeps every byte. */
  for (int i = 0; i < 20000; i++)
    msvc__buf_puts(&b, "0123456789");
  CHECK(!b.failed);
  CHECK_EQ_INT(b.len, 200000);
  CHECK_EQ_INT(strlen(b.data), 200000);
  CHECK(memcmp(b.data + 199990, "0123456789", 10) == 0);
  msvc__buf_free(&b);
  CHECK(b.data == NULL && b.cap == 0);
}

static void check_int(int64_t v, const char *want) {
  msvc__buf_t b;
  msvc__buf_init(&b);
  msvc__buf_int(&b, v);
  CHECK_EQ_STR(b.data, want);
  msvc__buf_free(&b);
}

static void test_buf_int(void) {
  check_int(0, "0");
  check_int(7, "7");
  check_int(-1, "-1");
  check_int(422, "422");
  check_int(1700000000123, "1700000000123");
  check_int(INT64_MAX, "9223372036854775807");
  check_int(INT64_MIN, "-9223372036854775808");
}

/* ---- string writers ----------------------------------------------------- */

/* Writes s[0..len) as a JSON string, parses it back with json-c and checks
 * that exactly the same bytes come out. */
static void check_string_round_trip(const char *s, size_t len) {
  msvc__buf_t b;
  json_object *obj;
  msvc__buf_init(&b);
  msvc__json_string(&b, s, len);
  CHECK(!b.failed);
  obj = json_tokener_parse(b.data);
  CHECK(obj != NULL && json_object_is_type(obj, json_type_string));
  if (obj != NULL && json_object_is_type(obj, json_type_string)) {
    CHECK_EQ_INT(json_object_get_string_len(obj), len);
    CHECK(memcmp(json_object_get_string(obj), s, len) == 0);
  }
  json_object_put(obj);
  msvc__buf_free(&b);
}

static void render_tricky(msvc__buf_t *b) {
  msvc__json_cstring(b, "a\"b\\c\nd\te\x01\x1f/\xc3\xa9\xf0\x9f\x98\x80"
                        "\b\f\r");
}

static void render_nul(msvc__buf_t *b) {
  msvc__json_string(b, "a\0b", 3);
}
static void render_null_string(msvc__buf_t *b) {
  msvc__json_cstring(b, NULL);
}

/* The escaping a byte at a time, as the JSON grammar spells it: what the
 * word-at-a-time writer must produce exactly. */
static void reference_escape(msvc__buf_t *b, const unsigned char *s,
                             size_t len) {
  static const char hex[] = "0123456789abcdef";
  msvc__buf_putc(b, '"');
  for (size_t i = 0; i < len; i++) {
    unsigned char c = s[i];
    const char *two = c == '"'    ? "\\\""
                      : c == '\\' ? "\\\\"
                      : c == '\b' ? "\\b"
                      : c == '\f' ? "\\f"
                      : c == '\n' ? "\\n"
                      : c == '\r' ? "\\r"
                      : c == '\t' ? "\\t"
                                  : NULL;
    if (two != NULL) {
      msvc__buf_puts(b, two);
    } else if (c < 0x20) {
      char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      msvc__buf_append(b, u, 6);
    } else {
      msvc__buf_putc(b, (char)c);
    }
  }
  msvc__buf_putc(b, '"');
}

/* Random strings of every length up to 70, mostly plain text with the
 * odd special byte at any offset (the eight-byte words' edges
 * included), and some dense in them: same bytes as the reference. */
static void test_string_escaping_words(void) {
  unsigned seed = 12345;
  static const unsigned char alphabet[] = "ab\"\\\x01\x1f\x7f\x80\xff\n ";
  for (int round = 0; round < 4000; round++) {
    unsigned char s[72];
    size_t len = (size_t)(round % 71);
    msvc__buf_t got, want;
    for (size_t i = 0; i < len; i++) {
      seed = seed * 1103515245u + 12345u;
      s[i] = (seed >> 16) % (round % 3 == 0 ? 4 : 40) == 0
                 ? alphabet[(seed >> 8) % (sizeof(alphabet) - 1)]
                 : (unsigned char)('a' + (seed >> 20) % 26);
    }
    msvc__buf_init(&got);
    msvc__buf_init(&want);
    msvc__json_string(&got, (const char *)s, len);
    reference_escape(&want, s, len);
    CHECK(!got.failed && got.len == want.len &&
          memcmp(got.data, want.data, want.len) == 0);
    msvc__buf_free(&got);
    msvc__buf_free(&want);
  }
}

static void test_string_escaping(void) {
  char ascii[128];
  CHECK_RENDER("\"a\\\"b\\\\c\\nd\\te\\u0001\\u001f/\xc3\xa9\xf0\x9f\x98\x80"
               "\\b\\f\\r\"",
               render_tricky);
  CHECK_RENDER("\"a\\u0000b\"", render_nul);
  CHECK_RENDER("\"\"", render_null_string);
  for (int i = 0; i < 128; i++)
    ascii[i] = (char)i;
  check_string_round_trip(ascii, sizeof(ascii));
  check_string_round_trip("", 0);
  check_string_round_trip("plain", 5);
  check_string_round_trip("</script> \"quoted\" back\\slash", 28);
  check_string_round_trip("\xe2\x80\xa8 \xe6\x97\xa5\xe6\x9c\xac", 10);
}

/* ---- dates -------------------------------------------------------------- */

static void check_ts(int64_t ms, const char *want) {
  char out[32];
  int64_t back = 0;
  msvc__format_timestamp(ms, out);
  CHECK_EQ_STR(out, want);
  if (want[0] != '\0') {
    CHECK_EQ_INT(msvc__parse_timestamp(out, &back), 0);
    CHECK_EQ_INT(back, ms);
  }
}

static void render_ts(msvc__buf_t *b) {
  msvc__json_timestamp(b, 1700000000123);
  msvc__buf_puts(b, ",");
  msvc__json_timestamp(b, INT64_C(8640000000000001));
}

static void test_timestamp_format(void) {
  /* Expected strings from node's Date.prototype.toJSON(). */
  check_ts(0, "1970-01-01T00:00:00.000Z");
  check_ts(1700000000123, "2023-11-14T22:13:20.123Z");
  check_ts(-1, "1969-12-31T23:59:59.999Z");
  check_ts(951782400000, "2000-02-29T00:00:00.000Z");
  check_ts(253402300799999, "9999-12-31T23:59:59.999Z");
  check_ts(253402300800000, "+010000-01-01T00:00:00.000Z");
  check_ts(-62167219200000, "0000-01-01T00:00:00.000Z");
  check_ts(-62167219200001, "-000001-12-31T23:59:59.999Z");
  check_ts(INT64_C(8640000000000000), "+275760-09-13T00:00:00.000Z");
  check_ts(INT64_C(-8640000000000000), "-271821-04-20T00:00:00.000Z");
  check_ts(INT64_C(8640000000000001), ""); /* no Date there */
  check_ts(INT64_MIN, "");
  CHECK_RENDER("\"2023-11-14T22:13:20.123Z\",null", render_ts);
}

static unsigned next_random(unsigned *state) {
  *state = *state * 1103515245u + 12345u;
  return *state >> 8;
}

/* The hand-written calendar against glibc's, for years 1 to 9999.  Every
 * third instant is a few minutes after the one before, usually the same
 * day, so the formatter's cached date is used as well as replaced. */
static void test_timestamp_against_gmtime(void) {
  unsigned state = 42;
  int mismatches = 0;
  int64_t ms = 0;
  for (int i = 0; i < 6000; i++) {
    int64_t span = INT64_C(253402300800000) + INT64_C(62135596800000);
    if (i % 3 != 2 || ms > INT64_C(253402300000000))
      ms = (int64_t)(((uint64_t)next_random(&state) << 24 ^
                      next_random(&state)) %
                     (uint64_t)span) -
           INT64_C(62135596800000);
    else
      ms += next_random(&state) % 600000;
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    char want[64], got[32];
    int64_t back = 0;
    gmtime_r(&secs, &tm);
    snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ms - (int64_t)secs * 1000));
    msvc__format_timestamp(ms, got);
    if (strcmp(want, got) != 0 || msvc__parse_timestamp(got, &back) != 0 ||
        back != ms) {
      if (mismatches++ < 5)
        fprintf(stderr, "   %lld: want %s got %s\n", (long long)ms, want, got);
    }
  }
  CHECK_EQ_INT(mismatches, 0);
}

static void test_timestamp_parse(void) {
  static const char *const bad[] = {
      "",
      "garbage",
      "2023-11-14",
      "2023-11-14 22:13:20Z",
      "2023-11-14T22:13:20",
      "2023-11-14T22:13:20.123",
      "2023-11-14T22:13:20.Z",
      "2023-11-14T22:13:20.1234567890Z",
      "2023-11-14T22:13:20.123+01:00",
      "2023-11-14T22:13:20.123-00:00",
      "2023-11-14T22:13:20.123Zjunk",
      "2023-11-14T22:13:20.123z",
      "2023-13-01T00:00:00Z",
      "2023-00-01T00:00:00Z",
      "2023-11-00T00:00:00Z",
      "2023-11-31T00:00:00Z",
      "2023-02-29T00:00:00Z",
      "1900-02-29T00:00:00Z",
      "2023-11-14T24:00:00Z",
      "2023-11-14T22:60:00Z",
      "2023-11-14T22:13:60Z",
      "23-11-14T22:13:20Z",
      "+2023-11-14T22:13:20Z",
      "-000000-01-01T00:00:00.000Z",
      "+275760-09-13T00:00:00.001Z",
      " 2023-11-14T22:13:20Z",
  };
  int64_t ms = 0;
  CHECK_EQ_INT(msvc__parse_timestamp("2023-11-14T22:13:20.123Z", &ms), 0);
  CHECK_EQ_INT(ms, 1700000000123);
  CHECK_EQ_INT(msvc__parse_timestamp("2023-11-14T22:13:20Z", &ms), 0);
  CHECK_EQ_INT(ms, 1700000000000);
  CHECK_EQ_INT(msvc__parse_timestamp("2023-11-14T22:13:20.123+00:00", &ms), 0);
  CHECK_EQ_INT(ms, 1700000000123);
  CHECK_EQ_INT(msvc__parse_timestamp("2023-11-14T22:13:20+00:00", &ms), 0);
  CHECK_EQ_INT(ms, 1700000000000);
  CHECK_EQ_INT(msvc__parse_timestamp("2023-11-14T22:13:20.1Z", &ms), 0);
  CHECK_EQ_INT(ms, 1700000000100);
  CHECK_EQ_INT(msvc__parse_timestamp("2023-11-14T22:13:20.123999Z", &ms), 0);
  CHECK_EQ_INT(ms, 1700000000123);
  CHECK_EQ_INT(msvc__parse_timestamp("2024-02-29T00:00:00.000Z", &ms), 0);
  CHECK_EQ_INT(ms, 1709164800000);
  CHECK_EQ_INT(msvc__parse_timestamp("1969-12-31T23:59:59.999Z", &ms), 0);
  CHECK_EQ_INT(ms, -1);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    ms = 12345;
    if (msvc__parse_timestamp(bad[i], &ms) != MSVC_EINVAL)
      fprintf(stderr, "   accepted \"%s\"\n", bad[i]);
    CHECK_EQ_INT(msvc__parse_timestamp(bad[i], &ms), MSVC_EINVAL);
    CHECK_EQ_INT(ms, 12345);
  }
  CHECK_EQ_INT(msvc__parse_timestamp(NULL, &ms), MSVC_EINVAL);
  CHECK_EQ_INT(msvc__parse_timestamp("2023-11-14T22:13:20Z", NULL),
               MSVC_EINVAL);
}

/* ---- record writers ----------------------------------------------------- */

static msvc_user_t sample_user(void) {
  msvc_user_t u = {ID_A, (char *)"Ada \"The\" Countess / \xc3\xa9",
                   (char *)"ada@example.com", 1700000000123, 1700000000456};
  return u;
}

static void render_user(msvc__buf_t *b) {
  msvc_user_t u = sample_user();
  msvc__json_user(b, &u);
}

static void render_public_user(msvc__buf_t *b) {
  msvc_user_t u = sample_user();
  msvc__json_public_user(b, &u);
}

static void render_absent_users(msvc__buf_t *b) {
  msvc_user_t empty;
  memset(&empty, 0, sizeof(empty));
  msvc__json_public_user(b, NULL);
  msvc__buf_puts(b, ",");
  msvc__json_public_user(b, &empty);
  msvc__buf_puts(b, ",");
  msvc__json_user(b, NULL);
}

static void render_user_null_strings(msvc__buf_t *b) {
  msvc_user_t u = sample_user();
  u.name = NULL;
  u.email = NULL;
  msvc__json_user(b, &u);
}

#define USER_JSON                                                              \
  "{\"id\":\"" ID_A "\",\"name\":\"Ada \\\"The\\\" Countess / \xc3\xa9\","     \
  "\"email\":\"ada@example.com\","                                             \
  "\"created_at\":\"2023-11-14T22:13:20.123Z\","                               \
  "\"updated_at\":\"2023-11-14T22:13:20.456Z\"}"

#define PUBLIC_USER_JSON                                                       \
  "{\"id\":\"" ID_A "\",\"name\":\"Ada \\\"The\\\" Countess / \xc3\xa9\","     \
  "\"email\":\"ada@example.com\"}"

static void test_user_json(void) {
  CHECK_RENDER(USER_JSON, render_user);
  CHECK_RENDER(PUBLIC_USER_JSON, render_public_user);
  CHECK_RENDER("null,null,null", render_absent_users);
  CHECK_RENDER("{\"id\":\"" ID_A "\",\"name\":\"\",\"email\":\"\","
               "\"created_at\":\"2023-11-14T22:13:20.123Z\","
               "\"updated_at\":\"2023-11-14T22:13:20.456Z\"}",
               render_user_null_strings);
}

static msvc_post_t sample_post(void) {
  msvc_post_t p = {ID_B,
                   ID_A,
                   (char *)"Hello / world",
                   (char *)"line 1\nline 2 \"q\"",
                   0,
                   1700000000123};
  return p;
}

static void render_post(msvc__buf_t *b) {
  msvc_post_t p = sample_post();
  msvc_user_t u = sample_user();
  msvc__json_post(b, &p, &u);
}

static void render_post_no_author(msvc__buf_t *b) {
  msvc_post_t p = sample_post();
  msvc_user_t gone;
  memset(&gone, 0, sizeof(gone));
  msvc__json_post(b, &p, NULL);
  msvc__buf_puts(b, ",");
  msvc__json_post(b, &p, &gone);
}

#define POST_HEAD                                                              \
  "{\"id\":\"" ID_B "\",\"user_id\":\"" ID_A "\",\"title\":\"Hello / world\"," \
  "\"content\":\"line 1\\nline 2 \\\"q\\\"\","                                 \
  "\"created_at\":\"1970-01-01T00:00:00.000Z\","                               \
  "\"updated_at\":\"2023-11-14T22:13:20.123Z\",\"user\":"

static void test_post_json(void) {
  msvc__buf_t b;
  json_object *obj, *v;
  CHECK_RENDER(POST_HEAD PUBLIC_USER_JSON "}", render_post);
  CHECK_RENDER(POST_HEAD "null}," POST_HEAD "null}", render_post_no_author);
  /* And a real parser reads the same values back. */
  msvc__buf_init(&b);
  render_post(&b);
  obj = json_tokener_parse(b.data);
  CHECK(obj != NULL);
  CHECK(json_object_object_get_ex(obj, "content", &v) &&
        strcmp(json_object_get_string(v), "line 1\nline 2 \"q\"") == 0);
  CHECK(json_object_object_get_ex(obj, "user", &v) &&
        json_object_object_get_ex(v, "name", &v) &&
        strcmp(json_object_get_string(v), "Ada \"The\" Countess / \xc3\xa9") ==
            0);
  json_object_put(obj);
  msvc__buf_free(&b);
}

/* A post written field by field, the way the slow path does. */
static void reference_post(msvc__buf_t *b, const msvc_post_t *p,
                           const msvc_user_t *a) {
  msvc__buf_puts(b, "{\"id\":");
  msvc__json_cstring(b, p->id);
  msvc__buf_puts(b, ",\"user_id\":");
  msvc__json_cstring(b, p->user_id);
  msvc__buf_puts(b, ",\"title\":");
  msvc__json_cstring(b, p->title);
  msvc__buf_puts(b, ",\"content\":");
  msvc__json_cstring(b, p->content);
  msvc__buf_puts(b, ",\"created_at\":");
  msvc__json_timestamp(b, p->created_at);
  msvc__buf_puts(b, ",\"updated_at\":");
  msvc__json_timestamp(b, p->updated_at);
  msvc__buf_puts(b, ",\"user\":");
  msvc__json_public_user(b, a);
  msvc__buf_puts(b, "}");
}

/* Posts of every kind (plain or needing escapes, odd ids, dates outside
 * years 0-9999 or JavaScript's range, long strings, with an author, an
 * empty one or none): the one-piece writer and the field writers give
 * the same bytes, and a buffer of any starting size grows for them. */
static void test_post_json_fast_path(void) {
  static const char *const strings[] = {
      "",
      "plain title",
      "tab\there",
      "quote \" here",
      "caf\xc3\xa9 / ok",
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
  static const char *const ids[] = {ID_A,
                                    ID_B,
                                    "ABCDEF0123456789abcdef01",
                                    "short",
                                    "0123456789abcdef0123456g",
                                    ""};
  static const int64_t dates[] = {0, 1700000000123, -62167219200001,
                                  253402300800000, INT64_C(8640000000000001)};
  unsigned seed = 7;
  int wrong = 0;
  for (int round = 0; round < 3000; round++) {
    msvc_post_t p;
    msvc_user_t u;
    msvc__buf_t got, want;
    unsigned r[9];
    for (int k = 0; k < 9; k++) {
      seed = seed * 1103515245u + 12345u;
      r[k] = seed >> 16;
    }
    memset(&p, 0, sizeof(p));
    memset(&u, 0, sizeof(u));
    msvc__strlcpy(p.id, ids[r[0] % 6], sizeof(p.id));
    msvc__strlcpy(p.user_id, ids[r[1] % 6], sizeof(p.user_id));
    p.title = (char *)strings[r[2] % 6];
    p.content = r[3] % 7 == 0 ? NULL : (char *)strings[r[3] % 6];
    p.created_at = dates[r[4] % 5];
    p.updated_at = dates[r[5] % 5];
    msvc__strlcpy(u.id, ids[r[6] % 6], sizeof(u.id));
    u.name = (char *)strings[r[7] % 6];
    u.email = r[8] % 5 == 0 ? NULL : (char *)strings[r[8] % 6];
    msvc__buf_init(&got);
    msvc__buf_init(&want);
    if (round % 3 == 0) { /* start from a buffer already holding text */
      msvc__buf_puts(&got, "[");
      msvc__buf_puts(&want, "[");
    }
    msvc__json_post(&got, &p, round % 11 == 0 ? NULL : &u);
    reference_post(&want, &p, round % 11 == 0 ? NULL : &u);
    if (got.failed || want.failed || got.len != want.len ||
        memcmp(got.data, want.data, want.len) != 0) {
      if (wrong++ < 3)
        fprintf(stderr, "   got  %s\n   want %s\n", got.data, want.data);
    }
    msvc__buf_free(&got);
    msvc__buf_free(&want);
  }
  CHECK_EQ_INT(wrong, 0);
}

static void render_plain_error(msvc__buf_t *b) {
  msvc_errors_t *errs = errs_new();
  msvc_errors_clear(errs);
  msvc__json_error(b, 404, "Not found", NULL);
  msvc__buf_puts(b, ",");
  msvc__json_error(b, 401, "UnAuthorized", errs);
  msvc_errors_free(errs);
}

static void render_field_errors(msvc__buf_t *b) {
  msvc_errors_t *errs = errs_new();
  msvc_errors_clear(errs);
  msvc_errors_add(errs, "email", "is required");
  msvc_errors_add(errs, "password", "must be a string");
  msvc__json_error(b, 422, "Validation \"failed\"", errs);
  msvc_errors_free(errs);
}

static void test_error_json(void) {
  CHECK_RENDER("{\"status\":404,\"message\":\"Not found\"},"
               "{\"status\":401,\"message\":\"UnAuthorized\"}",
               render_plain_error);
  CHECK_RENDER("{\"status\":422,\"message\":\"Validation \\\"failed\\\"\","
               "\"errors\":{\"email\":\"is required\","
               "\"password\":\"must be a string\"}}",
               render_field_errors);
}

/* ---- parsing ------------------------------------------------------------ */

static int parse_user(const char *body, size_t len, unsigned fields,
                      msvc__wire_user_t *in, msvc_errors_t *errs) {
  memset(in, 0, sizeof(*in));
  msvc_errors_clear(errs);
  return msvc__json_parse_user_input(body, len, fields, in, errs);
}

static void check_user_body(const char *body, size_t len, int want) {
  msvc__wire_user_t in;
  msvc_errors_t *errs = errs_new();
  int rc = parse_user(body, len, ALL_USER_FIELDS, &in, errs);
  if (rc != want)
    fprintf(stderr, "   body \"%.*s\" gave %s\n", (int)len, body,
            msvc_err_name(rc));
  CHECK_EQ_INT(rc, want);
  if (want != 0)
    CHECK(in.name == NULL && in.email == NULL && in.password == NULL);
  msvc__wire_user_clear(&in);
  msvc_errors_free(errs);
}

#define CHECK_BODY(lit, want) check_user_body(lit, sizeof(lit) - 1, want)

static void test_strict_rejections(void) {
  CHECK_BODY("", MSVC_EJSON);
  CHECK_BODY("   \n", MSVC_EJSON);
  CHECK_BODY("{", MSVC_EJSON);
  CHECK_BODY("{\"name\":\"a\"", MSVC_EJSON);
  CHECK_BODY("{\"name\":\"a", MSVC_EJSON);
  CHECK_BODY("{\"name\":\"a\"}x", MSVC_EJSON);
  CHECK_BODY("{} {}", MSVC_EJSON);
  CHECK_BODY("{'name':'a'}", MSVC_EJSON);
  CHECK_BODY("{\"name\":'a'}", MSVC_EJSON);
  CHECK_BODY("{\"name\":\"a\",}", MSVC_EJSON);
  CHECK_BODY("{\"a\":[1,]}", MSVC_EJSON);
  CHECK_BODY("{,}", MSVC_EJSON);
  CHECK_BODY("{\"a\" 1}", MSVC_EJSON);
  CHECK_BODY("{\"a\":1 \"b\":2}", MSVC_EJSON);
  CHECK_BODY("{1:2}", MSVC_EJSON);
  CHECK_BODY("{name:\"a\"}", MSVC_EJSON);
  CHECK_BODY("{\"a\":NaN}", MSVC_EJSON);
  CHECK_BODY("{\"a\":Infinity}", MSVC_EJSON);
  CHECK_BODY("{\"a\":-Infinity}", MSVC_EJSON);
  CHECK_BODY("{\"a\":01}", MSVC_EJSON);
  CHECK_BODY("{\"a\":1.}", MSVC_EJSON);
  CHECK_BODY("{\"a\":.5}", MSVC_EJSON);
  CHECK_BODY("{\"a\":1e}", MSVC_EJSON);
  CHECK_BODY("{\"a\":+1}", MSVC_EJSON);
  CHECK_BODY("{\"a\":-}", MSVC_EJSON);
  CHECK_BODY("{\"a\":0x10}", MSVC_EJSON);
  CHECK_BODY("{\"a\":tru}", MSVC_EJSON);
  CHECK_BODY("{\"a\":True}", MSVC_EJSON);
  CHECK_BODY("{\"a\":undefined}", MSVC_EJSON);
  CHECK_BODY("{\"name\":\"x\ty\"}", MSVC_EJSON); /* raw control char */
  CHECK_BODY("{\"name\":\"x\ny\"}", MSVC_EJSON);
  CHECK_BODY("{\"name\":\"\\x41\"}", MSVC_EJSON); /* bad escape */
  CHECK_BODY("{\"name\":\"\\u12\"}", MSVC_EJSON);
  CHECK_BODY("{\"name\":\"\\u12g4\"}", MSVC_EJSON);
  CHECK_BODY("{\"name\":\"\xff\"}", MSVC_EJSON);         /* invalid UTF-8 */
  CHECK_BODY("{\"name\":\"\xc0\xaf\"}", MSVC_EJSON);     /* overlong */
  CHECK_BODY("{\"name\":\"\xe0\x80\xaf\"}", MSVC_EJSON); /* overlong */
  CHECK_BODY("{\"name\":\"\xf0\x80\x80\xaf\"}", MSVC_EJSON);
  CHECK_BODY("{\"name\":\"\xed\xa0\x80\"}", MSVC_EJSON);     /* surrogate */
  CHECK_BODY("{\"name\":\"\xf4\x90\x80\x80\"}", MSVC_EJSON); /* > U+10FFFF */
  CHECK_BODY("{\"name\":\"\xe6\x97\"}", MSVC_EJSON); /* truncated sequence */
  CHECK_BODY("\xef\xbb\xbf{}", MSVC_EJSON);          /* byte order mark */
  CHECK_BODY("{}\0", MSVC_EJSON);                    /* NUL after the value */
  CHECK_BODY("{\"name\":\"a\0b\"}", MSVC_EJSON);     /* raw NUL in a string */
  CHECK_BODY("{\"a\":1}/*c*/", MSVC_EJSON);
  CHECK_BODY("[1] [2]", MSVC_EJSON);
  CHECK_BODY("123x", MSVC_EJSON);

  CHECK_BODY("[]", MSVC_ENOTOBJECT);
  CHECK_BODY("[{\"name\":\"a\"}]", MSVC_ENOTOBJECT);
  CHECK_BODY("\"name\"", MSVC_ENOTOBJECT);
  CHECK_BODY("123", MSVC_ENOTOBJECT);
  CHECK_BODY(" -1.5e3 ", MSVC_ENOTOBJECT);
  CHECK_BODY("true", MSVC_ENOTOBJECT);
  CHECK_BODY("null", MSVC_ENOTOBJECT);

  CHECK_BODY("{}", 0);
  CHECK_BODY(" \t\r\n{ \"a\" : [ 1 , -0.5e-3 , true , false , null , { } ] }"
             " \n",
             0);
  CHECK_BODY("{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"}", 0);
  CHECK_BODY("{\"a\":\"\\ud800\"}", 0); /* a lone surrogate escape */

  {
    msvc__wire_user_t in;
    msvc_errors_t *errs = errs_new();
    CHECK_EQ_INT(parse_user(NULL, 0, ALL_USER_FIELDS, &in, errs), MSVC_EJSON);
    CHECK_EQ_INT(msvc__json_parse_user_input("{}", 2, 0, NULL, errs),
                 MSVC_EINVAL);
    /* errs is optional: an ill-typed field is then only left out. */
    memset(&in, 0, sizeof(in));
    CHECK_EQ_INT(msvc__json_parse_user_input("{\"name\":1,\"email\":\"e\"}", 22,
                                             ALL_USER_FIELDS, &in, NULL),
                 0);
    CHECK(in.name == NULL);
    CHECK_EQ_STR(in.email, "e");
    msvc__wire_user_clear(&in);
    msvc_errors_free(errs);
  }
}

/* The one strict entry point, as the HTTP resolver uses it on upstream
 * answers: any JSON value, nothing lenient. */
static void test_parse_strict(void) {
  static const char *const bad[] = {"",   "{",        "{'a':1}", "[1,]", "NaN",
                                    "01", "\"\xff\"", "{} x",    "nul"};
  json_object *v = (json_object *)1;
  CHECK_EQ_INT(msvc__json_parse_strict("{\"users\":[]}", 12, &v), 0);
  CHECK(json_object_is_type(v, json_type_object));
  json_object_put(v);
  CHECK_EQ_INT(msvc__json_parse_strict(" 42", 3, &v), 0);
  CHECK(json_object_is_type(v, json_type_int) && json_object_get_int(v) == 42);
  json_object_put(v);
  CHECK_EQ_INT(msvc__json_parse_strict("\"s\"", 3, &v), 0);
  CHECK(json_object_is_type(v, json_type_string));
  json_object_put(v);
  CHECK_EQ_INT(msvc__json_parse_strict("null", 4, &v), 0);
  CHECK(v == NULL);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    v = (json_object *)1;
    CHECK_EQ_INT(msvc__json_parse_strict(bad[i], strlen(bad[i]), &v),
                 MSVC_EJSON);
    CHECK(v == NULL);
  }
  /* Only len bytes count. */
  CHECK_EQ_INT(msvc__json_parse_strict("[1]garbage", 3, &v), 0);
  json_object_put(v);
  CHECK_EQ_INT(msvc__json_parse_strict(NULL, 0, &v), MSVC_EJSON);
  CHECK_EQ_INT(msvc__json_parse_strict("{}", 2, NULL), MSVC_EINVAL);
}

/* Builds "[[...[1]...]]" nested `depth` deep inside {"x": ...}. */
static void check_depth(int depth, int want) {
  msvc__buf_t b;
  msvc__buf_init(&b);
  msvc__buf_puts(&b, "{\"x\":");
  for (int i = 1; i < depth; i++)
    msvc__buf_puts(&b, "[");
  msvc__buf_puts(&b, "1");
  for (int i = 1; i < depth; i++)
    msvc__buf_puts(&b, "]");
  msvc__buf_puts(&b, "}");
  CHECK(!b.failed);
  check_user_body(b.data, b.len, want);
  msvc__buf_free(&b);
}

static void test_depth_limit(void) {
  check_depth(2, 0);
  check_depth(32, 0);
  check_depth(33, MSVC_EJSON);
  check_depth(5000, MSVC_EJSON); /* no stack overflow either */
}

static void test_user_fields(void) {
  static const char body[] =
      "{\"name\":\"Ada\",\"email\":\"Ada@Example.com\",\"password\":\"pw 1\","
      "\"current_password\":\"old\",\"id\":\"" ID_A "\",\"extra\":[1,2],"
      "\"created_at\":5,\"Name\":\"other\"}";
  msvc__wire_user_t in;
  msvc_errors_t *errs = errs_new();
  CHECK_EQ_INT(parse_user(body, sizeof(body) - 1, ALL_USER_FIELDS, &in, errs),
               0);
  CHECK_EQ_INT(msvc_errors_count(errs), 0);
  CHECK_EQ_STR(in.name, "Ada");
  CHECK_EQ_STR(in.email, "Ada@Example.com");
  CHECK_EQ_STR(in.password, "pw 1");
  CHECK_EQ_STR(in.current_password, "old");
  msvc__wire_user_clear(&in);

  /* Only the fields asked for are read. */
  CHECK_EQ_INT(parse_user(body, sizeof(body) - 1,
                          MSVC__FIELD_EMAIL | MSVC__FIELD_PASSWORD, &in, errs),
               0);
  CHECK(in.name == NULL && in.current_password == NULL);
  CHECK_EQ_STR(in.email, "Ada@Example.com");
  CHECK_EQ_STR(in.password, "pw 1");
  msvc__wire_user_clear(&in);

  /* Absent fields stay NULL without an error. */
  CHECK_EQ_INT(parse_user("{\"name\":\"N\"}", 12, ALL_USER_FIELDS, &in, errs),
               0);
  CHECK_EQ_INT(msvc_errors_count(errs), 0);
  CHECK_EQ_STR(in.name, "N");
  CHECK(in.email == NULL && in.password == NULL);
  msvc__wire_user_clear(&in);

  /* Escapes decode to UTF-8; the last of duplicate keys wins. */
  {
    static const char esc[] =
        "{\"name\":\"first\",\"name\":\"\\u00e9\\ud83d\\ude00\\n\\/\"}";
    CHECK_EQ_INT(parse_user(esc, sizeof(esc) - 1, MSVC__FIELD_NAME, &in, errs),
                 0);
    CHECK_EQ_STR(in.name, "\xc3\xa9\xf0\x9f\x98\x80\n/");
    msvc__wire_user_clear(&in);
  }
  msvc_errors_free(errs);
}

static void check_field_error(const msvc_errors_t *errs, const char *field,
                              const char *reason) {
  const char *got = msvc_errors_get(errs, field);
  if (got == NULL)
    fprintf(stderr, "   no error for field %s\n", field);
  CHECK_EQ_STR(got, reason);
}

static void test_user_field_types(void) {
  static const char body[] = "{\"name\":5,\"email\":null,\"password\":true,"
                             "\"current_password\":{\"a\":\"b\"}}";
  static const char arr[] = "{\"name\":[\"Ada\"],\"email\":\"a@b.c\"}";
  static const char nul[] = "{\"name\":\"a\\u0000b\",\"password\":\"\\u0000\","
                            "\"email\":\"ok@example.com\"}";
  msvc__wire_user_t in;
  msvc_errors_t *errs = errs_new();
  CHECK_EQ_INT(parse_user(body, sizeof(body) - 1, ALL_USER_FIELDS, &in, errs),
               0);
  CHECK_EQ_INT(msvc_errors_count(errs), 4);
  check_field_error(errs, "name", "must be a string");
  check_field_error(errs, "email", "must be a string");
  check_field_error(errs, "password", "must be a string");
  check_field_error(errs, "current_password", "must be a string");
  CHECK(in.name == NULL && in.email == NULL && in.password == NULL &&
        in.current_password == NULL);
  msvc__wire_user_clear(&in);

  /* A field not asked for is not checked either. */
  CHECK_EQ_INT(parse_user(body, sizeof(body) - 1, MSVC__FIELD_EMAIL, &in, errs),
               0);
  CHECK_EQ_INT(msvc_errors_count(errs), 1);
  check_field_error(errs, "email", "must be a string");
  msvc__wire_user_clear(&in);

  CHECK_EQ_INT(parse_user(arr, sizeof(arr) - 1, ALL_USER_FIELDS, &in, errs), 0);
  CHECK_EQ_INT(msvc_errors_count(errs), 1);
  check_field_error(errs, "name", "must be a string");
  CHECK(in.name == NULL);
  CHECK_EQ_STR(in.email, "a@b.c");
  msvc__wire_user_clear(&in);

  CHECK_EQ_INT(parse_user(nul, sizeof(nul) - 1, ALL_USER_FIELDS, &in, errs), 0);
  CHECK_EQ_INT(msvc_errors_count(errs), 2);
  check_field_error(errs, "name", "must not contain NUL characters");
  check_field_error(errs, "password", "must not contain NUL characters");
  CHECK(in.name == NULL && in.password == NULL);
  CHECK_EQ_STR(in.email, "ok@example.com");
  msvc__wire_user_clear(&in);
  msvc_errors_free(errs);
}

static void test_post_fields(void) {
  static const char ok[] = "{\"title\":\"T / 1\",\"content\":\"Body\\n\","
                           "\"user_id\":\"" ID_A "\",\"id\":\"x\"}";
  static const char bad[] = "{\"title\":12,\"content\":false}";
  msvc__wire_post_t in;
  msvc_errors_t *errs = errs_new();
  memset(&in, 0, sizeof(in));
  msvc_errors_clear(errs);
  CHECK_EQ_INT(msvc__json_parse_post_input(ok, sizeof(ok) - 1, &in, errs), 0);
  CHECK_EQ_INT(msvc_errors_count(errs), 0);
  CHECK_EQ_STR(in.title, "T / 1");
  CHECK_EQ_STR(in.content, "Body\n");
  msvc__wire_post_clear(&in);

  CHECK_EQ_INT(
      msvc__json_parse_post_input("{\"content\":\"c\"}", 15, &in, errs), 0);
  CHECK(in.title == NULL);
  CHECK_EQ_STR(in.content, "c");
  msvc__wire_post_clear(&in);

  CHECK_EQ_INT(msvc__json_parse_post_input(bad, sizeof(bad) - 1, &in, errs), 0);
  CHECK_EQ_INT(msvc_errors_count(errs), 2);
  check_field_error(errs, "title", "must be a string");
  check_field_error(errs, "content", "must be a string");
  CHECK(in.title == NULL && in.content == NULL);
  msvc__wire_post_clear(&in);

  msvc_errors_clear(errs);
  CHECK_EQ_INT(msvc__json_parse_post_input("[\"t\"]", 5, &in, errs),
               MSVC_ENOTOBJECT);
  CHECK_EQ_INT(msvc__json_parse_post_input("{\"title\":\"t\"", 12, &in, errs),
               MSVC_EJSON);
  CHECK(in.title == NULL);
  CHECK_EQ_INT(msvc_errors_count(errs), 0);
  msvc_errors_free(errs);
}

/* ---- id lists ----------------------------------------------------------- */

static int parse_ids(const char *body, size_t max, msvc_id_t **ids, size_t *n,
                     msvc_errors_t *errs) {
  msvc_errors_clear(errs);
  return msvc__json_parse_id_list(body, strlen(body), max, ids, n, errs);
}

static void check_bad_id_list(const char *body) {
  msvc_id_t *ids = (msvc_id_t *)1;
  size_t n = 99;
  msvc_errors_t *errs = errs_new();
  CHECK_EQ_INT(parse_ids(body, 10, &ids, &n, errs), 0);
  CHECK(ids == NULL && n == 0);
  CHECK_EQ_INT(msvc_errors_count(errs), 1);
  check_field_error(errs, "userIds", "must be an array of 24-hex-digit ids");
  msvc_errors_free(errs);
}

static void test_id_list_forms(void) {
  msvc_id_t *ids = NULL;
  size_t n = 0;
  msvc_errors_t *errs = errs_new();
  CHECK_EQ_INT(parse_ids("{\"userIds\":[\"" ID_A
                         "\",\"65B3A1F2C9E77A00123456FF\"],"
                         "\"other\":1}",
                         10, &ids, &n, errs),
               0);
  CHECK_EQ_INT(msvc_errors_count(errs), 0);
  CHECK_EQ_INT(n, 2);
  if (ids != NULL && n == 2) {
    CHECK_EQ_STR(ids[0].hex, ID_A);
    CHECK_EQ_STR(ids[1].hex, ID_B); /* lower-cased */
  }
  msvc_free(ids);

  ids = NULL;
  CHECK_EQ_INT(parse_ids(" [\"" ID_B "\",\"" ID_B "\"] ", 10, &ids, &n, errs),
               0);
  CHECK_EQ_INT(n, 2); /* duplicates are the caller's business */
  if (ids != NULL && n == 2)
    CHECK_EQ_STR(ids[1].hex, ID_B);
  msvc_free(ids);

  ids = (msvc_id_t *)1;
  CHECK_EQ_INT(parse_ids("[]", 10, &ids, &n, errs), 0);
  CHECK(ids == NULL && n == 0 && msvc_errors_count(errs) == 0);
  CHECK_EQ_INT(parse_ids("{\"userIds\":[]}", 10, &ids, &n, errs), 0);
  CHECK(ids == NULL && n == 0 && msvc_errors_count(errs) == 0);
  msvc_errors_free(errs);
}

static void test_id_list_errors(void) {
  msvc_id_t *ids = NULL;
  size_t n = 0;
  msvc_errors_t *errs = errs_new();
  check_bad_id_list("[\"" ID_A "\",5]");
  check_bad_id_list("[\"" ID_A "\",null]");
  check_bad_id_list("[\"65b3a1f2c9e77a001234567\"]");   /* 23 digits */
  check_bad_id_list("[\"65b3a1f2c9e77a00123456789\"]"); /* 25 digits */
  check_bad_id_list("[\"65b3a1f2c9e77a001234567g\"]");
  check_bad_id_list("[\"65b3a1f2c9e77a00\\u00001234567\"]");
  check_bad_id_list("[[\"" ID_A "\"]]");
  check_bad_id_list("[{\"id\":\"" ID_A "\"}]");
  check_bad_id_list("{\"userIds\":\"" ID_A "\"}");
  check_bad_id_list("{\"userIds\":null}");
  check_bad_id_list("{\"userids\":[\"" ID_A "\"]}");
  check_bad_id_list("{}");

  CHECK_EQ_INT(parse_ids("\"" ID_A "\"", 10, &ids, &n, errs), MSVC_ENOTOBJECT);
  CHECK_EQ_INT(parse_ids("42", 10, &ids, &n, errs), MSVC_ENOTOBJECT);
  CHECK_EQ_INT(parse_ids("[\"" ID_A "\",]", 10, &ids, &n, errs), MSVC_EJSON);
  CHECK_EQ_INT(parse_ids("{\"userIds\":[\"" ID_A "\"]", 10, &ids, &n, errs),
               MSVC_EJSON);
  CHECK(ids == NULL && n == 0);
  CHECK_EQ_INT(msvc__json_parse_id_list("[]", 2, 10, NULL, &n, errs),
               MSVC_EINVAL);
  msvc_errors_free(errs);
}

static void test_id_list_limit(void) {
  msvc__buf_t b;
  msvc_id_t *ids = NULL;
  size_t n = 0;
  msvc_errors_t *errs = errs_new();
  msvc__buf_init(&b);
  msvc__buf_puts(&b, "[");
  for (int i = 0; i < 1001; i++) {
    char id[MSVC_ID_SIZE];
    snprintf(id, sizeof(id), "65b3a1f2c9e77a%010d", i);
    if (i > 0)
      msvc__buf_puts(&b, ",");
    msvc__json_cstring(&b, id);
  }
  msvc__buf_puts(&b, "]");
  CHECK(!b.failed);
  CHECK_EQ_INT(parse_ids(b.data, 1000, &ids, &n, errs), MSVC_ETOOBIG);
  CHECK(ids == NULL && n == 0);
  CHECK_EQ_INT(parse_ids(b.data, 1001, &ids, &n, errs), 0);
  CHECK_EQ_INT(n, 1001);
  if (ids != NULL && n == 1001)
    CHECK_EQ_STR(ids[1000].hex, "65b3a1f2c9e77a0000001000");
  msvc_free(ids);
  /* Too many wins over a bad element: the size is checked first. */
  CHECK_EQ_INT(parse_ids("[1,2,3]", 2, &ids, &n, errs), MSVC_ETOOBIG);
  CHECK_EQ_INT(parse_ids("{\"userIds\":[1,2,3]}", 2, &ids, &n, errs),
               MSVC_ETOOBIG);
  msvc__buf_free(&b);
  msvc_errors_free(errs);
}

int main(void) {
  RUN(test_buf);
  RUN(test_buf_int);
  RUN(test_string_escaping);
  RUN(test_string_escaping_words);
  RUN(test_timestamp_format);
  RUN(test_timestamp_against_gmtime);
  RUN(test_timestamp_parse);
  RUN(test_user_json);
  RUN(test_post_json);
  RUN(test_post_json_fast_path);
  RUN(test_error_json);
  RUN(test_strict_rejections);
  RUN(test_parse_strict);
  RUN(test_depth_limit);
  RUN(test_user_fields);
  RUN(test_user_field_types);
  RUN(test_post_fields);
  RUN(test_id_list_forms);
  RUN(test_id_list_errors);
  RUN(test_id_list_limit);
  TEST_MAIN_END();
}
