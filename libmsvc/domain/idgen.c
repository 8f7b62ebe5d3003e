/* idgen.c - MongoDB ObjectIds for new users and posts.
 *
 * 4-byte seconds, 5 random bytes chosen when the generator is made, 3-byte
 * counter starting at a random value: the layout the seed's MongoDB driver
 * uses, so ids sort by creation second as theirs do.  The random part and
 * counter live in the generator object (one per handle): no global state.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/idgen.h"

struct msvc__idgen {
  unsigned char random[5];
  atomic_uint counter;
};

int msvc__idgen_new(msvc__idgen_t **out) {
  msvc__idgen_t *g = calloc(1, sizeof(*g));
  unsigned start;
  if (g == NULL)
    return MSVC_ENOMEM;
  if (msvc__random_bytes(g->random, sizeof(g->random)) != 0 ||
      msvc__random_bytes(&start, sizeof(start)) != 0) {
    free(g);
    return MSVC_EIO;
  }
  atomic_init(&g->counter, start);
  *out = g;
  return 0;
}

void msvc__idgen_next(msvc__idgen_t *gen, char out[MSVC_ID_SIZE]) {
  unsigned char raw[12];
  uint32_t secs = (uint32_t)time(NULL);
  uint32_t count = atomic_fetch_add(&gen->counter, 1u) & 0xffffffu;
  raw[0] = (unsigned char)(secs >> 24);
  raw[1] = (unsigned char)(secs >> 16);
  raw[2] = (unsigned char)(secs >> 8);
  raw[3] = (unsigned char)secs;
  memcpy(raw + 4, gen->random, 5);
  raw[9] = (unsigned char)(count >> 16);
  raw[10] = (unsigned char)(count >> 8);
  raw[11] = (unsigned char)count;
  msvc__hex_encode(raw, sizeof(raw), out);
}

void msvc__idgen_free(msvc__idgen_t *gen) {
  free(gen);
}
