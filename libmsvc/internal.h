/* internal.h - helpers shared by the library's own files, never installed.
 *
 * Internal functions that cross files carry the msvc__ prefix and, like
 * everything not marked MSVC_EXTERN, stay invisible outside the shared
 * libraries.  The functions declared here live in base/ (a static library
 * every binary of the project may link: the core, the modules, the servers
 * and the tests) or, for those that touch public types, in domain/.
 */
#ifndef MSVC_INTERNAL_H
#define MSVC_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "msvc.h"

#define MSVC__UNUSED(x) ((void)(x))
#define MSVC__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- base/text.c ---- */

/* strdup/strndup that return NULL for NULL input. */
char *msvc__strdup(const char *s);
char *msvc__strndup(const char *s, size_t n);
/* Copies src into dst[size] with truncation and NUL; returns 0, or -1 when
 * src did not fit. */
int msvc__strlcpy(char *dst, const char *src, size_t size);
/* Lower-cases ASCII letters of s in place. */
void msvc__ascii_lower(char *s);
/* 1 for the ASCII white space the validators trim: space, \t..\r. */
int msvc__is_ascii_space(unsigned char c);
/* A copy of s[0..len) without surrounding ASCII white space; NULL when out
 * of memory (or s NULL). */
char *msvc__strdup_trimmed(const char *s, size_t len);
/* Code points in the UTF-8 string s (its bytes that are not continuation
 * bytes; the JSON layer has already rejected invalid UTF-8). */
size_t msvc__utf8_chars(const char *s);
/* Writes errbuf (if any) with a printf-style message. */
void msvc__set_error(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- base/hex.c ---- */

/* The value of one hex digit (either case), or -1. */
int msvc__hex_value(char c);
/* 1 when all n bytes of s are hex digits (either case), else 0.  Eight
 * bytes at a time (SWAR), inline, for the ids every response carries: for
 * bytes below 0x80, x + (0x80 - lo) has its high bit set exactly when
 * x >= lo, and no byte carries into the next, so a range test is two adds
 * and a mask; OR-ing 0x20 folds 'A'..'F' onto 'a'..'f' (and nothing else
 * onto them). */
#define MSVC__ONES UINT64_C(0x0101010101010101)
#define MSVC__HIGHS UINT64_C(0x8080808080808080)
static inline uint64_t msvc__bytes_in_range(uint64_t w, unsigned lo,
                                            unsigned hi) {
  return (w + MSVC__ONES * (0x80 - lo)) & ~(w + MSVC__ONES * (0x7f - hi)) &
         MSVC__HIGHS;
}
static inline int msvc__hex_digits(const char *s, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    if ((w & MSVC__HIGHS) ||
        (msvc__bytes_in_range(w, '0', '9') |
         msvc__bytes_in_range(w | MSVC__ONES * 0x20, 'a', 'f')) != MSVC__HIGHS)
      return 0;
  }
  for (; i < n; i++)
    if (msvc__hex_value(s[i]) < 0)
      return 0;
  return 1;
}
/* Lower-cases n hex digits in place. */
void msvc__hex_lower(char *s, size_t n);
/* Writes 2n lowercase hex digits and a NUL into out[2n+1]. */
void msvc__hex_encode(const void *in, size_t n, char *out);
/* Decodes 2n hex digits of in into out[n]; 0, or -1 at a non-digit. */
int msvc__hex_decode(const char *in, size_t n, unsigned char *out);

/* ---- base/base64url.c ---- */

/* Encodes n bytes as unpadded base64url into out (room for
 * (4 * n + 2) / 3 + 1 bytes, NUL included); returns the length. */
size_t msvc__base64url_encode(const void *in, size_t n, char *out);
/* The value of one base64url character, or -1. */
int msvc__base64url_value(char c);

/* ---- base/siphash.c ---- */

/* SipHash-1-3 of data under a 128-bit key: for tables keyed by what
 * clients send (compare the keys themselves on a match). */
uint64_t msvc__siphash(const uint64_t key[2], const void *data, size_t len);

/* ---- base/random.c ---- */

