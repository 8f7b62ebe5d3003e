/* post.c - title/content rules and list cursors.
 *
 * Validators add static reason strings to errs without replacing an error
 * a field already has, and return MSVC_EVALIDATION whenever the field ends
 * up in error.
 *
 * A cursor is 24 bytes written as 32 base64url characters (no padding):
 * a version byte, created_at as 8 bytes big-endian, the 12 ObjectId bytes
 * and a CRC-24 of those 21 bytes.  Because 24 bytes are a whole number of
 * base64 groups, every byte string has exactly one spelling, and because
 * one character carries 6 bits, any single-character change is a burst
 * error the CRC always detects.  The CRC guards against corruption only:
 * a cursor is a position anyone could name, not a credential.  Decoding
 * checks the length before it reads and touches nothing past `len`.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/validate.h"

/* ---- validation ---------------------------------------------------------- */

static int all_space(const char *s) {
  for (; *s; s++)
    if (!msvc__is_ascii_space((unsigned char)*s))
      return 0;
  return 1;
}

static const char *title_problem(const char *title) {
  if (title == NULL)
    return "is required";
  if (all_space(title))
    return "must not be empty";
  if (msvc__utf8_chars(title) > MSVC_TITLE_MAX_CHARS)
    return "must be at most 191 characters";
  return NULL;
}

int msvc_validate_title(const char *title, msvc_errors_t *errs) {
  return msvc__field_verdict(errs, "title", title_problem(title));
}

static const char *content_problem(const char *content) {
  if (content == NULL)
    return "is required";
  if (all_space(content))
    return "must not be empty";
  if (strlen(content) > MSVC_CONTENT_MAX_BYTES)
    return "must be at most 65536 bytes";
  return NULL;
}

int msvc_validate_content(const char *content, msvc_errors_t *errs) {
  return msvc__field_verdict(errs, "content", content_problem(content));
}

/* ---- cursors ------------------------------------------------------------- */

enum {
  CURSOR_VERSION = 1,
  CURSOR_DATA = 21, /* version, time, id */
  CURSOR_RAW = 24,  /* ...and the CRC */
  CURSOR_CHARS = CURSOR_RAW / 3 * 4
};

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* CRC-24 as in OpenPGP (RFC 4880): detects every burst of up to 24 bits. */
static uint32_t crc24(const unsigned char *p, size_t n) {
  uint32_t crc = 0xb704ceu;
  while (n-- > 0) {
    crc ^= (uint32_t)*p++ << 16;
    for (int i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000u)
        crc ^= 0x1864cfbu;
    }
  }
  return crc & 0xffffffu;
}

static void pack(const msvc_cursor_t *c, unsigned char raw[CURSOR_RAW]) {
  uint64_t t = (uint64_t)c->created_at;
  uint32_t crc;
  raw[0] = CURSOR_VERSION;
  for (int i = 0; i < 8; i++)
    raw[1 + i] = (unsigned char)(t >> (56 - 8 * i));
  msvc__hex_decode(c->id, 12, raw + 9);
  crc = crc24(raw, CURSOR_DATA);
  raw[21] = (unsigned char)(crc >> 16);
  raw[22] = (unsigned char)(crc >> 8);
  raw[23] = (unsigned char)crc;
}

void msvc__cursor_encode(const msvc_cursor_t *c, char out[MSVC__CURSOR_SIZE]) {
  unsigned char raw[CURSOR_RAW];
  out[0] = '\0';
  if (c == NULL || c->created_at < 0 ||
      !msvc_id_valid(c->id, strnlen(c->id, MSVC_ID_SIZE)))
    return;
  pack(c, raw);
  for (int g = 0; g < CURSOR_RAW / 3; g++) {
    uint32_t v = (uint32_t)raw[3 * g] << 16 | (uint32_t)raw[3 * g + 1] << 8 |
                 raw[3 * g + 2];
    for (int k = 0; k < 4; k++)
      out[4 * g + k] = b64url[(v >> (18 - 6 * k)) & 63];
  }
  out[CURSOR_CHARS] = '\0';
}

static int b64url_value(char c) {
  const char *p = c != '\0' ? strchr(b64url, c) : NULL;
  return p != NULL ? (int)(p - b64url) : -1;
}

static int unbase64(const char *s, unsigned char raw[CURSOR_RAW]) {
  for (int g = 0; g < CURSOR_RAW / 3; g++) {
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
      int d = b64url_value(s[4 * g + k]);
      if (d < 0)
        return MSVC_EINVAL;
      v = v << 6 | (uint32_t)d;
    }
    raw[3 * g] = (unsigned char)(v >> 16);
    raw[3 * g + 1] = (unsigned char)(v >> 8);
    raw[3 * g + 2] = (unsigned char)v;
  }
  return 0;
}

static void unpack(const unsigned char raw[CURSOR_RAW], msvc_cursor_t *out) {
  uint64_t t = 0;
  for (int i = 0; i < 8; i++)
    t = t << 8 | raw[1 + i];
  out->created_at = (int64_t)t;
  msvc__hex_encode(raw + 9, 12, out->id);
}

int msvc__cursor_decode(const char *s, size_t len, msvc_cursor_t *out) {
  unsigned char raw[CURSOR_RAW];
  uint32_t crc;
  if (s == NULL || out == NULL || len != CURSOR_CHARS ||
      unbase64(s, raw) != 0 || raw[0] != CURSOR_VERSION ||
      (raw[1] & 0x80) != 0) /* a negative time */
    return MSVC_EINVAL;
  crc = (uint32_t)raw[21] << 16 | (uint32_t)raw[22] << 8 | raw[23];
  if (crc != crc24(raw, CURSOR_DATA))
    return MSVC_EINVAL;
  unpack(raw, out);
  return 0;
}
