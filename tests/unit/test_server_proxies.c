/* test_server_proxies.c - who the client is behind trusted proxies: the
 * peer unless it is trusted, else the rightmost X-Forwarded-For entry that
 * is not a trusted proxy; garbage stops the walk; lists that are not
 * addresses or networks are refused with the entry named. */
#include <string.h>

#include "msvc/common.h"
#include "proxies.h"
#include "testutil.h"

static char out[64];

static const char *client(const msvc_proxies_t *p, const char *peer,
                          const char *xff) {
  msvc_proxies_client(p, peer, xff, xff ? strlen(xff) : 0, out, sizeof(out));
  return out;
}

static void test_parse(void) {
  msvc_proxies_t *p = NULL;
  char err[256] = "";
  CHECK_EQ_INT(msvc_proxies_parse(NULL, &p, err, sizeof(err)), 0);
  CHECK(!msvc_proxies_any(p));
  CHECK_EQ_INT(msvc_proxies_parse("", &p, err, sizeof(err)), 0);
  CHECK(!msvc_proxies_any(p));
  CHECK_EQ_INT(msvc_proxies_parse(" 10.0.0.0/8 , ::1,192.168.1.7/32", &p, err,
                                  sizeof(err)),
               0);
  CHECK(msvc_proxies_any(p));
  msvc_proxies_free(p);
  static const char *const bad[] = {"10.0.0.0/33", "nonsense", "10.0.0.1,",
                                    "::1/129",     "1.2.3.4/", "1.2.3.4/x",
                                    ",",           "1.2.3"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    p = NULL;
    CHECK_EQ_INT(msvc_proxies_parse(bad[i], &p, err, sizeof(err)),
                 MSVC_ECONFIG);
    CHECK(p == NULL);
    CHECK(strstr(err, "TRUSTED_PROXIES") != NULL);
  }
}

static void test_client(void) {
  msvc_proxies_t *p = NULL;
  CHECK_EQ_INT(msvc_proxies_parse("127.0.0.1,10.0.0.0/8,fd00::/8", &p, NULL, 0),
               0);
  /* An untrusted peer is the client, whatever it claims. */
  CHECK_EQ_STR(client(p, "192.0.2.9", "1.2.3.4"), "192.0.2.9");
  /* Behind a trusted proxy: the entry it appended. */
  CHECK_EQ_STR(client(p, "127.0.0.1", "198.51.100.7"), "198.51.100.7");
  /* A forged entry left of the real one is ignored. */
  CHECK_EQ_STR(client(p, "127.0.0.1", "6.6.6.6, 198.51.100.7"), "198.51.100.7");
  /* Trusted hops are skipped from the right. */
  CHECK_EQ_STR(client(p, "127.0.0.1", "198.51.100.7, 10.1.2.3"),
               "198.51.100.7");
  /* All trusted: the leftmost. */
  CHECK_EQ_STR(client(p, "127.0.0.1", "10.9.9.9, 10.1.2.3"), "10.9.9.9");
  /* Garbage ends the walk at the last good address. */
  CHECK_EQ_STR(client(p, "127.0.0.1", "6.6.6.6, junk, 10.1.2.3"), "10.1.2.3");
  CHECK_EQ_STR(client(p, "127.0.0.1", "junk"), "127.0.0.1");
  CHECK_EQ_STR(client(p, "127.0.0.1", ""), "127.0.0.1");
  CHECK_EQ_STR(client(p, "127.0.0.1", NULL), "127.0.0.1");
  /* IPv6, and IPv4 seen as mapped IPv6 by a dual-stack socket. */
  CHECK_EQ_STR(client(p, "fd12::1", "2001:db8::5"), "2001:db8::5");
  CHECK_EQ_STR(client(p, "::ffff:10.0.0.1", "203.0.113.4"), "203.0.113.4");
  msvc_proxies_free(p);
  /* No list: never believed. */
  CHECK_EQ_STR(client(NULL, "127.0.0.1", "198.51.100.7"), "127.0.0.1");
}

int main(void) {
  RUN(test_parse);
  RUN(test_client);
  TEST_MAIN_END();
}