/* Fills buf with n cryptographically random bytes (getrandom); 0 or
 * MSVC_EIO. */
int msvc__random_bytes(void *buf, size_t n);
/* n random bytes as 2n hex digits and a NUL in out[2n+1]; 0 or MSVC_EIO. */
int msvc__random_hex(char *out, size_t n);

/* ---- base/clock.c ---- */

/* Monotonic clock in milliseconds, for deadlines and throttling. */
int64_t msvc__monotonic_ms(void);
/* The same in microseconds, for durations worth logging finely. */
int64_t msvc__monotonic_us(void);
/* Wall clock in milliseconds since the epoch. */
int64_t msvc__realtime_ms(void);

/* ---- base/fs.c ---- */

/* mkdir -p of `dir` with `mode` for the parts it creates; 0, or -1 with
 * errno set (the failing prefix copied into failed[failed_len] when
 * given). */
int msvc__mkdir_p(const char *dir, mode_t mode, char *failed,
                  size_t failed_len);

/* ---- base/buf.c ---- */

/* A growable byte buffer.  On allocation failure `failed` is set and further
 * appends do nothing, so a writer checks once at the end. */
typedef struct msvc__buf {
  char *data; /* owned; NUL-terminated when len > 0 */
  size_t len;
  size_t cap;
  int failed;
} msvc__buf_t;

void msvc__buf_init(msvc__buf_t *b);
void msvc__buf_free(msvc__buf_t *b);
void msvc__buf_reset(msvc__buf_t *b); /* len = 0, keeps memory */
int msvc__buf_grow(msvc__buf_t *b, size_t extra);
/* Room for `extra` more bytes and a NUL; -1 (and `failed`) if impossible.
 * Inline because writers call it for every field: the common case (the
 * room is there) is one compare.  Whenever cap > 0, len < cap (the NUL),
 * so cap - len cannot wrap. */
static inline int msvc__buf_reserve(msvc__buf_t *b, size_t extra) {
  if (!b->failed && b->cap > 0 && extra < b->cap - b->len)
    return 0;
  return msvc__buf_grow(b, extra);
}
static inline void msvc__buf_append(msvc__buf_t *b, const void *p, size_t n) {
  if (n == 0 || msvc__buf_reserve(b, n) != 0)
    return;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}
void msvc__buf_puts(msvc__buf_t *b, const char *s);
void msvc__buf_putc(msvc__buf_t *b, char c);
void msvc__buf_int(msvc__buf_t *b, int64_t v);
#define MSVC__BUF_LIT(b, lit) msvc__buf_append((b), (lit), sizeof(lit) - 1)

/* ---- base/timestamp.c ---- */

/* Writes ISO 8601 with milliseconds (24 bytes + NUL, 27 for extended
 * years) into out and returns its length; "" (0) outside JavaScript's Date
 * range (+-8.64e15 ms). */
size_t msvc__format_timestamp(int64_t ms, char out[32]);
/* Parses the form above (also without milliseconds or with 1 to 9
 * fraction digits, and "+00:00" for "Z"); 0 or MSVC_EINVAL. */
int msvc__parse_timestamp(const char *s, int64_t *ms);

/* ---- base/call.c ---- */

/* Fields of a msvc_call_t, honouring its size; defaults for NULL. */
unsigned msvc__call_flags(const msvc_call_t *call);
const char *msvc__call_request_id(const msvc_call_t *call);
const char *msvc__call_user_agent(const msvc_call_t *call);
const char *msvc__call_client_ip(const msvc_call_t *call);
/* NULL also for "". */
const char *msvc__call_session_id(const msvc_call_t *call);

/* Copies a caller's size-prefixed struct (its first member is a size_t
 * holding its sizeof) over dst[dst_size], which already holds defaults:
 * only the bytes both know are copied, and dst's size field is kept.
 * MSVC_EINVAL when src's size is smaller than a size_t or larger than
 * 64 KiB (not initialised); 0 otherwise. */
int msvc__copy_sized(void *dst, size_t dst_size, const void *src);

