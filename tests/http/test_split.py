"""The split deployment only: authors resolved over HTTP, failures of the
auth processes (one down, both down, back again), request ids in the logs,
and msvc-post in front of auth stand-ins that hang, babble, fail or lie."""

import http.server
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import unittest
import uuid

import harness as h
from harness import DeployedTestCase, request

WARNING = '199 - "user details unavailable"'
DEADLINE = 5.0  # generous: the configured upstream deadline is 1 s


def public(u):
    return {"id": u["id"], "name": u["name"], "email": u["email"]}


class SplitFaults(DeployedTestCase):
    REQUIRES_MODE = "split"
    # Cached authors expire quickly, so every strategy really asks auth.
    POST_ENV = {"CACHE_TTL": "1"}

    def tearDown(self):
        for p in self.dep.auth_procs:
            if not p.alive():
                p.start()

    def assertFull(self, resp):
        self.assertEqual(resp.status, 200, resp)
        self.assertNotIn("degraded", resp.json)
        self.assertIsNone(resp.header("Warning"))
        for p in resp.json.get("posts", []):
            self.assertIsNotNone(p["user"], p)
            self.assertEqual(p["user"]["id"], p["user_id"])

    def test_posts_show_authors_from_auth(self):
        # Registered through the second auth process, listed by msvc-post.
        u = self.register(name="Remote Author", url=self.dep.auth_urls[-1])
        token = self.login(u["email"], url=self.dep.auth_urls[0])
        p = self.create_post(token, "remote", "post")
        time.sleep(1.2)
        r = self.post("GET", "/api/posts?user_id=" + u["id"])
        self.assertFull(r)
        self.assertEqual(r.json["posts"][0]["user"], public(u))
        r = self.post("GET", "/api/posts/" + p["id"])
        self.assertEqual(r.json["post"]["user"], public(u))
        r = self.post("GET", "/api/post?limit=100")
        got = [x for x in r.json["postWithUsers"] if x["id"] == p["id"]]
        self.assertEqual(got[0]["user"], public(u))

    def test_request_id_reaches_the_auth_log(self):
        u = self.new_user("Traced")
        self.create_post(u["token"], "traced", "post")
        time.sleep(1.2)  # past CACHE_TTL: the next listing asks auth
        rid = "http-suite-" + uuid.uuid4().hex
        r = self.post("GET", "/api/posts?user_id=" + u["id"],
                      headers={"X-Request-Id": rid})
        self.assertFull(r)

        def logged():
            return any(rid in p.log_text() for p in self.dep.auth_procs)
        self.assertTrue(h.poll(logged, 10), "request id %s not in any auth "
                        "process's log" % rid)
        self.assertTrue(h.poll(lambda: rid in self.dep.post_proc.log_text(),
                               10), "request id not in msvc-post's log")

    def test_kill_one_auth_under_load(self):
        users = [self.new_user("Load %d" % i) for i in range(6)]
        for u in users:
            self.create_post(u["token"], "load", "c")
        stop = threading.Event()
        bad = []
        done = [0]

        def load(i):
            while not stop.is_set():
                try:
                    r = request(self.post_url, "GET", "/api/posts?limit=20")
                    if r.status != 200 or "degraded" in r.json or \
                            r.header("Warning") or \
                            any(p["user"] is None for p in r.json["posts"]):
                        bad.append(r)
                    done[0] += 1
                except BaseException as e:
                    bad.append(e)
                    return
        threads = [threading.Thread(target=load, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            before = done[0]
            self.dep.auth_procs[0].kill()
            time.sleep(3.5)  # several cache lifetimes with one auth down
            after = done[0]
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(bad, [])
        self.assertGreater(after, before, "no request completed after kill")

    def test_both_auth_down_then_back(self):
        u = self.new_user("Survivor")
        p = self.create_post(u["token"], "before outage", "c")
        for proc in self.dep.auth_procs:
            proc.kill()
        time.sleep(1.5)  # cached authors expire (CACHE_TTL=1)

        t0 = time.monotonic()
        r = self.post("GET", "/api/posts?limit=20")
        elapsed = time.monotonic() - t0
        self.assertEqual(r.status, 200, r)
        self.assertLess(elapsed, DEADLINE)
        self.assertIs(r.json.get("degraded"), True, r)
        self.assertEqual(r.header("Warning"), WARNING)
        self.assertTrue(r.json["posts"])
        for x in r.json["posts"]:
            self.assertIsNone(x["user"])
            self.assertEqual(set(x), h.POST_KEYS)

        t0 = time.monotonic()
        r = self.post("GET", "/api/posts/" + p["id"])
        self.assertLess(time.monotonic() - t0, DEADLINE)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.json["post"]["user"])
        self.assertIs(r.json.get("degraded"), True)
        self.assertEqual(r.header("Warning"), WARNING)

        r = self.post("GET", "/api/post?limit=5")
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json.get("degraded"), True)

        # Writes never depend on the auth service.
        r = self.post("POST", "/api/posts", {"title": "during outage",
                                             "content": "c"},
                      token=u["token"])
        self.assertEqual(r.status, 201, r)
        during = r.json["post"]
        self.assertEqual(during["user"], public(u))
        r = self.post("PUT", "/api/posts/" + during["id"],
                      {"title": "edited during outage"}, token=u["token"])
        self.assertEqual(r.status, 200, r)

        ready = h.poll(lambda: request(self.post_url, "GET",
                                       "/readyz").status == 503, 15)
        self.assertTrue(ready, "msvc-post /readyz not 503 with no auth")
        self.assertAlive(self.post_url)

        # One auth process back: full answers, without restarting msvc-post.
        self.dep.auth_procs[1].start()

        def full():
            r = request(self.post_url, "GET", "/api/posts?limit=20")
            return (r.status == 200 and "degraded" not in r.json and
                    all(x["user"] for x in r.json["posts"])) and r
        r = h.poll(full, 30)
        self.assertTrue(r, "no full answer 30 s after an auth came back")
        ids = {x["id"]: x for x in r.json["posts"]}
        self.assertEqual(ids[during["id"]]["user"], public(u))
        self.assertEqual(ids[during["id"]]["title"], "edited during outage")
        ok = h.poll(lambda: request(self.post_url, "GET",
                                    "/readyz").status == 200, 30)
        self.assertTrue(ok, "msvc-post /readyz not 200 after auth came back")


