"""CORS for browsers (API.md, "Browsers"), as the seed's Express cors()
answered: any origin by default, every OPTIONS a 204 preflight, and
CORS_ORIGINS restricting it to a list.  Hostile preflights (unknown methods,
huge or malformed Access-Control-Request-Headers, Origin: null, oversized
Origin) never give a 5xx.  The real-browser side is tests/browser/."""

import http.client
import os
import subprocess
import tempfile
import shutil
import unittest
import urllib.parse

import harness as h
from harness import DeployedTestCase, request

METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE"  # cors()'s default list
DEFAULT_HEADERS = "Authorization, Content-Type"
MAX_AGE = "600"
ID = "65b3a27bc9e77a0012345679"

ROUTES = ["/", "/healthz", "/readyz", "/api/register", "/api/login",
          "/api/user", "/api/getUser/" + ID, "/api/getUsers",
          "/api/auth/register", "/api/auth/login", "/api/auth/user",
          "/api/posts", "/api/posts/" + ID, "/api/post", "/api/logout",
          "/api/sessions"]
UNKNOWN = ["/nope", "/api/nope", "/api/posts/" + ID + "/comments",
           "/api/posts/not-an-id"]


def acx(resp):
    """The answer's Access-Control-* headers, by lower-case name."""
    out = {}
    for k, v in resp.headers:
        if k.lower().startswith("access-control-"):
            out.setdefault(k.lower(), []).append(v)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


def vary(resp):
    return {t.strip().lower() for v in resp.header_all("Vary")
            for t in v.split(",") if t.strip()}


def preflight(url, path, origin="http://app.example:8080",
              method="POST", req_headers="authorization,content-type",
              extra=None):
    hdrs = {}
    if origin is not None:
        hdrs["Origin"] = origin
    if method is not None:
        hdrs["Access-Control-Request-Method"] = method
    if req_headers is not None:
        hdrs["Access-Control-Request-Headers"] = req_headers
    hdrs.update(extra or {})
    return request(url, "OPTIONS", path, headers=hdrs, check=False)


def raw_answer(url, data):
    """(status, {lower-case header: value}) of one raw exchange."""
    out = h.raw_exchange(url, data)
    head = out.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    if not lines or not lines[0].startswith("HTTP/1."):
        raise AssertionError("no HTTP answer: %r" % out[:300])
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers


class CorsCase(DeployedTestCase):

    def urls(self):
        return sorted({p.url for p in self.dep.procs})

    def assertPreflight(self, r, allow_origin, allow_headers=DEFAULT_HEADERS,
                        listed=False):
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"", r)
        self.assertTrue(r.header("X-Request-Id"), r.headers)
        got = acx(r)
        self.assertEqual(got, {
            "access-control-allow-origin": allow_origin,
            "access-control-allow-methods": METHODS,
            "access-control-allow-headers": allow_headers,
            "access-control-max-age": MAX_AGE}, r.headers)
        want_vary = {"access-control-request-headers"}
        if listed:
            want_vary.add("origin")
        self.assertEqual(vary(r), want_vary, r.headers)

    def assertRefusedPreflight(self, r):
        """A list-mode preflight from an origin not listed: 204 without a
        single CORS header, so the browser stops there."""
        self.assertEqual(r.status, 204, r)
        self.assertEqual(acx(r), {}, r.headers)
        self.assertEqual(vary(r), {"origin"}, r.headers)


