/* records.c - allocating and freeing users, posts, pages and user records.
 *
 * Every record the public API hands out is made here, with the library's
 * current sizeof, which is what lets fields be appended to the structs:
 * callers and backends only ever see pointers.  Strings inside records come
 * from malloc() and are released with free(), backends' strings included
 * (pages, in page.c, hold theirs in an arena when they can).
 * Freeing functions accept NULL.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int msvc_user_new(msvc_user_t **out) {
  if (out == NULL)
    return MSVC_EINVAL;
  *out = calloc(1, sizeof(**out));
  return *out != NULL ? 0 : MSVC_ENOMEM;
}

void msvc_user_free(msvc_user_t *user) {
  if (user == NULL)
    return;
  msvc__user_reset(user);
  free(user);
}

int msvc_user_set(msvc_user_t *u, const char *id, const char *name,
                  const char *email, int64_t created_at, int64_t updated_at) {
  char idcopy[MSVC_ID_SIZE], *n, *e;
  if (u == NULL || id == NULL || !msvc_id_valid(id, strlen(id)))
    return MSVC_EINVAL;
  memcpy(idcopy, id, MSVC_ID_SIZE); /* id may be u->id itself */
  n = strdup(name != NULL ? name : "");
  e = strdup(email != NULL ? email : "");
  if (n == NULL || e == NULL) {
    free(n);
    free(e);
    return MSVC_ENOMEM;
  }
  msvc__user_reset(u);
  memcpy(u->id, idcopy, MSVC_ID_SIZE);
  msvc__ascii_lower(u->id);
  u->name = n;
  u->email = e;
  u->created_at = created_at;
  u->updated_at = updated_at;
  return 0;
}

int msvc_user_dup(const msvc_user_t *src, msvc_user_t **out) {
  msvc_user_t *u;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (src == NULL || out == NULL ||
      !msvc_id_valid(src->id, strnlen(src->id, MSVC_ID_SIZE)))
    return MSVC_EINVAL;
  rc = msvc_user_new(&u);
  if (rc != 0)
    return rc;
  /* A copy keeps absent strings absent (msvc_user_set would make them ""). */
  memcpy(u->id, src->id, MSVC_ID_SIZE);
  u->id[MSVC_ID_LEN] = '\0';
  u->name = msvc__strdup(src->name);
  u->email = msvc__strdup(src->email);
  u->created_at = src->created_at;
  u->updated_at = src->updated_at;
  if ((src->name && !u->name) || (src->email && !u->email)) {
    msvc_user_free(u);
    return MSVC_ENOMEM;
  }
  *out = u;
  return 0;
}

void msvc_users_free(msvc_user_t **users, size_t n) {
  if (users == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    msvc_user_free(users[i]);
  free(users);
}

int msvc__users_alloc(size_t n, msvc_user_t ***out) {
  msvc_user_t **users = calloc(n ? n : 1, sizeof(*users));
  *out = NULL;
  if (users == NULL)
    return MSVC_ENOMEM;
  for (size_t i = 0; i < n; i++)
    if (msvc_user_new(&users[i]) != 0) {
      msvc_users_free(users, i);
      return MSVC_ENOMEM;
    }
  *out = users;
  return 0;
}

int msvc_user_record_new(msvc_user_record_t **out) {
  msvc_user_record_t *rec;
  if (out == NULL)
    return MSVC_EINVAL;
  *out = NULL;
  rec = calloc(1, sizeof(*rec));
  if (rec == NULL || msvc_user_new(&rec->user) != 0) {
    free(rec);
    return MSVC_ENOMEM;
  }
  *out = rec;
  return 0;
}

void msvc_user_record_free(msvc_user_record_t *rec) {
  if (rec == NULL)
    return;
  msvc_user_free(rec->user);
  if (rec->password_hash != NULL) {
    explicit_bzero(rec->password_hash, strlen(rec->password_hash));
    free(rec->password_hash);
  }
  free(rec);
}

int msvc_post_new(msvc_post_t **out) {
  if (out == NULL)
    return MSVC_EINVAL;
  *out = calloc(1, sizeof(**out));
  return *out != NULL ? 0 : MSVC_ENOMEM;
}

void msvc_post_free(msvc_post_t *post) {
  if (post == NULL)
    return;
  msvc__post_reset(post);
  free(post);
}

int msvc_session_new(msvc_session_t **out) {
  if (out == NULL)
    return MSVC_EINVAL;
  *out = calloc(1, sizeof(**out));
  return *out != NULL ? 0 : MSVC_ENOMEM;
}

void msvc_session_free(msvc_session_t *s) {
  if (s == NULL)
    return;
  free(s->user_agent);
  free(s->ip);
  free(s);
}

void msvc_session_list_free(msvc_session_list_t *list) {
  if (list == NULL)
    return;
  for (size_t i = 0; list->items != NULL && i < list->count; i++) {
    if (list->items[i] == NULL)
      continue;
    free(list->items[i]->user_agent);
    free(list->items[i]->ip);
    free(list->items[i]);
  }
  free(list->items);
  free(list);
}
