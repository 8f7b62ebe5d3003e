/* test_post.c - title/content rules, post records' lifetimes and cursors.
 *
 * Cursors are checked as a black box: they round-trip, stay short and
 * URL-safe, and every damaged form (each single-character change,
 * truncation, extension, garbage) is refused without reading past the
 * length given.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/validate.h"
#include "testutil.h"

static char *repeat(const char *unit, size_t n) {
  size_t ulen = strlen(unit);
  char *s = malloc(ulen * n + 1);
  if (s == NULL)
    abort();
  for (size_t i = 0; i < n; i++)
    memcpy(s + i * ulen, unit, ulen);
  s[ulen * n] = '\0';
  return s;
}

static msvc_errors_t *new_errors(void) {
  msvc_errors_t *errs = NULL;
  if (msvc_errors_new(&errs) != 0 || errs == NULL)
    abort();
  return errs;
}

/* Runs a validator on a heap copy of s (checked unchanged afterwards) and
 * returns the first reason recorded, copied to a static buffer, or NULL
 * when the value is valid. */
static const char *reason_of(int (*validate)(const char *, msvc_errors_t *),
                             const char *field, const char *s) {
  static char buf[256];
  msvc_errors_t *errs = new_errors();
  char *copy = msvc__strdup(s);
  const char *reason = NULL;
  int rc;
  rc = validate(copy, errs);
  CHECK_EQ_INT(rc, msvc_errors_count(errs) ? MSVC_EVALIDATION : 0);
  CHECK_EQ_INT(validate(copy, NULL), rc);
  if (s != NULL)
    CHECK_EQ_STR(copy, s); /* the caller's string is untouched */
  if (msvc_errors_count(errs)) {
    CHECK_EQ_INT(msvc_errors_count(errs), 1);
    CHECK_EQ_STR(msvc_errors_field(errs, 0), field);
    snprintf(buf, sizeof(buf), "%s", msvc_errors_reason(errs, 0));
    reason = buf;
  }
  free(copy);
  msvc_errors_free(errs);
  return reason;
}

static const char *title_reason(const char *s) {
  return reason_of(msvc_validate_title, "title", s);
}

static const char *content_reason(const char *s) {
  return reason_of(msvc_validate_content, "content", s);
}

static void test_title(void) {
  const char *units[] = {"t", "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80"};
  CHECK_EQ_STR(title_reason(NULL), "is required");
  CHECK_EQ_STR(title_reason(""), "must not be empty");
  CHECK_EQ_STR(title_reason(" \t\n\r"), "must not be empty");
  CHECK(title_reason("x") == NULL);
  CHECK(title_reason("  padded  ") == NULL);
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(units); i++) {
    char *ok = repeat(units[i], 191), *bad = repeat(units[i], 192);
    CHECK(title_reason(ok) == NULL);
    CHECK_EQ_STR(title_reason(bad), "must be at most 191 characters");
    free(ok);
    free(bad);
  }
}

static void test_content(void) {
  char *s;
  CHECK_EQ_STR(content_reason(NULL), "is required");
  CHECK_EQ_STR(content_reason(""), "must not be empty");
  CHECK_EQ_STR(content_reason("\n\n  "), "must not be empty");
  CHECK(content_reason("c") == NULL);
  s = repeat("c", 65536);
  CHECK(content_reason(s) == NULL);
  free(s);
  s = repeat("c", 65537);
  CHECK_EQ_STR(content_reason(s), "must be at most 65536 bytes");
  free(s);
  /* Bytes, not characters: 16384 four-byte characters fit exactly. */
  s = repeat("\xf0\x9f\x98\x80", 16384);
  CHECK(content_reason(s) == NULL);
  free(s);
  s = repeat("\xe6\x97\xa5", 21846); /* 65538 bytes */
  CHECK_EQ_STR(content_reason(s), "must be at most 65536 bytes");
  free(s);
}

static void test_existing_error_kept(void) {
  msvc_errors_t *errs = new_errors();
  msvc_errors_add(errs, "title", "earlier");
  CHECK_EQ_INT(msvc_validate_title("fine", errs), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_validate_title(NULL, errs), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_validate_content(NULL, errs), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_errors_count(errs), 2);
  CHECK_EQ_STR(msvc_errors_reason(errs, 0), "earlier");
  CHECK_EQ_STR(msvc_errors_field(errs, 1), "content");
  CHECK_EQ_INT(msvc_validate_title("fine", NULL), 0);
  msvc_errors_free(errs);
}

