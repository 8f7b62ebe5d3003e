/* posts.c - creating, reading, listing, updating and deleting posts.
 *
 * Invariants: only the author may change or delete a post (checked against
 * the stored user_id, never against anything the client sends); a listing
 * is one keyset query of limit+1 rows (the extra row only tells whether a
 * next page exists) and one resolver call for the page's distinct authors,
 * so its cost depends on the page size, not on how many posts exist.  The
 * caller's input is only read; titles and contents are copied.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/service_internal.h"

static int read_post_input(const msvc_post_input_t *in,
                           msvc_post_input_t *out) {
  msvc_post_input_t defaults = MSVC_POST_INPUT_INIT;
  *out = defaults;
  return in != NULL ? msvc__copy_sized(out, sizeof(*out), in) : MSVC_EINVAL;
}

static int author_ok(const msvc_user_t *author) {
  return author != NULL &&
         msvc_id_valid(author->id, strnlen(author->id, MSVC_ID_SIZE));
}

static int validate_post(const msvc_post_input_t *in, int partial,
                         msvc_errors_t *errs) {
  if (partial && in->title == NULL && in->content == NULL) {
    msvc_errors_add(errs, "body", "must contain title or content");
    return MSVC_EVALIDATION;
  }
  if (!partial || in->title != NULL)
    msvc_validate_title(in->title, errs);
  if (!partial || in->content != NULL)
    msvc_validate_content(in->content, errs);
  return msvc_errors_count(errs) > 0 ? MSVC_EVALIDATION : 0;
}

/* Copies the fields present in `in` over p's. */
static int apply_input(const msvc_post_input_t *in, msvc_post_t *p) {
  char *title = in->title ? strdup(in->title) : NULL;
  char *content = in->content ? strdup(in->content) : NULL;
  if ((in->title && !title) || (in->content && !content)) {
    free(title);
    free(content);
    return MSVC_ENOMEM;
  }
  if (title) {
    free(p->title);
    p->title = title;
  }
  if (content) {
    free(p->content);
    p->content = content;
  }
  return 0;
}

/* Hands p to *out when wanted, else frees it; on error frees it. */
static int hand_out_post(int rc, msvc_post_t *p, msvc_post_t **out) {
  if (rc == 0 && out != NULL)
    *out = p;
  else
    msvc_post_free(p);
  return rc;
}

static int do_create(msvc_t *svc, const msvc_user_t *author,
                     const msvc_post_input_t *in, msvc_post_t **out,
                     msvc_errors_t *errs) {
  msvc_post_t *p = NULL;
  int rc = validate_post(in, 0, errs);
  if (rc == 0)
    rc = msvc_post_new(&p);
  if (rc == 0)
    rc = apply_input(in, p);
  if (rc == 0) {
    msvc__idgen_next(svc->ids, p->id);
    memcpy(p->user_id, author->id, MSVC_ID_LEN);
    p->user_id[MSVC_ID_LEN] = '\0';
    msvc__ascii_lower(p->user_id);
    p->created_at = p->updated_at = msvc__realtime_ms();
    rc = msvc_store_post_insert(svc->store, p);
  }
  return hand_out_post(rc, p, out);
}

int msvc_post_create(msvc_t *svc, const msvc_call_t *call,
                     const msvc_user_t *author, const msvc_post_input_t *in_,
                     msvc_post_t **out, msvc_errors_t *errs_) {
  msvc_post_input_t in;
  msvc_errors_t local, *errs;
  int rc;
  (void)call;
  if (out != NULL)
    *out = NULL;
  if (svc == NULL || !author_ok(author) || read_post_input(in_, &in) != 0)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  errs = msvc__errors_use(errs_, &local);
  rc = do_create(svc, author, &in, out, errs);
  msvc__errors_done(errs, errs_);
  return MSVC__END(svc, rc);
}

/* Loads post_id and checks that author wrote it. */
static int load_owned(msvc_t *svc, const msvc_user_t *author,
                      const char *post_id, msvc_post_t **out) {
  int rc = msvc_post_new(out);
  if (rc == 0)
    rc = msvc_store_post_find(svc->store, post_id, *out);
  if (rc == 0 && strncasecmp((*out)->user_id, author->id, MSVC_ID_LEN) != 0)
    rc = MSVC_EFORBIDDEN;
  if (rc != 0) {
    msvc_post_free(*out);
    *out = NULL;
  }
  return rc;
}

static int do_update(msvc_t *svc, const msvc_user_t *author,
                     const char *post_id, const msvc_post_input_t *in,
                     msvc_post_t **out, msvc_errors_t *errs) {
  msvc_post_t *p = NULL;
  int rc = validate_post(in, 1, errs);
  if (rc == 0)
    rc = load_owned(svc, author, post_id, &p);
  if (rc == 0)
    rc = apply_input(in, p);
  if (rc == 0) {
    p->updated_at = msvc__realtime_ms();
    rc = msvc_store_post_update(svc->store, p);
  }
  return hand_out_post(rc, p, out);
}

int msvc_post_update(msvc_t *svc, const msvc_call_t *call,
                     const msvc_user_t *author, const char *post_id,
                     const msvc_post_input_t *in_, msvc_post_t **out,
                     msvc_errors_t *errs_) {
  msvc_post_input_t in;
  msvc_errors_t local, *errs;
  int rc;
  (void)call;
  if (out != NULL)
    *out = NULL;
  if (svc == NULL || !author_ok(author) || post_id == NULL ||
      read_post_input(in_, &in) != 0)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  errs = msvc__errors_use(errs_, &local);
  rc = do_update(svc, author, post_id, &in, out, errs);
  msvc__errors_done(errs, errs_);
  return MSVC__END(svc, rc);
}

int msvc_post_delete(msvc_t *svc, const msvc_call_t *call,
                     const msvc_user_t *author, const char *post_id) {
  msvc_post_t *p = NULL;
  int rc;
  (void)call;
  if (svc == NULL || !author_ok(author) || post_id == NULL)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  rc = load_owned(svc, author, post_id, &p);
  msvc_post_free(p);
  if (rc == 0)
    rc = msvc_store_post_delete(svc->store, post_id);
  return MSVC__END(svc, rc);
}
