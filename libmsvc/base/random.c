/* random.c - cryptographically random bytes from the kernel (getrandom),
 * for salts, secrets, ids and tokens.  Never a userspace PRNG. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "internal.h"

int msvc__random_bytes(void *buf, size_t n) {
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      return MSVC_EIO;
    }
    p += got;
    n -= (size_t)got;
  }
  return 0;
}

int msvc__random_hex(char *out, size_t n) {
  unsigned char raw[64];
  out[0] = '\0';
  while (n > 0) {
    size_t chunk = n < sizeof(raw) ? n : sizeof(raw);
    int rc = msvc__random_bytes(raw, chunk);
    if (rc != 0)
      return rc;
    msvc__hex_encode(raw, chunk, out);
    explicit_bzero(raw, chunk); /* the digits may be a secret */
    out += 2 * chunk;
    n -= chunk;
  }
  return 0;
}
