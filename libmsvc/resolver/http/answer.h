/* answer.h - applying one upstream answer without a network (internal).
 *
 * The HTTP resolvers read an auth service's answers in http_resolver.c:
 * a GET /api/getUser/:id answer (individual strategy) or a POST
 * /api/getUsers answer (batch and cached strategies) is checked and
 * applied to the lookups it was for, and the lookups are then placed into
 * the caller's slots.  This entry runs exactly that code (the same
 * lookups, jobs, apply and place steps a resolve() call runs after its
 * transfer) on a status and body given by the caller, so that tests and
 * the fuzzing harness (tests/fuzz/fuzz_resolver_answer.c) can feed it
 * arbitrary answers.  It is not exported from libmsvc-http.
 */
#ifndef MSVC_RESOLVER_HTTP_ANSWER_H
#define MSVC_RESOLVER_HTTP_ANSWER_H

#include <stddef.h>

#include "msvc/common.h"
#include "msvc/user.h"

/* Treats (status, body[0..len)) as the answer to every request that
 * resolving ids[0..n) sends (batch: the batch strategy's POSTs, else the
 * individual strategy's GETs), then fills out[0..n) as resolve() would:
 * 0, MSVC_EUNAVAIL when some lookup was not answered (the answered slots
 * stay filled), MSVC_ENOMEM.  body must be NUL-terminated at len, as the
 * transport's responses are; out[i] are zeroed users (or NULL slots). */
int msvc__http_resolver_apply_answer(const msvc_id_t *ids, size_t n, int batch,
                                     int status, const char *body, size_t len,
                                     msvc_user_t *const *out);

#endif
