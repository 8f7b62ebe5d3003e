/* proxies.c - trusted proxy networks and the client behind them.
 *
 * Addresses are kept as 16 bytes (IPv4 as IPv4-mapped IPv6) with a prefix
 * length, so one comparison serves both families and an IPv4 peer seen on
 * a dual-stack socket (::ffff:10.0.0.1) matches a rule written 10.0.0.0/8.
 * Invalid X-Forwarded-For entries end the walk: what lies left of garbage
 * cannot be trusted, and the last good address stands.
 */
#include "proxies.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct net {
  uint8_t addr[16];
  unsigned bits; /* 0..128, over the mapped form */
} net_t;

struct msvc_proxies {
  size_t n;
  net_t nets[MSVC_PROXIES_MAX];
};

/* s[0..len) as an address in mapped form; *v4 tells the family. */
static int addr_parse(const char *s, size_t len, uint8_t out[16], int *v4) {
  char buf[INET6_ADDRSTRLEN + 1];
  struct in_addr a4;
  if (len == 0 || len >= sizeof(buf))
    return -1;
  memcpy(buf, s, len);
  buf[len] = '\0';
  if (inet_pton(AF_INET, buf, &a4) == 1) {
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    memcpy(out + 12, &a4, 4);
    *v4 = 1;
    return 0;
  }
  *v4 = 0;
  return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

static int net_parse(const char *s, size_t len, net_t *n) {
  const char *slash = memchr(s, '/', len);
  size_t alen = slash != NULL ? (size_t)(slash - s) : len;
  int v4;
  long bits;
  if (addr_parse(s, alen, n->addr, &v4) != 0)
    return -1;
  bits = v4 ? 32 : 128;
  if (slash != NULL) {
    char tmp[8], *end;
    size_t blen = len - alen - 1;
    if (blen == 0 || blen >= sizeof(tmp))
      return -1;
    memcpy(tmp, slash + 1, blen);
    tmp[blen] = '\0';
    bits = strtol(tmp, &end, 10);
    if (*end != '\0' || bits < 0 || bits > (v4 ? 32 : 128))
      return -1;
  }
  n->bits = (unsigned)(v4 ? bits + 96 : bits);
  return 0;
}

static int net_has(const net_t *n, const uint8_t a[16]) {
  unsigned full = n->bits / 8, rest = n->bits % 8;
  if (memcmp(n->addr, a, full) != 0)
    return 0;
  if (rest == 0)
    return 1;
  return ((n->addr[full] ^ a[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static int trusted(const msvc_proxies_t *p, const uint8_t a[16]) {
  for (size_t i = 0; p != NULL && i < p->n; i++)
    if (net_has(&p->nets[i], a))
      return 1;
  return 0;
}

static int is_space(char c) {
  return c == ' ' || c == '\t';
}

/* Trims s[0..*len) of white space in place. */
static const char *trim(const char *s, size_t *len) {
  while (*len > 0 && is_space(*s))
    s++, (*len)--;
  while (*len > 0 && is_space(s[*len - 1]))
    (*len)--;
  return s;
}

int msvc_proxies_parse(const char *list, msvc_proxies_t **out, char *errbuf,
                       size_t errlen) {
  msvc_proxies_t tmp;
  const char *s = list;
  if (out != NULL)
    *out = NULL;
  tmp.n = 0;
  if (s != NULL && *s == '\0')
    s = NULL; /* "" is the empty list, as unset is */
  while (s != NULL) {
    const char *comma = strchr(s, ',');
    size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
    const char *e = trim(s, &len);
    if (tmp.n == MSVC_PROXIES_MAX || net_parse(e, len, &tmp.nets[tmp.n]) != 0) {
      msvc__set_error(errbuf, errlen,
                      "--trusted-proxies (TRUSTED_PROXIES): \"%.*s\" is not "
                      "an address or ADDR/BITS (at most %d entries)",
                      (int)(len > 64 ? 64 : len), e, MSVC_PROXIES_MAX);
      return MSVC_ECONFIG;
    }
    tmp.n++;
    s = comma != NULL ? comma + 1 : NULL;
  }
  if (out != NULL && tmp.n > 0) {
    *out = malloc(sizeof(tmp));
    if (*out == NULL)
      return MSVC_ENOMEM;
    **out = tmp;
  }
  return 0;
}

void msvc_proxies_free(msvc_proxies_t *p) {
  free(p);
}

int msvc_proxies_any(const msvc_proxies_t *p) {
  return p != NULL && p->n > 0;
}

/* The mapped address back as text: a.b.c.d for IPv4. */
static void addr_format(const uint8_t a[16], char *out, size_t outlen) {
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char buf[INET6_ADDRSTRLEN];
  const char *r = memcmp(a, mapped, 12) == 0
                      ? inet_ntop(AF_INET, a + 12, buf, sizeof(buf))
                      : inet_ntop(AF_INET6, a, buf, sizeof(buf));
  if (r != NULL && strlen(buf) < outlen)
    memcpy(out, buf, strlen(buf) + 1);
}

void msvc_proxies_client(const msvc_proxies_t *p, const char *peer,
                         const char *xff, size_t xff_len, char *out,
                         size_t outlen) {
  uint8_t a[16], best[16];
  int v4, have = 0;
  size_t end = xff_len;
  if (outlen == 0)
    return;
  snprintf(out, outlen, "%s", peer != NULL ? peer : "");
  if (xff == NULL || peer == NULL ||
      addr_parse(peer, strlen(peer), a, &v4) != 0 || !trusted(p, a))
    return;
  /* Right to left: skip trusted hops; the first other address is it. */
  while (end > 0) {
    size_t start = end, len;
    const char *e;
    while (start > 0 && xff[start - 1] != ',')
      start--;
    len = end - start;
    e = trim(xff + start, &len);
    if (addr_parse(e, len, a, &v4) != 0)
      break;
    memcpy(best, a, 16);
    have = 1;
    if (!trusted(p, a))
      break;
    end = start > 0 ? start - 1 : 0;
  }
  if (have)
    addr_format(best, out, outlen);
}