/* Regression (issue 8): literals work (nothing is written to them) and
 * NULL values or lists never crash. */
static void test_literals_and_nulls(void) {
  msvc_errors_t *errs = new_errors();
  CHECK_EQ_INT(msvc_validate_title("  A literal title  ", errs), 0);
  CHECK_EQ_INT(msvc_validate_content("literal content", errs), 0);
  CHECK_EQ_INT(msvc_errors_count(errs), 0);
  CHECK_EQ_INT(msvc_validate_title(NULL, NULL), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_validate_content(NULL, NULL), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_validate_content(" ", NULL), MSVC_EVALIDATION);
  msvc_errors_free(errs);
}

static void test_lifetimes(void) {
  static char sentinel;
  msvc_post_t *p = (msvc_post_t *)(void *)&sentinel;
  msvc_post_input_t in = MSVC_POST_INPUT_INIT;
  msvc_post_page_t *page;

  CHECK_EQ_INT(msvc_post_new(NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_post_new(&p), 0);
  CHECK(p != NULL && p != (msvc_post_t *)(void *)&sentinel);
  if (p == NULL)
    abort();
  CHECK(p->title == NULL && p->content == NULL && p->id[0] == '\0' &&
        p->user_id[0] == '\0' && p->created_at == 0 && p->updated_at == 0);
  strcpy(p->id, "0123456789abcdef01234567");
  p->title = msvc__strdup("t");
  p->content = msvc__strdup("c");
  msvc__post_reset(p);
  CHECK(p->title == NULL && p->content == NULL && p->id[0] == '\0');
  msvc__post_reset(p); /* twice is harmless */
  p->title = msvc__strdup("t");
  msvc_post_free(p);
  msvc_post_free(NULL);

  /* Inputs borrow the caller's strings: literals are fine and there is
   * nothing to free. */
  CHECK_EQ_INT(in.size, sizeof(msvc_post_input_t));
  CHECK(in.title == NULL && in.content == NULL);
  in.title = "t";
  CHECK_EQ_STR(in.title, "t");

  /* A page as the library builds one: every array and string owned. */
  page = msvc__page_new();
  CHECK(page != NULL);
  if (page == NULL)
    return;
  {
    /* Authors live in the page's user slots; two entries may share one. */
    msvc_user_t *const *slots = NULL;
    CHECK_EQ_INT(msvc__page_alloc(page, 2, &slots), 0);
    CHECK(slots != NULL && msvc__page_user_slots(page) == slots);
    if (slots != NULL && page->authors != NULL) {
      page->authors[0] = slots[0];
      page->authors[1] = slots[0];
    }
  }
  page->count = 2;
  CHECK(page->posts != NULL && page->authors != NULL);
  if (page->posts != NULL && page->authors != NULL) {
    page->posts[0]->title = msvc__strdup("a");
    page->posts[1]->content = msvc__strdup("b");
    page->authors[0]->name = msvc__strdup("n");
    page->authors[0]->email = msvc__strdup("e@x.io");
    page->authors[1] = NULL; /* an unknown author */
  }
  msvc__page_set_cursor(page, "x");
  msvc_post_page_free(page);
  msvc_post_page_free(NULL);

  /* An empty page. */
  page = msvc__page_new();
  CHECK(page != NULL);
  if (page != NULL) {
    CHECK(page->count == 0 && page->posts == NULL);
    CHECK_EQ_STR(page->next_cursor, "");
    msvc_post_page_free(page);
  }
}

/* ---- cursors ------------------------------------------------------------- */

static const char *b64url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int decodes(const char *s, size_t len) {
  msvc_cursor_t c;
  return msvc__cursor_decode(s, len, &c) == 0;
}

static void round_trip(int64_t t, const char *id, const char *want_id) {
  msvc_cursor_t c, back;
  char out[MSVC__CURSOR_SIZE];
  memset(&c, 0, sizeof(c));
  c.created_at = t;
  strcpy(c.id, id);
  memset(out, '#', sizeof(out));
  msvc__cursor_encode(&c, out);
  CHECK(strlen(out) > 0 && strlen(out) < MSVC__CURSOR_SIZE);
  CHECK(strspn(out, b64url) == strlen(out));
  memset(&back, 0x5a, sizeof(back));
  CHECK_EQ_INT(msvc__cursor_decode(out, strlen(out), &back), 0);
  CHECK_EQ_INT(back.created_at, t);
  CHECK_EQ_STR(back.id, want_id);
}

static void test_cursor_round_trip(void) {
  round_trip(0, "000000000000000000000000", "000000000000000000000000");
  round_trip(1700000000123, "0123456789abcdef01234567",
             "0123456789abcdef01234567");
  round_trip(INT64_MAX, "ffffffffffffffffffffffff", "ffffffffffffffffffffffff");
  /* Upper-case ids come back in the canonical lower case. */
  round_trip(42, "ABCDEF0123456789ABCDEF01", "abcdef0123456789abcdef01");
}

static void test_cursor_refuses_non_positions(void) {
  msvc_cursor_t c;
  char out[MSVC__CURSOR_SIZE];
  memset(&c, 0, sizeof(c));
  strcpy(c.id, "0123456789abcdef01234567");
  c.created_at = -1;
  msvc__cursor_encode(&c, out);
  CHECK_EQ_STR(out, "");
  c.created_at = INT64_MIN;
  msvc__cursor_encode(&c, out);
  CHECK_EQ_STR(out, "");
  c.created_at = 1;
  strcpy(c.id, "0123456789abcdef0123456g");
  msvc__cursor_encode(&c, out);
  CHECK_EQ_STR(out, "");
  strcpy(c.id, "0123");
  msvc__cursor_encode(&c, out);
  CHECK_EQ_STR(out, "");
  memset(out, '#', sizeof(out));
  msvc__cursor_encode(NULL, out);
  CHECK_EQ_STR(out, "");
  /* An id without its NUL is read no further than its array. */
  memset(c.id, 'a', sizeof(c.id));
  msvc__cursor_encode(&c, out);
  CHECK_EQ_STR(out, "");
}

static void make_cursor(char out[MSVC__CURSOR_SIZE]) {
  msvc_cursor_t c;
  memset(&c, 0, sizeof(c));
  c.created_at = 1732421036419;
  strcpy(c.id, "6742a2ac5f1e3b0012ab34cd");
  msvc__cursor_encode(&c, out);
}

static void test_cursor_single_changes(void) {
  char good[MSVC__CURSOR_SIZE], bad[MSVC__CURSOR_SIZE];
  size_t len, accepted = 0, tried = 0;
  make_cursor(good);
  len = strlen(good);
  CHECK(decodes(good, len));
  /* Every position, every other byte value (alphabet or not). */
  for (size_t i = 0; i < len; i++) {
    for (int b = 1; b < 256; b++) {
      if ((char)b == good[i])
        continue;
      memcpy(bad, good, len + 1);
      bad[i] = (char)b;
      tried++;
      if (decodes(bad, len)) {
        accepted++;
        fprintf(stderr, "accepted change at %zu to 0x%02x\n", i, b);
      }
    }
  }
  CHECK(tried > 0);
  CHECK_EQ_INT(accepted, 0);
}

static void test_cursor_malformed(void) {
  char good[MSVC__CURSOR_SIZE], buf[1001];
  size_t len;
  make_cursor(good);
  len = strlen(good);
  CHECK(!decodes("", 0));
  CHECK(!decodes(NULL, 0));
  CHECK(msvc__cursor_decode(good, len, NULL) == MSVC_EINVAL);
  /* Every truncation, read from an exact-size heap copy so that ASan sees
   * any read past the length. */
  for (size_t n = 0; n < len; n++) {
    char *cut = malloc(n ? n : 1);
    if (cut == NULL)
      abort();
    memcpy(cut, good, n);
    CHECK(!decodes(cut, n));
    free(cut);
  }
  /* The right length but the wrong text behind it. */
  memcpy(buf, good, len + 1);
  CHECK(!decodes(buf, len - 1));
  CHECK(!decodes(buf, len + 1));
  buf[len] = 'A';
  buf[len + 1] = '\0';
  CHECK(!decodes(buf, len + 1));
  /* Padding is not part of the format. */
  memcpy(buf, good, len);
  strcpy(buf + len, "=");
  CHECK(!decodes(buf, len + 1));
  /* Long garbage, and a long run of valid characters. */
  memset(buf, 'A', 1000);
  buf[1000] = '\0';
  CHECK(!decodes(buf, 1000));
  CHECK(!decodes(buf, len));
  memset(buf, '\0', sizeof(buf));
  CHECK(!decodes(buf, len));
  memset(buf, 0xff, 1000);
  CHECK(!decodes(buf, 1000));
  /* Standard base64's characters are not base64url's. */
  memcpy(buf, good, len + 1);
  for (size_t i = 0; i < len; i++) {
    if (buf[i] == '-' || buf[i] == '_') {
      buf[i] = buf[i] == '-' ? '+' : '/';
      CHECK(!decodes(buf, len));
      break;
    }
  }
}

/* The format, rebuilt here independently: version byte, created_at as 8
 * bytes big-endian, the 12 id bytes, a CRC-24 (OpenPGP) of those 21 bytes,
 * all in base64url without padding. */
static unsigned long crc24(const unsigned char *p, size_t n) {
  unsigned long crc = 0xb704ceUL;
  while (n-- > 0) {
    crc ^= (unsigned long)*p++ << 16;
    for (int i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000UL)
        crc ^= 0x1864cfbUL;
    }
  }
  return crc & 0xffffffUL;
}