/* Frees the strings of u and zeroes it, keeping the allocation. */
void msvc__user_reset(msvc_user_t *u);
void msvc__post_reset(msvc_post_t *p);
void msvc__session_reset(msvc_session_t *s);

/* ---- domain/: helpers over public types ---- */

/* The internal form of msvc_errors_t (domain/errors.c). */
struct msvc_errors {
  size_t count, cap;
  struct msvc__field_error {
    char *field;
    char *reason;
  } * items;
};
/* 1 when `field` already has an error in errs (0 for NULL errs). */
int msvc__errors_has(const msvc_errors_t *errs, const char *field);
/* A validator's answer for one field: records reason (if any) in errs and
 * returns MSVC_EVALIDATION when the field is now in error, counting an
 * error recorded before the call; else 0. */
int msvc__field_verdict(msvc_errors_t *errs, const char *field,
                        const char *reason);

/* n zeroed users in one array of pointers; each entry freed by
 * msvc_users_free.  0 or MSVC_ENOMEM. */
int msvc__users_alloc(size_t n, msvc_user_t ***out);
/* A zeroed page that msvc_post_page_free() frees, its next_cursor ""; NULL
 * on no memory. */
msvc_post_page_t *msvc__page_new(void);
/* Gives a new page n zeroed post slots in page->posts, n NULL entries in
 * page->authors and n zeroed user slots (in *users when users is not
 * NULL) for a store or a resolver to read the authors into, all in one
 * block that the page frees (slots beyond page->count included).  0,
 * MSVC_EINVAL (n of 0 or absurd) or MSVC_ENOMEM. */
int msvc__page_alloc(msvc_post_page_t *page, size_t n,
                     msvc_user_t *const **users);
/* 1 when the store's table has post_list_authors (store.c). */
int msvc__store_has_post_list_authors(const msvc_store_t *s);
/* Copies cursor (at most MSVC__CURSOR_SIZE - 1 bytes) into the page's own
 * next_cursor. */
void msvc__page_set_cursor(msvc_post_page_t *page, const char *cursor);
/* The page's user slots (zeroed until filled; freed with the page), or
 * NULL before msvc__page_alloc. */
msvc_user_t *const *msvc__page_user_slots(msvc_post_page_t *page);
/* Makes the page count posts long: slots past it are emptied (their
 * pointers NULL, their memory the page's until it is freed). */
void msvc__page_truncate(msvc_post_page_t *page, size_t count);

/* Where a store's post_list_authors puts rows (domain/page.c): slots given
 * by the caller, strings malloc'd; or a page's own slots, strings in the
 * page's arena. */
struct msvc_page_sink {
  msvc_post_t *const *posts;
  msvc_user_t *const *authors;
  size_t cap, count;
  msvc_post_page_t *page; /* NULL: over caller slots */
  int no_authors;         /* the rows' authors are not wanted */
};
void msvc__page_sink_slots(msvc_page_sink_t *sink, msvc_post_t *const *posts,
                           msvc_user_t *const *authors, size_t cap);
/* Gives a new page n post and user slots (msvc__page_alloc) and aims sink
 * at them, at the posts only with no_authors (the user slots are then a
 * resolver's to fill, with malloc'd strings); 0, MSVC_EINVAL or
 * MSVC_ENOMEM. */
int msvc__page_sink_page(msvc_page_sink_t *sink, msvc_post_page_t *page,
                         size_t n, int no_authors);
/* post_list_authors into sink, whose rows stay where they are on error
 * too (the sink's owner frees them).  MSVC_EUNSUPPORTED without it. */
int msvc__store_post_page(msvc_store_t *s, const msvc_post_query_t *q,
                          msvc_page_sink_t *sink);

/* The thread's error detail (domain/common.c).  msvc_set_error_detail()
 * writes it; msvc__errmsg_clear() empties it; msvc__errmsg_finish()
 * records for msvc_errmsg() that the call on svc ended with rc, keeping a
 * detail set during the call or else using msvc_strerror(rc), and returns
 * rc. */
void msvc__errmsg_clear(void);
int msvc__errmsg_finish(const void *svc, int rc);
const char *msvc__errmsg_get(const void *svc);

#endif
