/* msvc/post.h - post records, client input and listing pages.
 *
 * Strings are owned by their struct and released by the *_clear()
 * functions, which zero the struct.
 */
#ifndef MSVC_POST_H
#define MSVC_POST_H

#include "common.h"
#include "user.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MSVC_TITLE_MAX_CHARS 191
#define MSVC_CONTENT_MAX_BYTES 65536
#define MSVC_LIST_DEFAULT_LIMIT 20
#define MSVC_LIST_MAX_LIMIT 100
/* An opaque cursor is at most this many bytes, NUL included. */
#define MSVC_CURSOR_SIZE 64

typedef struct msvc_post {
  char id[MSVC_ID_SIZE];
  char user_id[MSVC_ID_SIZE]; /* the author's id */
  char *title;                /* owned */
  char *content;              /* owned */
  int64_t created_at;         /* ms since the epoch, UTC */
  int64_t updated_at;
} msvc_post_t;

MSVC_EXTERN void msvc_post_clear(msvc_post_t *post);

typedef struct msvc_post_input {
  char *title;   /* NULL when absent */
  char *content; /* NULL when absent */
} msvc_post_input_t;

MSVC_EXTERN void msvc_post_input_clear(msvc_post_input_t *in);

MSVC_EXTERN int msvc_validate_title(const char *title, msvc_errors_t *errs);
MSVC_EXTERN int msvc_validate_content(const char *content, msvc_errors_t *errs);

/* A position in the newest-first order: strictly older than
 * (created_at, id).  The public form is an opaque string. */
typedef struct msvc_cursor {
  int64_t created_at;
  char id[MSVC_ID_SIZE];
} msvc_cursor_t;

/* Writes the opaque form (NUL-terminated, URL-safe) into out; "" when c
 * is not a position (negative created_at, id not 24 hex digits). */
MSVC_EXTERN void msvc_cursor_encode(const msvc_cursor_t *c,
                                    char out[MSVC_CURSOR_SIZE]);
/* 0, or MSVC_EINVAL when s is not a cursor this library made. */
MSVC_EXTERN int msvc_cursor_decode(const char *s, size_t len, msvc_cursor_t *out);

/* One page of a listing.  authors[i] is the author of posts[i]; its id is
 * "" when the author is unknown (deleted, or the resolver could not
 * reach the auth service, in which case `degraded` is 1). */
typedef struct msvc_post_page {
  msvc_post_t *posts;   /* owned array of `count` */
  msvc_user_t *authors; /* owned array of `count` */
  size_t count;
  int degraded;
  char next_cursor[MSVC_CURSOR_SIZE]; /* "" on the last page */
} msvc_post_page_t;

MSVC_EXTERN void msvc_post_page_clear(msvc_post_page_t *page);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_POST_H */
