"""The login throttle and the rate limit across instances (issue 11).

Two msvc-server processes on one SQLite file, both trusting 127.0.0.1 as
a proxy, so that X-Forwarded-For stands for distinct client addresses:
- a client that used up its failed logins for an account on one instance
  gets 429 (with Retry-After) on the other, even with the right password,
  and still after both restart; the owner at another address logs in;
- the login throttle is per (account, address): the locked-out client
  still logs in to its own account;
- --rate-limit: past the burst an address gets 429 with Retry-After on
  register, login and refresh while another address does not; per
  instance by default, shared through the store with --rate-limit-shared;
- an X-Forwarded-For from an address that is not a trusted proxy is
  ignored: the socket's address is the client (100 spoofed entries too);
- /metrics counts the refusals.
msvc-server only (MSVC_DEPLOY=server); FerretDB runs the same store code
through the store conformance suite and the cluster test.
"""

import os
import shutil
import tempfile
import unittest

import harness as h


class TwoInstances(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if h.DEPLOY != "server":
            raise unittest.SkipTest("only for MSVC_DEPLOY=server")
        if h.missing_binaries("server"):
            h.skip_missing("msvc-server not built")

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="msvc-http-guard-")
        self.db = h.fresh_database_url(self.tmp, "shared")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result else 0
        out = super().run(result)
        if result is not None and \
                len(result.failures) + len(result.errors) > before:
            for p in getattr(self, "procs", []):
                print(p.log_tail())
        return out

    def start(self, **extra):
        env = {"DATA_DIR": os.path.join(self.tmp, "data"),
               "DATABASE_URL": self.db, "PASSWORD_COST": "4",
               "JWT_SECRET": h.TEST_SECRET, "TRUSTED_PROXIES": "127.0.0.1"}
        env.update(extra)
        p = h.Proc("msvc-server-%d" % (len(self.procs) + 1), h.SERVER_BIN,
                   self.tmp, env)
        self.procs.append(p)
        p.start_retrying()
        return p

    @staticmethod
    def login(p, email, password, client):
        return h.request(p.url, "POST", "/api/login",
                         {"email": email, "password": password},
                         headers={"X-Forwarded-For": client})

    def register(self, p, client="192.0.2.1"):
        email = h.unique_email("guard")
        r = h.request(p.url, "POST", "/api/register",
                      {"name": "Guarded", "email": email,
                       "password": h.PASSWORD},
                      headers={"X-Forwarded-For": client})
        self.assertEqual(r.status, 201, r)
        return email

    def test_lockout_follows_the_client_across_instances(self):
        a, b = self.start(), self.start()
        victim, own = self.register(a), self.register(a)
        attacker, owner = "203.0.113.66", "198.51.100.7"
        for i in range(5):
            r = self.login(a if i % 2 else b, victim, "wrong-password", attacker)
            self.assertEqual(r.status, 401, r)
        for p in (a, b):
            r = self.login(p, victim, h.PASSWORD, attacker)
            self.assertEqual(r.status, 429, r)
            self.assertGreaterEqual(int(r.header("Retry-After")), 1)
        r = self.login(b, victim, h.PASSWORD, owner)
        self.assertEqual(r.status, 200, r)
        r = self.login(b, own, h.PASSWORD, attacker)
        self.assertEqual(r.status, 200, r)
        # The counts are in the store: a restart does not lift them.
        a.stop()
        b.stop()
        a.start()
        r = self.login(a, victim, h.PASSWORD, attacker)
        self.assertEqual(r.status, 429, r)
        metrics = h.request(a.url, "GET", "/metrics", check=False).body
        self.assertIn(b'msvc_logins_total{result="throttled"} 1', metrics)

    def test_untrusted_forwarded_for_is_ignored(self):
        # Only 10.0.0.0/8 is trusted: the loopback peer is the client,
        # whatever it forwards, so spoofing cannot dodge the lockout.
        p = self.start(TRUSTED_PROXIES="10.0.0.0/8")
        victim = self.register(p)
        for i in range(5):
            r = self.login(p, victim, "wrong-password", "203.0.113.%d" % i)
            self.assertEqual(r.status, 401, r)
        spoof = ", ".join("198.51.100.%d" % i for i in range(100))
        r = self.login(p, victim, h.PASSWORD, spoof)
        self.assertEqual(r.status, 429, r)

    def burst(self, p, client, n):
        """n registrations from client: the statuses."""
        out = []
        for _ in range(n):
            r = h.request(p.url, "POST", "/api/register",
                          {"name": "Rate", "email": h.unique_email("rate"),
                           "password": h.PASSWORD},
                          headers={"X-Forwarded-For": client})
            out.append(r.status)
            if r.status == 429:
                self.assertGreaterEqual(int(r.header("Retry-After")), 1)
        return out

    def test_rate_limit_per_instance(self):
        p = self.start(RATE_LIMIT="1", RATE_LIMIT_BURST="3")
        self.assertEqual(self.burst(p, "203.0.113.10", 4), [201, 201, 201, 429])
        self.assertEqual(self.burst(p, "203.0.113.11", 1), [201])
        r = h.request(p.url, "POST", "/api/token/refresh",
                      {"refresh_token": "x" * 40},
                      headers={"X-Forwarded-For": "203.0.113.10"})
        self.assertEqual(r.status, 429, r)
        r = self.login(p, "nobody@example.com", "whatever-pass", "203.0.113.10")
        self.assertEqual(r.status, 429, r)
        metrics = h.request(p.url, "GET", "/metrics", check=False).body
        self.assertIn(b"msvc_rate_limited_total 3", metrics)
        # Per instance: another instance has its own buckets.
        q = self.start(RATE_LIMIT="1", RATE_LIMIT_BURST="3")
        self.assertEqual(self.burst(q, "203.0.113.10", 1), [201])

    def test_rate_limit_shared(self):
        env = {"RATE_LIMIT": "1", "RATE_LIMIT_BURST": "3",
               "RATE_LIMIT_SHARED": "1"}
        a, b = self.start(**env), self.start(**env)
        self.assertEqual(self.burst(a, "203.0.113.20", 2), [201, 201])
        self.assertEqual(self.burst(b, "203.0.113.20", 2), [201, 429])
        self.assertEqual(self.burst(a, "203.0.113.20", 1), [429])
        self.assertEqual(self.burst(b, "203.0.113.21", 1), [201])


if __name__ == "__main__":
    unittest.main()