# ---- auth stand-ins ------------------------------------------------------

class StandIn:
    """A fake auth service on a free port: "hang" accepts and never answers,
    "garbage" answers bytes that are not HTTP, "error" answers 500 with
    JSON, "liar" answers 200 with a user whose id was not asked for."""

    def __init__(self, mode):
        self.mode = mode
        self.port = h.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.auth_headers = []
        self.requests = 0
        self.stop_event = threading.Event()
        self.held = []
        self.server = None
        self.thread = None

    def start(self):
        if self.mode in ("hang", "garbage"):
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.bind(("127.0.0.1", self.port))
            self.sock.listen(128)
            self.sock.settimeout(0.2)
            self.thread = threading.Thread(target=self.raw_loop, daemon=True)
        else:
            standin = self

            class Handler(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"

                def log_message(self, *a):
                    pass

                def answer(self):
                    standin.requests += 1
                    standin.auth_headers.append(
                        self.headers.get("Authorization"))
                    n = int(self.headers.get("Content-Length") or 0)
                    if n:
                        self.rfile.read(n)
                    if standin.mode == "error":
                        status, body = 500, {"status": 500,
                                             "message": "boom"}
                    elif self.path.startswith("/api/getUser/"):
                        status, body = 200, {"user": standin.lie()}
                    elif self.path.startswith("/api/getUsers"):
                        status, body = 200, {"users": [standin.lie()]}
                    else:
                        status, body = 200, {"message": "It's working"}
                    data = json.dumps(body).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                do_GET = do_POST = answer

            self.server = http.server.ThreadingHTTPServer(
                ("127.0.0.1", self.port), Handler)
            self.server.daemon_threads = True
            self.thread = threading.Thread(target=self.server.serve_forever,
                                           daemon=True)
        self.thread.start()

    def lie(self):
        return {"id": "abcdefabcdefabcdefabcdef", "name": "Mallory",
                "email": "mallory@example.com"}

    def raw_loop(self):
        while not self.stop_event.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.requests += 1
            if self.mode == "hang":
                self.held.append(c)  # read nothing, answer nothing
            else:
                try:
                    c.recv(65536)
                    c.sendall(b"\x00\xffNOT HTTP AT ALL\r\n\r\n{{{{")
                except OSError:
                    pass
                c.close()

    def stop(self):
        self.stop_event.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        else:
            self.sock.close()
            for c in self.held:
                c.close()
        self.thread.join(5)


class BadUpstreams(unittest.TestCase):
    """msvc-post alone, in front of a misbehaving auth stand-in."""

    @classmethod
    def setUpClass(cls):
        if h.DEPLOY != "split":
            raise unittest.SkipTest("only for MSVC_DEPLOY=split")
        if h.missing_binaries("post"):
            h.skip_missing("msvc-post not built")

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="msvc-http-upstream-")
        self.standin = None
        self.proc = None

    def tearDown(self):
        try:
            if self.proc is not None:
                rc = self.proc.stop()
                self.assertEqual(rc, 0, "msvc-post did not exit 0 on "
                                 "SIGTERM")
        finally:
            if self.standin is not None:
                self.standin.stop()

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result else 0
        out = super().run(result)
        proc = getattr(self, "proc", None)
        if result is not None and proc is not None and \
                len(result.failures) + len(result.errors) > before:
            print(proc.log_tail())
        if getattr(self, "tmp", None):
            shutil.rmtree(self.tmp, ignore_errors=True)
        return out

    def start(self, mode):
        self.standin = StandIn(mode)
        self.standin.start()
        env = {"DATA_DIR": os.path.join(self.tmp, "data"),
               "JWT_SECRET": h.TEST_SECRET,
               "DATABASE_URL": h.fresh_database_url(self.tmp, "post"),
               "AUTH_MICRO_URL": self.standin.url,
               "USER_RESOLVER": h.RESOLVER, "ACCESS_LOG": "1"}
        os.makedirs(env["DATA_DIR"], exist_ok=True)
        self.proc = h.Proc("msvc-post", h.POST_BIN, self.tmp, env)
        self.proc.start_retrying()
        self.author = {"id": "0123456789abcdef01234567", "name": "Minted",
                       "email": "minted@example.com"}
        self.token = h.mint(h.user_claims(self.author))
        r = request(self.proc.url, "POST", "/api/posts",
                    {"title": "t", "content": "c"}, token=self.token)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["post"]["user"], self.author)
        self.post_id = r.json["post"]["id"]

    def list_within_deadline(self):
        t0 = time.monotonic()
        r = request(self.proc.url, "GET", "/api/posts")
        self.assertLess(time.monotonic() - t0, DEADLINE)
        self.assertEqual(r.status, 200, r)
        return r

    def assertDegraded(self, r):
        self.assertIs(r.json.get("degraded"), True, r)
        self.assertEqual(r.header("Warning"), WARNING)
        for p in r.json["posts"]:
            self.assertIsNone(p["user"])

    def test_auth_that_never_answers(self):
        self.start("hang")
        for _ in range(3):
            self.assertDegraded(self.list_within_deadline())
        t0 = time.monotonic()
        r = request(self.proc.url, "GET", "/api/posts/" + self.post_id)
        self.assertLess(time.monotonic() - t0, DEADLINE)
        self.assertIs(r.json.get("degraded"), True)
        self.assertTrue(h.poll(lambda: request(
            self.proc.url, "GET", "/readyz").status == 503, 15))
        r = request(self.proc.url, "POST", "/api/posts",
                    {"title": "t2", "content": "c"}, token=self.token)
        self.assertEqual(r.status, 201, r)

    def test_auth_answering_garbage(self):
        self.start("garbage")
        for _ in range(3):
            self.assertDegraded(self.list_within_deadline())
        self.assertGreater(self.standin.requests, 0)

    def test_auth_answering_500(self):
        self.start("error")
        for _ in range(3):
            self.assertDegraded(self.list_within_deadline())
        # msvc-post authenticated itself with the shared secret.
        self.assertGreater(self.standin.requests, 0)
        for authz in self.standin.auth_headers:
            self.assertIsNotNone(authz, "lookup without a credential")
            scheme, _, token = authz.partition(" ")
            self.assertEqual(scheme.lower(), "bearer")
            self.assertTrue(h.hs256_valid(token, h.TEST_SECRET), authz)

    def test_auth_that_lies_about_ids(self):
        self.start("liar")
        for _ in range(3):
            r = self.list_within_deadline()
            for p in r.json["posts"]:
                self.assertTrue(p["user"] is None or
                                p["user"]["id"] == p["user_id"], p)
                self.assertNotEqual((p["user"] or {}).get("name"), "Mallory")


if __name__ == "__main__":
    unittest.main()
