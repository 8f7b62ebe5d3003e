/* idgen.h - the ObjectId generator (internal). */
#ifndef MSVC_DOMAIN_IDGEN_H
#define MSVC_DOMAIN_IDGEN_H

#include "internal.h"

typedef struct msvc__idgen msvc__idgen_t;

/* 0, MSVC_ENOMEM or MSVC_EIO. */
int msvc__idgen_new(msvc__idgen_t **out);
/* Writes 24 lowercase hex digits and a NUL into out.  Thread-safe. */
void msvc__idgen_next(msvc__idgen_t *gen, char out[MSVC_ID_SIZE]);
void msvc__idgen_free(msvc__idgen_t *gen);

#endif
