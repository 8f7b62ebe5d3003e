/* fuzz_resolver_answer.c - what an auth service answers the HTTP user
 * resolver, applied by the resolver's own code without a network
 * (msvc__http_resolver_apply_answer, libmsvc/resolver/http/answer.h).
 *
 * Input: byte 0 picks the strategy's request (bit 0: the batch POST
 * /api/getUsers, else one GET /api/getUser/:id per id) and how many of the
 * ids below are asked (bits 1-2); byte 1 picks the HTTP status from a
 * table (mostly 200, also 404, 5xx, 4xx and nonsense); the rest is the
 * response body.  The ids asked include the same id in two cases and one
 * that is not an id.  Invariants (the resolver's, see http_resolver.c):
 * the codes are the documented ones; a slot is filled only with a user
 * carrying exactly the slot's id (lower-cased), a name and an email; a
 * slot for a non-id stays empty; two slots for one id agree; nothing is
 * filled unless the status was 200.
 */
#include <strings.h>

#include "fuzz.h"
#include "internal.h"
#include "resolver/http/answer.h"

static const char *const asked[] = {
    "65b3a1f2c9e77a0012345678", "65B3A1F2C9E77A0012345678",
    "0123456789abcdef01234567", "not-an-id-at-all-0000000",
    "ffffffffffffffffffffffff"};
#define NASKED (sizeof(asked) / sizeof(asked[0]))

static const int statuses[16] = {200, 200, 200, 200, 200, 200, 200, 404,
                                 500, 503, 401, 408, 429, 302, 0,   999};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  msvc_id_t ids[NASKED];
  msvc_user_t *users[NASKED];
  size_t n;
  int batch, status, rc;
  char *body;
  if (size < 2)
    return 0;
  batch = data[0] & 1;
  n = 2 + ((data[0] >> 1) & 3); /* 2 to 5 ids */
  status = statuses[data[1] & 15];
  body = fuzz_strndup(data + 2, size - 2); /* NUL-terminated, as responses */
  for (size_t i = 0; i < n; i++) {
    memset(&ids[i], 0, sizeof(ids[i]));
    memcpy(ids[i].hex, asked[i], MSVC_ID_LEN);
    FUZZ_CHECK(msvc_user_new(&users[i]) == 0);
  }
  rc = msvc__http_resolver_apply_answer(ids, n, batch, status, body, size - 2,
                                        users);
  FUZZ_CHECK(rc == 0 || rc == MSVC_EUNAVAIL || rc == MSVC_ENOMEM);
  for (size_t i = 0; i < n; i++) {
    const msvc_user_t *u = users[i];
    if (u->id[0] == '\0')
      continue;
    FUZZ_CHECK(rc != MSVC_ENOMEM && status == 200);
    FUZZ_CHECK(msvc_id_valid(asked[i], strlen(asked[i])));
    FUZZ_CHECK(strcasecmp(u->id, asked[i]) == 0);
    for (const char *p = u->id; *p; p++)
      FUZZ_CHECK(!(*p >= 'A' && *p <= 'Z'));
    FUZZ_CHECK(u->name != NULL && u->name[0] != '\0');
    FUZZ_CHECK(u->email != NULL && u->email[0] != '\0');
    for (size_t j = 0; j < i; j++)
      if (users[j]->id[0] != '\0' && strcmp(users[j]->id, u->id) == 0)
        FUZZ_CHECK(strcmp(users[j]->name, u->name) == 0 &&
                   strcmp(users[j]->email, u->email) == 0);
  }
  for (size_t i = 0; i < n; i++)
    msvc_user_free(users[i]);
  free(body);
  return 0;
}
