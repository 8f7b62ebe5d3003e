/* msvc/post.h - posts, client input and listing pages.
 *
 * Like users, posts and pages are allocated by the library (fields can be
 * appended in later versions) and freed with their *_free function; arrays
 * are arrays of pointers.  Strings inside are owned by their record; a
 * store backend sets them to memory from malloc().
 */
#ifndef MSVC_POST_H
#define MSVC_POST_H

#include "common.h"
#include "errors.h"
#include "user.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MSVC_TITLE_MAX_CHARS 191
#define MSVC_CONTENT_MAX_BYTES 65536
#define MSVC_LIST_DEFAULT_LIMIT 20
#define MSVC_LIST_MAX_LIMIT 100

typedef struct msvc_post {
  char id[MSVC_ID_SIZE];
  char user_id[MSVC_ID_SIZE]; /* the author's id */
  char *title;                /* owned */
  char *content;              /* owned */
  int64_t created_at;         /* ms since the epoch, UTC */
  int64_t updated_at;
  /* Fields may be appended here. */
} msvc_post_t;

/* A zeroed post; free with msvc_post_free(). */
MSVC_EXTERN int msvc_post_new(msvc_post_t **out);
/* NULL is allowed. */
MSVC_EXTERN void msvc_post_free(msvc_post_t *post);

/* What a client may send to create or change a post; NULL fields are
 * absent.  Read during the call, never written, copied when kept.
 * Initialise with MSVC_POST_INPUT_INIT. */
typedef struct msvc_post_input {
  size_t size; /* sizeof(msvc_post_input_t) */
  const char *title;
  const char *content;
} msvc_post_input_t;

#define MSVC_POST_INPUT_INIT                                                   \
  { sizeof(msvc_post_input_t), NULL, NULL }

MSVC_EXTERN int msvc_validate_title(const char *title, msvc_errors_t *errs);
MSVC_EXTERN int msvc_validate_content(const char *content, msvc_errors_t *errs);

/* Which page to list.  Initialise with MSVC_LIST_REQUEST_INIT (limit
 * MSVC_LIST_DEFAULT_LIMIT, first page, every author). */
typedef struct msvc_list_request {
  size_t size;         /* sizeof(msvc_list_request_t) */
  unsigned limit;      /* posts per page, 1..MSVC_LIST_MAX_LIMIT */
  const char *cursor;  /* next_cursor of the previous page; NULL or "" for
                          the first page */
  const char *user_id; /* only this author's posts; NULL or "" for all */
} msvc_list_request_t;

#define MSVC_LIST_REQUEST_INIT                                                 \
  { sizeof(msvc_list_request_t), MSVC_LIST_DEFAULT_LIMIT, NULL, NULL }

/* One page of a listing, newest first.  authors[i] is the author of
 * posts[i], or NULL when unknown: deleted, or the resolver could not reach
 * its source, in which case `degraded` is 1.  Everything the page points
 * to (arrays, records, their strings) belongs to the page, often in a few
 * shared blocks: free it all with msvc_post_page_free, never an entry on
 * its own (copy one with msvc_user_dup to keep it). */
typedef struct msvc_post_page {
  size_t count;
  msvc_post_t **posts;   /* owned array of `count` */
  msvc_user_t **authors; /* owned array of `count`; entries may be NULL,
                            and posts by one author share its user */
  int degraded;
  char *next_cursor; /* owned; "" on the last page, never NULL */
  /* Fields may be appended here. */
} msvc_post_page_t;

/* Frees the page and everything in it; NULL is allowed. */
MSVC_EXTERN void msvc_post_page_free(msvc_post_page_t *page);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_POST_H */
