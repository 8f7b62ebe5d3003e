/* proxies.h - which peers may say who the client is (X-Forwarded-For).
 *
 * Behind a load balancer every connection comes from the balancer; the
 * client's own address is in the X-Forwarded-For header it adds.  Anybody
 * can send that header, so it is believed only from configured proxies
 * (--trusted-proxies): the client is the peer unless the peer is trusted,
 * and then the rightmost address of the header that is not a trusted proxy
 * (each proxy appends the address it saw, so entries left of an untrusted
 * one may be forged).  When every entry is trusted, the leftmost is it.
 */
#ifndef MSVC_SERVER_PROXIES_H
#define MSVC_SERVER_PROXIES_H

#include <stddef.h>

#define MSVC_PROXIES_MAX 64

typedef struct msvc_proxies msvc_proxies_t;

/* Parses "ADDR[/BITS][,...]" (IPv4 or IPv6 addresses, optional prefix
 * lengths, white space around entries allowed); NULL or "" is the empty
 * list.  *out may be NULL to only check.  0, MSVC_ECONFIG with the reason
 * in errbuf, or MSVC_ENOMEM. */
int msvc_proxies_parse(const char *list, msvc_proxies_t **out, char *errbuf,
                       size_t errlen);
void msvc_proxies_free(msvc_proxies_t *p);

/* 1 when the list is not empty. */
int msvc_proxies_any(const msvc_proxies_t *p);

/* The client's address given the peer's (numeric, NUL-terminated) and the
 * X-Forwarded-For value xff[0..xff_len) (NULL for none): copied into out
 * (outlen bytes), normalised as inet_ntop writes it.  out is the peer when
 * it is not trusted or the header has no usable entry. */
void msvc_proxies_client(const msvc_proxies_t *p, const char *peer,
                         const char *xff, size_t xff_len, char *out,
                         size_t outlen);

#endif
