/* call.c - reading the caller's size-prefixed structs, and emptying
 * records in place.
 *
 * These live in base/ (not domain/) because the modules need them too and
 * modules see only libmsvc's exported symbols: each shared library gets
 * its own hidden copy.  A caller's struct is read only as far as both its
 * size and ours reach, so a program built against an older header (smaller
 * struct) or a newer one (larger) is served correctly.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* 1 when a call struct of the caller's size has the member ending at
 * `end` bytes. */
static int call_has(const msvc_call_t *call, size_t end) {
  return call != NULL && call->size >= end;
}

unsigned msvc__call_flags(const msvc_call_t *call) {
  if (!call_has(call, offsetof(msvc_call_t, flags) + sizeof(call->flags)))
    return 0;
  return call->flags;
}

const char *msvc__call_request_id(const msvc_call_t *call) {
  if (!call_has(call,
                offsetof(msvc_call_t, request_id) + sizeof(call->request_id)))
    return NULL;
  return call->request_id;
}

const char *msvc__call_user_agent(const msvc_call_t *call) {
  if (!call_has(call,
                offsetof(msvc_call_t, user_agent) + sizeof(call->user_agent)))
    return NULL;
  return call->user_agent;
}

const char *msvc__call_client_ip(const msvc_call_t *call) {
  if (!call_has(call,
                offsetof(msvc_call_t, client_ip) + sizeof(call->client_ip)))
    return NULL;
  return call->client_ip;
}

const char *msvc__call_session_id(const msvc_call_t *call) {
  if (!call_has(call,
                offsetof(msvc_call_t, session_id) + sizeof(call->session_id)))
    return NULL;
  return call->session_id != NULL && call->session_id[0] != '\0'
             ? call->session_id
             : NULL;
}

int msvc__copy_sized(void *dst, size_t dst_size, const void *src) {
  size_t src_size;
  if (src == NULL)
    return 0;
  memcpy(&src_size, src, sizeof(src_size));
  if (src_size < sizeof(size_t) || src_size > 65536)
    return MSVC_EINVAL;
  if (src_size > dst_size)
    src_size = dst_size; /* fields of a newer header we do not know */
  memcpy((char *)dst + sizeof(size_t), (const char *)src + sizeof(size_t),
         src_size - sizeof(size_t));
  return 0;
}

void msvc__user_reset(msvc_user_t *u) {
  free(u->name);
  free(u->email);
  memset(u, 0, sizeof(*u));
}

void msvc__post_reset(msvc_post_t *p) {
  free(p->title);
  free(p->content);
  memset(p, 0, sizeof(*p));
}

void msvc__session_reset(msvc_session_t *s) {
  free(s->user_agent);
  free(s->ip);
  memset(s, 0, sizeof(*s));
}
