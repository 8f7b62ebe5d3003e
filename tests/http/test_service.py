"""Service routes, routing (404/405), configuration by flags and --help."""

import http.client
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness as h
from harness import DeployedTestCase, request

AUTH_ROUTES = {  # path -> methods the contract serves there
    "/api/register": {"POST"},
    "/api/login": {"POST"},
    "/api/user": {"GET", "PUT"},
    "/api/getUser/65b3a1f2c9e77a0012345678": {"GET"},
    "/api/getUsers": {"POST"},
    "/api/auth/register": {"POST"},
    "/api/auth/login": {"POST"},
    "/api/auth/user": {"GET"},
}
POST_ROUTES = {
    "/api/posts": {"GET", "POST"},
    "/api/posts/65b3a27bc9e77a0012345679": {"GET", "PUT", "DELETE"},
    "/api/post": {"GET", "POST"},
}
SERVICE_ROUTES = {"/": {"GET"}, "/healthz": {"GET"}, "/readyz": {"GET"}}
PROBE_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


class ServiceRoutes(DeployedTestCase):

    def test_root_identifies_every_process(self):
        for p in self.dep.procs:
            r = request(p.url, "GET", "/")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(set(r.json), {"message", "service", "version"})
            self.assertTrue(r.json["message"].startswith("It's working"),
                            r.json)
            self.assertIsInstance(r.json["service"], str)
            self.assertTrue(r.json["service"])
            self.assertRegex(r.json["version"], r"^\d+\.\d+\.\d+$")

    def test_healthz_and_readyz_of_every_process(self):
        for p in self.dep.procs:
            for path in ("/healthz", "/readyz"):
                r = request(p.url, "GET", path)
                self.assertEqual(r.status, 200, (p.name, path, r))

    def test_unknown_routes_are_404(self):
        paths = ["/nope", "/api", "/api/", "/api/nope", "/api/userx",
                 "/api/user/extra", "/api/getUser", "/healthzz",
                 "/readyz/x", "/api/posts/65b3a27bc9e77a0012345679/comments",
                 "/api/postsx", "/api/auth", "/api/auth/nope",
                 "/api/getUsers/x"]
        for url in {self.auth_url, self.post_url}:
            for path in paths:
                r = request(url, "GET", path)
                self.assertError(r, 404)
        for path in ("/api/login/abc", "/api/registerx", "/api/register/x"):
            r = self.auth("POST", path, {"email": "a@example.com",
                                         "password": "whatever1"})
            self.assertError(r, 404)

    def _check_405(self, url, routes):
        for path, allowed in routes.items():
            for method in PROBE_METHODS:
                if method in allowed:
                    continue
                r = request(url, method, path)
                self.assertError(r, 405)
                allow = r.header("Allow")
                self.assertIsNotNone(allow, "405 without Allow: %s %s"
                                     % (method, path))
                got = {m.strip().upper() for m in allow.split(",")
                       if m.strip()}
                self.assertTrue(allowed <= got, (method, path, allow))
                self.assertNotIn(method, got, (method, path, allow))

    def test_wrong_methods_are_405_with_allow(self):
        self._check_405(self.auth_url, AUTH_ROUTES)
        self._check_405(self.post_url, POST_ROUTES)
        for p in self.dep.procs:
            self._check_405(p.url, SERVICE_ROUTES)

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        """Four requests, four right answers, all on one TCP connection:
        the client's end keeps its local port throughout (http.client
        would silently reconnect if the server closed it)."""
        port = int(self.post_url.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        ends = []
        try:
            for path, status in (("/healthz", 200), ("/api/posts?limit=1",
                                                     200), ("/", 200),
                                 ("/nope", 404)):
                conn.request("GET", path)
                ends.append(conn.sock.getsockname())
                r = conn.getresponse()
                body = r.read()
                self.assertEqual(r.status, status, (path, body))
                self.assertNotEqual((r.getheader("Connection") or "").lower(),
                                    "close", path)
                self.assertIsNotNone(conn.sock, "closed after " + path)
                self.assertEqual(conn.sock.getsockname(), ends[0], path)
        finally:
            conn.close()
        self.assertEqual(ends, [ends[0]] * 4, "not one connection")


class SplitRoles(DeployedTestCase):
    """Each split service serves its own role's routes only."""
    REQUIRES_MODE = "split"

    def test_post_service_does_not_serve_auth_routes(self):
        r = self.post("POST", "/api/register", {"name": "X",
                                                "email": h.unique_email(),
                                                "password": h.PASSWORD})
        self.assertError(r, 404)

    def test_auth_service_does_not_serve_post_routes(self):
        r = self.auth("GET", "/api/posts")
        self.assertError(r, 404)


class Configuration(unittest.TestCase):
    """--help and configuration through flags alone (no environment)."""

    def binaries(self):
        if h.DEPLOY == "server":
            names = [("msvc-server", h.SERVER_BIN)]
        else:
            names = [("msvc-auth", h.AUTH_BIN), ("msvc-post", h.POST_BIN)]
        found = [(n, b) for n, b in names if b and os.access(b, os.X_OK)]
        if len(found) != len(names):
            h.skip_missing("executables not built")
        return found

    def clean_env(self):
        return {k: v for k, v in os.environ.items() if k not in h.CONFIG_VARS}

    def test_help_lists_every_seed_variable(self):
        for name, binary in self.binaries():
            out = subprocess.run([binary, "--help"], env=self.clean_env(),
                                 capture_output=True, timeout=30)
            self.assertEqual(out.returncode, 0, out)
            text = (out.stdout + out.stderr).decode("utf-8", "replace")
            want = ["PORT", "DATABASE_URL", "JWT_SECRET", "--port",
                    "--database-url", "--jwt-secret", "JWT_ALGORITHM",
                    "SERVICE_SECRET", "CORS_ORIGINS"]
            if name == "msvc-post":
                want += ["AUTH_MICRO_URL", "USER_RESOLVER", "JWKS_REFRESH"]
            else:
                want += ["ALLOW_ANONYMOUS_LOOKUPS", "SESSIONS", "REFRESH_TTL",
                         "REFRESH_GRACE", "JWT_PRIVATE_KEY_FILE",
                         "JWT_PUBLIC_KEY_FILE"]
            for w in want:
                self.assertRegex(text, r"(?<![A-Z_-])" + re.escape(w),
                                 "%s --help does not mention %s" % (name, w))

    def test_flags_alone_configure_the_service(self):
        self.binaries()
        tmp = tempfile.mkdtemp(prefix="msvc-http-flags-")
        secret = "flag-secret-" + os.urandom(8).hex()
        procs = []
        try:
            def flags(port, db):
                return ["--port", str(port), "--database-url", db,
                        "--jwt-secret", secret, "--data-dir",
                        os.path.join(tmp, "data"), "--password-cost", "4"]
            auth_bin = h.SERVER_BIN if h.DEPLOY == "server" else h.AUTH_BIN
            port = h.free_port()
            auth = h.Proc("flags-auth", auth_bin, tmp, {}, port=port,
                          args=flags(port, h.fresh_database_url(tmp, "a")))
            auth.child_env = lambda: self.clean_env()
            procs.append(auth)
            auth.start()
            post = auth
            if h.DEPLOY != "server":
                pport = h.free_port()
                post = h.Proc("flags-post", h.POST_BIN, tmp, {}, port=pport,
                              args=flags(pport,
                                         h.fresh_database_url(tmp, "p")) +
                              ["--auth-micro-url", auth.url,
                               "--user-resolver", "batch"])
                post.child_env = lambda: self.clean_env()
                procs.append(post)
                post.start()
            email = h.unique_email("flags")
            r = request(auth.url, "POST", "/api/register",
                        {"name": "Flag User", "email": email,
                         "password": h.PASSWORD})
            self.assertEqual(r.status, 201, r)
            user = r.json["user"]
            r = request(auth.url, "POST", "/api/login",
                        {"email": email, "password": h.PASSWORD})
            self.assertEqual(r.status, 200, r)
            token = r.json["access_token"].split(" ", 1)[1]
            self.assertTrue(h.hs256_valid(token, secret),
                            "token not signed with --jwt-secret")
            r = request(post.url, "POST", "/api/posts",
                        {"title": "t", "content": "c"}, token=token)
            self.assertEqual(r.status, 201, r)
            r = request(post.url, "GET", "/api/posts?user_id=" + user["id"])
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["posts"][0]["user"],
                             {"id": user["id"], "name": "Flag User",
                              "email": email})
            for p in reversed(procs):
                self.assertEqual(p.stop(), 0, p.log_tail())
        except BaseException:
            for p in procs:
                p.kill()
                print(p.log_tail())
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
