"""Durability: restarts keep users, posts and tokens; a generated secret is
kept beside the data; kill -9 right after a 2xx write loses nothing;
SIGTERM drains the requests in flight."""

import re
import shutil
import tempfile
import threading
import time
import unittest

import harness as h
from harness import DeployedTestCase, PASSWORD


class Restart(DeployedTestCase):

    def test_restart_keeps_users_posts_and_tokens(self):
        u = self.new_user("Durable")
        p = self.create_post(u["token"], "Kept", "across restarts")
        self.dep.restart()
        r = self.auth("GET", "/api/user", token=u["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"], {k: u[k] for k in h.USER_KEYS})
        r = self.post("GET", "/api/posts/" + p["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["post"], p)
        self.login(u["email"])
        ids = [x["id"] for x in self.list_all("user_id=" + u["id"])]
        self.assertEqual(ids, [p["id"]])
        r = self.auth("POST", "/api/register",
                      {"name": "Again", "email": u["email"],
                       "password": PASSWORD})
        self.assertError(r, 409)

    def test_kill_9_right_after_writes_loses_nothing(self):
        users = [self.new_user("Crash %d" % i) for i in range(3)]
        posts = [self.create_post(users[i % 3]["token"], "crash %d" % i, "c")
                 for i in range(5)]
        r = self.auth("PUT", "/api/user", {"name": "Renamed Before Crash"},
                      token=users[0]["token"])
        self.assertEqual(r.status, 200, r)
        r = self.post("PUT", "/api/posts/" + posts[0]["id"],
                      {"title": "edited before crash"},
                      token=users[0]["token"])
        self.assertEqual(r.status, 200, r)
        edited = r.json["post"]
        r = self.post("DELETE", "/api/posts/" + posts[1]["id"],
                      token=users[1]["token"])
        self.assertEqual(r.status, 200, r)
        last_user = self.register(name="Last Words")
        last_post = self.create_post(users[2]["token"], "last", "post")
        self.dep.kill()  # SIGKILL, right after the answers
        self.dep.start()
        for u in users:
            self.login(u["email"])
        self.login(last_user["email"])
        r = self.auth("GET", "/api/user", token=users[0]["token"])
        self.assertEqual(r.json["user"]["name"], "Renamed Before Crash")
        r = self.post("GET", "/api/posts/" + posts[0]["id"])
        self.assertEqual(r.json["post"]["title"], edited["title"])
        self.assertError(self.post("GET", "/api/posts/" + posts[1]["id"]),
                         404)
        r = self.post("GET", "/api/posts/" + last_post["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["post"]["title"], "last")
        for p in posts[2:]:
            self.assertEqual(self.post("GET", "/api/posts/" + p["id"]).status,
                             200)

def secret_mode():
    return "server" if h.DEPLOY == "server" else "auth"


class GeneratedSecret(DeployedTestCase):
    """With no JWT_SECRET the service makes one and keeps it."""
    SECRET = None
    MODE = secret_mode()

    def test_generated_secret_survives_restart(self):
        log = self.dep.auth_procs[0].log_text().lower()
        self.assertIn("secret", log, "the log does not say a secret was "
                      "generated")
        u = self.new_user("No Secret")
        self.assertFalse(h.hs256_valid(u["token"], h.TEST_SECRET))
        self.dep.restart()
        r = self.auth("GET", "/api/user", token=u["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"]["id"], u["id"])
        # kill -9 as well: the secret was on disk before the first token.
        self.dep.kill()
        self.dep.start()
        r = self.auth("GET", "/api/user", token=u["token"])
        self.assertEqual(r.status, 200, r)
        # Another data directory gets another secret.
        tmp = tempfile.mkdtemp(prefix="msvc-http-secret2-")
        other = self.make_deployment(tmp)
        try:
            other.start()
            r = h.request(other.auth_url, "GET", "/api/user",
                          token=u["token"])
            self.assertEqual(r.json, {"status": 401,
                                      "message": "UnAuthorized"})
            other.stop()
        except BaseException:
            other.kill()
            other.dump_logs()
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class DefaultCost(DeployedTestCase):
    """The default password cost (bcrypt 10), as shipped; slow enough
    hashing that a SIGTERM finds registrations in flight."""
    ENV = {"PASSWORD_COST": None}

    def test_register_and_login_at_the_default_cost(self):
        u = self.new_user("Default Cost")
        r = self.auth("GET", "/api/user", token=u["token"])
        self.assertEqual(r.status, 200)
        r = self.auth("POST", "/api/login", {"email": u["email"],
                                             "password": "nope-nope-1"})
        self.assertError(r, 401, "Invalid credentials")
        r = self.auth("PUT", "/api/user",
                      {"password": "another-passw0rd",
                       "current_password": PASSWORD}, token=u["token"])
        self.assertEqual(r.status, 200, r)
        self.login(u["email"], "another-passw0rd")

    def test_sigterm_drains_requests_in_flight(self):
        """SIGTERM while registrations are in flight (the server's own
        msvc_http_requests_in_flight says so, and bcrypt at the default
        cost keeps each busy a while): every process exits 0, at least one
        write in flight at the signal is still answered 201, every 201 is
        kept, and nothing is answered but 201, 503 or a closed
        connection."""
        results = {}  # email -> (status or None, time.monotonic() answered)

        def one(i):
            email = h.unique_email("term%d" % i)
            try:
                r = h.request(self.auth_url, "POST", "/api/register",
                              {"name": "T%d" % i, "email": email,
                               "password": PASSWORD}, timeout=30)
                status = r.status
            except OSError:
                status = None
            results[email] = (status, time.monotonic())

        def in_flight():
            r = h.request(self.auth_url, "GET", "/metrics", check=False,
                          timeout=10)
            m = re.search(rb"^msvc_http_requests_in_flight (\d+)$", r.body,
                          re.M)
            self.assertIsNotNone(m, "no in-flight gauge in /metrics")
            return int(m.group(1)) - 1  # less the scrape itself

        threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        busy = h.poll(lambda: in_flight() >= 2, 20, interval=0.005)
        signalled = time.monotonic()
        # auth_procs[0] (auth_url) first: it has the requests in flight.
        rcs = [p.stop() for p in self.dep.auth_procs]
        for t in threads:
            t.join()
        self.assertTrue(busy, "no registrations in flight to drain")
        self.assertEqual(rcs, [0] * len(rcs))
        drained = [e for e, (status, at) in results.items()
                   if status == 201 and at > signalled]
        self.assertTrue(drained, "no write in flight was answered after "
                        "SIGTERM: %r" % results)
        self.dep.stop()
        self.dep.start()
        for email, (status, _) in results.items():
            self.assertIn(status, (201, 503, None), (email, status))
            if status == 201:
                self.login(email)


if __name__ == "__main__":
    unittest.main()