class DefaultAnyOrigin(CorsCase):
    """No CORS_ORIGINS: what cors() with its defaults answers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.make_user("Alice Cors")

    def test_every_answer_allows_any_origin(self):
        a, p = self.auth_url, self.post_url
        t = self.alice["token"]
        cases = [(a, "GET", "/", None, 200), (a, "GET", "/api/user", t, 200),
                 (a, "GET", "/api/user", None, 401),
                 (p, "GET", "/api/posts", None, 200),
                 (p, "GET", "/api/posts/" + ID, None, 404),
                 (a, "GET", "/nope", None, 404),
                 (a, "PATCH", "/api/user", t, 405),
                 (p, "POST", "/api/posts", t, 415)]
        for origin in ("http://app.example:8080", "null", None):
            for url, method, path, token, status in cases:
                hdrs = {"Origin": origin} if origin else {}
                body = b"x" if status == 415 else None
                r = request(url, method, path, token=token, headers=hdrs,
                            body=body, content_type="text/plain")
                self.assertEqual(r.status, status, (method, path, r))
                # cors() sends "*" whether or not the request has an Origin
                # and, with "*", no Vary: Origin.
                self.assertEqual(acx(r), {"access-control-allow-origin": "*"},
                                 (method, path, origin, r.headers))
                self.assertNotIn("origin", vary(r))
                if status == 405:
                    self.assertTrue(r.header("Allow"), r.headers)

    def test_head_and_errors_from_h2o_carry_it(self):
        r = request(self.auth_url, "HEAD", "/healthz", check=False,
                    headers={"Origin": "http://a.example"})
        self.assertEqual(r.status, 200)
        self.assertEqual(acx(r), {"access-control-allow-origin": "*"})
        # A body over MAX_BODY is refused by h2o itself (fallback filter).
        r = request(self.auth_url, "POST", "/api/register",
                    body=b"{" + b" " * (80 * 1024) + b"}",
                    headers={"Origin": "http://a.example"})
        self.assertError(r, 413)
        self.assertEqual(acx(r), {"access-control-allow-origin": "*"})

    def test_preflight_on_every_route_and_unknown_paths(self):
        for url in self.urls():
            for path in ROUTES + UNKNOWN:
                r = preflight(url, path)
                self.assertPreflight(r, "*", "authorization,content-type")

    def test_preflight_echoes_requested_headers(self):
        for asked in ("content-type", "authorization",
                      "authorization,content-type,x-request-id",
                      "  X-Custom-Header , x-other  "):
            r = preflight(self.auth_url, "/api/user", req_headers=asked)
            self.assertPreflight(r, "*", asked.strip())

    def test_preflight_without_requested_headers_allows_the_api_ones(self):
        r = preflight(self.auth_url, "/api/login", req_headers=None)
        self.assertPreflight(r, "*", DEFAULT_HEADERS)
        # Not even an Origin: cors() answers every OPTIONS the same way.
        r = preflight(self.post_url, "/api/posts", origin=None, method=None,
                      req_headers=None)
        self.assertPreflight(r, "*", DEFAULT_HEADERS)

    def test_unknown_methods_are_answered_but_not_allowed(self):
        for method in ("PROPFIND", "FOO", "TRACE", "CONNECT", "get", "",
                       "M" * 4096, "POST, DELETE"):
            r = preflight(self.auth_url, "/api/user", method=method)
            # The same fixed list, which does not name the method asked.
            self.assertPreflight(r, "*", "authorization,content-type")

    def test_huge_or_malformed_requested_headers(self):
        many = ",".join("x-h%d" % i for i in range(300))  # ~2 KB
        for asked in ("x" * 1025, "x-a," * 2000, many, "a b;c", "(),",
                      ",", " , ", "x-a\tx-b;", "x-a=1", '"quoted"'):
            r = preflight(self.auth_url, "/api/posts", req_headers=asked)
            self.assertPreflight(r, "*", DEFAULT_HEADERS)
        # At the bound exactly: still echoed.
        exact = ("x-" + "a" * 1022)
        r = preflight(self.auth_url, "/api/posts", req_headers=exact)
        self.assertPreflight(r, "*", exact)
        # 64 KiB is over the 16 KiB of headers any request may carry: 431.
        r = request(self.auth_url, "OPTIONS", "/api/posts", headers={
            "Origin": "http://a.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x" * (64 * 1024)})
        self.assertError(r, 431)
        self.assertEqual(acx(r), {"access-control-allow-origin": "*"})
        self.assertAlive()

    def test_raw_bytes_in_preflight_headers(self):
        for value in (b"\xff\xfe,x-a", b"x-a,\x7f", b"\xc3\xa9t\xc3\xa9"):
            status, hdrs = raw_answer(
                self.auth_url,
                b"OPTIONS /api/user HTTP/1.1\r\nHost: t\r\n"
                b"Origin: http://a.example\r\n"
                b"Access-Control-Request-Method: GET\r\n"
                b"Access-Control-Request-Headers: " + value + b"\r\n"
                b"Connection: close\r\n\r\n")
            self.assertLess(status, 500)
            if status == 204:
                self.assertEqual(hdrs.get("access-control-allow-headers"),
                                 DEFAULT_HEADERS)
        # "OPTIONS *" (the whole server) is not under "/": h2o answers.
        status, hdrs = raw_answer(
            self.auth_url, b"OPTIONS * HTTP/1.1\r\nHost: t\r\n"
            b"Origin: http://a.example\r\nConnection: close\r\n\r\n")
        self.assertLess(status, 500)
        self.assertAlive()

    def test_preflights_keep_the_connection_usable(self):
        """The 204 is framed right: the next answer on the connection is
        read intact (a stray body or chunk would garble it), and it is the
        same connection throughout (the client's local port never changes:
        http.client would silently reconnect)."""
        u = urllib.parse.urlsplit(self.auth_url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        ends = []
        try:
            for _ in range(3):
                conn.request("OPTIONS", "/api/user", headers={
                    "Origin": "http://a.example",
                    "Access-Control-Request-Method": "GET",
                    "Access-Control-Request-Headers": "authorization"})
                ends.append(conn.sock.getsockname())
                r = conn.getresponse()
                self.assertEqual(r.status, 204)
                self.assertEqual(r.read(), b"")
                self.assertIn(r.getheader("Content-Length"), (None, "0"))
                self.assertIsNone(r.getheader("Transfer-Encoding"))
                conn.request("GET", "/api/user", headers={
                    "Origin": "http://a.example",
                    "Authorization": "Bearer " + self.alice["token"]})
                ends.append(conn.sock.getsockname())
                r = conn.getresponse()
                self.assertEqual(r.status, 200)
                self.assertIn(b'"email"', r.read())
        finally:
            conn.close()
        self.assertEqual(ends, [ends[0]] * 6, "not one connection")

    def test_options_is_logged(self):
        rid = "cors-log-check-1"
        r = preflight(self.auth_url, "/api/user",
                      extra={"X-Request-Id": rid})
        self.assertEqual(r.header("X-Request-Id"), rid)
        log = lambda: any(rid in p.log_text() for p in self.dep.procs)
        self.assertTrue(h.poll(log, 5), "preflight not in the access log")


LISTED = ["http://app.example:8080", "https://other.example"]


class ListedOrigins(CorsCase):
    """CORS_ORIGINS restricts: listed origins are echoed with Vary: Origin,
    others get no CORS header.  Written with a space and upper case, which
    the configuration forgives (browsers send lower case)."""
    ENV = {"CORS_ORIGINS": "http://app.example:8080 , HTTPS://Other.Example"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.make_user("Alice Listed")

    def test_listed_origins_are_echoed(self):
        for origin in LISTED:
            for url, path, token, status in (
                    (self.auth_url, "/api/user", self.alice["token"], 200),
                    (self.auth_url, "/api/user", None, 401),
                    (self.post_url, "/api/posts", None, 200),
                    (self.post_url, "/nope", None, 404)):
                r = request(url, "GET", path, token=token,
                            headers={"Origin": origin})
                self.assertEqual(r.status, status, r)
                self.assertEqual(acx(r), {
                    "access-control-allow-origin": origin}, r.headers)
                self.assertIn("origin", vary(r))

    def test_other_origins_get_nothing(self):
        others = ["http://evil.example", "null", "http://app.example:8081",
                  "http://app.example", "https://app.example:8080",
                  "http://app.example:8080.evil.example",
                  "http://app.example:8080/", "http://app.example:8080 x",
                  "https://other.example.evil", "*", "",
                  "http://" + "a" * 10000 + ".example"]
        for origin in others + [None]:
            hdrs = {"Origin": origin} if origin is not None else {}
            r = request(self.auth_url, "GET", "/healthz", headers=hdrs)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(acx(r), {}, (origin[:80] if origin else origin,
                                          r.headers))
            # The answer depends on the Origin, whatever it was.
            self.assertEqual(vary(r), {"origin"}, r.headers)
            if origin is not None:
                self.assertRefusedPreflight(preflight(
                    self.auth_url, "/api/user", origin=origin))

    def test_preflight_of_a_listed_origin(self):
        for url in self.urls():
            for path in ROUTES + UNKNOWN:
                r = preflight(url, path, origin=LISTED[1])
                self.assertPreflight(r, LISTED[1],
                                     "authorization,content-type",
                                     listed=True)
        r = preflight(self.auth_url, "/api/user", origin=LISTED[0],
                      method="PROPFIND", req_headers="x" * 5000)
        self.assertPreflight(r, LISTED[0], DEFAULT_HEADERS, listed=True)
        self.assertNotIn("PROPFIND", acx(r)["access-control-allow-methods"])


class NullListed(CorsCase):
    """Origin: null (sandboxed frames, file: pages) only when listed."""
    ENV = {"CORS_ORIGINS": "null,http://127.0.0.1:9"}

    def test_null_when_listed(self):
        r = request(self.auth_url, "GET", "/", headers={"Origin": "null"})
        self.assertEqual(acx(r), {"access-control-allow-origin": "null"})
        self.assertPreflight(preflight(self.post_url, "/api/posts",
                                       origin="null"), "null",
                             "authorization,content-type", listed=True)
        r = request(self.auth_url, "GET", "/",
                    headers={"Origin": "http://127.0.0.1:9"})
        self.assertEqual(acx(r), {
            "access-control-allow-origin": "http://127.0.0.1:9"})
        r = request(self.auth_url, "GET", "/",
                    headers={"Origin": "http://127.0.0.1:90"})
        self.assertEqual(acx(r), {})


class BadOrigins(unittest.TestCase):
    """A malformed CORS_ORIGINS stops the start with status 2 and a message
    naming the setting, from the environment and from the flag."""

    BAD = ["http://a.example/", "a.example", "*,http://a.example",
           "http://a.example,,http://b.example", "http://a.example:99999",
           "http://a.example:0", "http://user@a.example", "http://a.example?x",
           "http://", "://a.example", "http://a.example:", "http://[::1",
           "http://a example", ","]

    def binaries(self):
        names = [h.SERVER_BIN] if h.DEPLOY == "server" else \
            [h.AUTH_BIN, h.POST_BIN]
        found = [b for b in names if b and os.access(b, os.X_OK)]
        if len(found) != len(names):
            h.skip_missing("executables not built")
        return found

    def run_bin(self, binary, tmp, env_value=None, flag_value=None):
        env = {k: v for k, v in os.environ.items()
               if k not in h.CONFIG_VARS}
        env.update(DATA_DIR=os.path.join(tmp, "data"),
                   DATABASE_URL="sqlite:" + os.path.join(tmp, "x.db"),
                   JWT_SECRET=h.TEST_SECRET, PORT=str(h.free_port()))
        args = [binary]
        if env_value is not None:
            env["CORS_ORIGINS"] = env_value
        if flag_value is not None:
            args.append("--cors-origins=" + flag_value)
        return subprocess.run(args, env=env, capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=30)

    def test_bad_origin_lists_refuse_to_start(self):
        tmp = tempfile.mkdtemp(prefix="msvc-http-cors-")
        try:
            for binary in self.binaries():
                for bad in self.BAD:
                    for how in ("env", "flag"):
                        out = self.run_bin(binary, tmp, **{
                            "env_value" if how == "env" else "flag_value":
                            bad})
                        err = out.stderr.decode("utf-8", "replace")
                        self.assertEqual(out.returncode, 2,
                                         (binary, how, bad, err))
                        self.assertIn("CORS_ORIGINS", err, (bad, err))
                        self.assertIn("--cors-origins", err, (bad, err))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
