/* msvc/session.h - sessions: what a login opens and a refresh token keeps
 * alive.
 *
 * A session is one signed-in device.  The client holds its refresh token;
 * the store holds only the token's SHA-256 (msvc_session_t, used by store
 * backends) and what the user sees of it (msvc_session_info_t).  Records
 * are allocated by the library, like users and posts; strings inside come
 * from malloc().
 */
#ifndef MSVC_SESSION_H
#define MSVC_SESSION_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A SHA-256 as 64 lowercase hex digits and a NUL. */
#define MSVC_HASH_SIZE 65

/* What a store keeps of a session. */
typedef struct msvc_session {
  char id[MSVC_ID_SIZE];
  char user_id[MSVC_ID_SIZE];
  char token_hash[MSVC_HASH_SIZE]; /* of the current refresh token */
  char prev_hash[MSVC_HASH_SIZE];  /* of the token it replaced; "" */
  int64_t rotated_at;              /* ms, when prev_hash was retired; 0 */
  int64_t created_at;              /* ms since the epoch */
  int64_t last_used_at;            /* ms: the login or the last refresh */
  int64_t expires_at;              /* ms: the refresh token's end */
  int revoked;                     /* 1 once ended */
  char *user_agent;                /* owned; NULL when unknown */
  char *ip;                        /* owned; NULL when unknown */
  /* Fields may be appended here. */
} msvc_session_t;

/* A zeroed session; free with msvc_session_free() (NULL allowed). */
MSVC_EXTERN int msvc_session_new(msvc_session_t **out);
MSVC_EXTERN void msvc_session_free(msvc_session_t *s);

/* One session as its user sees it. */
typedef struct msvc_session_info {
  char id[MSVC_ID_SIZE];
  int64_t created_at;   /* ms */
  int64_t last_used_at; /* ms */
  int64_t expires_at;   /* ms */
  char *user_agent;     /* owned; NULL when unknown */
  char *ip;             /* owned; NULL when unknown */
  int current;          /* 1 for the session of the token that asked */
  /* Fields may be appended here. */
} msvc_session_info_t;

typedef struct msvc_session_list {
  size_t count;
  msvc_session_info_t **items; /* owned array of count, newest first */
  /* Fields may be appended here. */
} msvc_session_list_t;

/* Frees the list and everything in it; NULL is allowed. */
MSVC_EXTERN void msvc_session_list_free(msvc_session_list_t *list);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_SESSION_H */
