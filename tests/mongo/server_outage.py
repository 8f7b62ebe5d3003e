#!/usr/bin/env python3
"""server_outage.py - msvc-server on MongoDB while the database dies and
comes back.

    server_outage.py FERRETDB_SH DIR MSVC_SERVER

Runs its own FerretDB in DIR through the fixture script (so killing it
disturbs no other test) and one msvc-server on it with a 1 s store
deadline, then checks, over real HTTP:
  - with the database killed (SIGKILL), reads and writes answer 503 rather
    than hang, each within OUTAGE_DEADLINE (3 x STORE_TIMEOUT_MS + 2 s: a
    deadline guarantee, generous for busy and sanitizer builds, not a
    performance figure), /readyz turns 503, /healthz stays 200, the
    process stays up and nothing it answers leaks a hash (harness.request
    checks that);
  - with the database restarted on the same port and data, requests
    succeed again without restarting msvc-server, and what was written
    before the outage is all there.
Exit 0 on success, 1 on failure, 77 (or 1 with CI=true) when FerretDB
cannot be had, as the fixture script says.
"""

import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))

import harness  # noqa: E402

STORE_TIMEOUT_MS = 1000
# A call during the outage answers within a small multiple of the store
# deadline (a request may make a few store calls, each bounded).
OUTAGE_DEADLINE = 3 * STORE_TIMEOUT_MS / 1000.0 + 2.0
CLIENT_TIMEOUT = 15.0  # far above OUTAGE_DEADLINE: a hang shows as one


def ferretdb(script, verb, directory):
    """Runs `ferretdb.sh verb DIR`; returns its stdout, exits on 77."""
    p = subprocess.run([script, verb, directory], stdout=subprocess.PIPE,
                       text=True)
    if p.returncode == 77:
        sys.exit(77)
    if p.returncode != 0:
        raise RuntimeError("ferretdb.sh %s failed (%d)" % (verb, p.returncode))
    return p.stdout.strip()


def with_database(url, name):
    u = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query,
                                    u.fragment))


class ServerOutage(unittest.TestCase):
    script = directory = server_bin = None

    def setUp(self):
        url = ferretdb(self.script, "start", self.directory)
        self.work = tempfile.mkdtemp(prefix="msvc-outage-")
        self.proc = harness.Proc("msvc-server", self.server_bin, self.work, {
            "DATABASE_URL": with_database(url, "outage"),
            "JWT_SECRET": harness.TEST_SECRET,
            "STORE_TIMEOUT_MS": STORE_TIMEOUT_MS,
            "DATA_DIR": self.work})
        self.proc.start_retrying()

    def tearDown(self):
        code = self.proc.stop()
        ferretdb(self.script, "stop", self.directory)
        if code != 0 or sys.exc_info()[0] is not None:
            print(self.proc.log_tail(60), file=sys.stderr)
        self.assertEqual(code, 0, "msvc-server did not exit cleanly")

    def call(self, method, path, body=harness._NO_BODY, token=None,
             deadline=None):
        """One request; with `deadline` (seconds), asserts the answer came
        within it."""
        t0 = time.monotonic()
        r = harness.request(self.proc.url, method, path, body, token=token,
                            timeout=CLIENT_TIMEOUT)
        took = time.monotonic() - t0
        print("  %s %s -> %d in %.0f ms" % (method, path, r.status,
                                             took * 1000))
        if deadline is not None:
            self.assertLessEqual(
                took, deadline, "%s %s took %.1f s, over the %.1f s deadline "
                "(STORE_TIMEOUT_MS=%d)" % (method, path, took, deadline,
                                           STORE_TIMEOUT_MS))
        return r

    def write_some(self):
        email = harness.unique_email("outage")
        r = self.call("POST", "/api/register", {
            "name": "Outage", "email": email, "password": harness.PASSWORD})
        self.assertEqual(r.status, 201, r)
        r = self.call("POST", "/api/login", {
            "email": email, "password": harness.PASSWORD})
        self.assertEqual(r.status, 200, r)
        token = r.json["access_token"].split(" ", 1)[1]
        ids = []
        for i in range(3):
            r = self.call("POST", "/api/posts", {
                "title": "before %d" % i, "content": "kept"}, token)
            self.assertEqual(r.status, 201, r)
            ids.append(r.json["post"]["id"])
        return email, token, ids

    def test_outage_and_recovery(self):
        email, token, ids = self.write_some()

        ferretdb(self.script, "kill", self.directory)
        for method, path, body in (
                ("GET", "/api/posts", harness._NO_BODY),
                ("GET", "/api/posts/" + ids[0], harness._NO_BODY),
                ("POST", "/api/posts", {"title": "t", "content": "c"}),
                ("POST", "/api/login", {"email": email,
                                        "password": harness.PASSWORD}),
                ("GET", "/readyz", harness._NO_BODY)):
            r = self.call(method, path, body, token,
                          deadline=OUTAGE_DEADLINE)
            self.assertEqual(r.status, 503, "%s %s: %r" % (method, path, r))
        self.assertEqual(self.call("GET", "/healthz",
                                   deadline=OUTAGE_DEADLINE).status, 200)
        self.assertTrue(self.proc.alive(), "msvc-server died in the outage")

        ferretdb(self.script, "restart", self.directory)
        back = harness.poll(lambda: self.call("GET", "/api/posts?limit=100")
                            .status == 200, 30, interval=0.5)
        self.assertTrue(back, "GET /api/posts not 200 after the database "
                        "came back")
        listed = self.call("GET", "/api/posts?limit=100").json["posts"]
        self.assertEqual({p["id"] for p in listed} & set(ids), set(ids))
        self.assertEqual(self.call("GET", "/readyz").status, 200)
        r = self.call("POST", "/api/login", {"email": email,
                                             "password": harness.PASSWORD})
        self.assertEqual(r.status, 200, r)
        r = self.call("POST", "/api/posts", {"title": "after",
                                             "content": "c"}, token)
        self.assertEqual(r.status, 201, r)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    ServerOutage.script, ServerOutage.directory, ServerOutage.server_bin = \
        sys.argv[1:4]
    os.makedirs(ServerOutage.directory, exist_ok=True)
    result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