static void spell(int version, uint64_t t, const unsigned char id[12],
                  char out[MSVC__CURSOR_SIZE]) {
  unsigned char raw[24];
  unsigned long crc;
  raw[0] = (unsigned char)version;
  for (int i = 0; i < 8; i++)
    raw[1 + i] = (unsigned char)(t >> (56 - 8 * i));
  memcpy(raw + 9, id, 12);
  crc = crc24(raw, 21);
  raw[21] = (unsigned char)(crc >> 16);
  raw[22] = (unsigned char)(crc >> 8);
  raw[23] = (unsigned char)crc;
  for (int g = 0; g < 8; g++) {
    unsigned long v = (unsigned long)raw[3 * g] << 16 |
                      (unsigned long)raw[3 * g + 1] << 8 | raw[3 * g + 2];
    for (int k = 0; k < 4; k++)
      out[4 * g + k] = b64url[(v >> (18 - 6 * k)) & 63];
  }
  out[32] = '\0';
}

static void test_cursor_format(void) {
  static const unsigned char id[12] = {0x67, 0x42, 0xa2, 0xac, 0x5f, 0x1e,
                                       0x3b, 0x00, 0x12, 0xab, 0x34, 0xcd};
  char mine[MSVC__CURSOR_SIZE], theirs[MSVC__CURSOR_SIZE];
  msvc_cursor_t c;
  make_cursor(theirs);
  spell(1, 1732421036419ULL, id, mine);
  CHECK_EQ_STR(theirs, mine);
  CHECK_EQ_INT(msvc__cursor_decode(mine, strlen(mine), &c), 0);
  CHECK_EQ_INT(c.created_at, 1732421036419LL);
  CHECK_EQ_STR(c.id, "6742a2ac5f1e3b0012ab34cd");
  /* Well-formed with a right CRC, but a negative time or another version:
   * refused on the value, not on the checksum. */
  spell(1, (uint64_t)-1, id, mine);
  CHECK(!decodes(mine, strlen(mine)));
  spell(1, (uint64_t)INT64_MIN, id, mine);
  CHECK(!decodes(mine, strlen(mine)));
  spell(1, (uint64_t)INT64_MAX, id, mine);
  CHECK(decodes(mine, strlen(mine)));
  spell(0, 5, id, mine);
  CHECK(!decodes(mine, strlen(mine)));
  spell(2, 5, id, mine);
  CHECK(!decodes(mine, strlen(mine)));
}

int main(void) {
  RUN(test_title);
  RUN(test_content);
  RUN(test_existing_error_kept);
  RUN(test_literals_and_nulls);
  RUN(test_lifetimes);
  RUN(test_cursor_round_trip);
  RUN(test_cursor_refuses_non_positions);
  RUN(test_cursor_single_changes);
  RUN(test_cursor_malformed);
  RUN(test_cursor_format);
  TEST_MAIN_END();
}
