"""Bad and hostile input on every route that reads one: the answers of the
contract (400, 413, 415, 422), unknown fields never stored, and a process
that survives whatever arrives on its socket."""

import http.client
import json
import os
import socket
import unittest
import urllib.parse
import uuid

import harness as h
from harness import DeployedTestCase, request

LIMIT = 64 * 1024


class BadBodies(DeployedTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.make_user("Alice Input")
        cls.bob = cls.make_user("Bob Input")
        r = h.request(cls.post_url, "POST", "/api/posts",
                      {"title": "target", "content": "target"},
                      token=cls.alice["token"])
        assert r.status == 201, r
        cls.target = r.json["post"]

    def body_routes(self):
        """(url, method, path, token, accepts_arrays) of every body route."""
        a, p = self.auth_url, self.post_url
        t = self.alice["token"]
        return [
            (a, "POST", "/api/register", None, False),
            (a, "POST", "/api/auth/register", None, False),
            (a, "POST", "/api/login", None, False),
            (a, "POST", "/api/auth/login", None, False),
            (a, "PUT", "/api/user", t, False),
            (a, "POST", "/api/getUsers", t, True),
            (p, "POST", "/api/posts", t, False),
            (p, "POST", "/api/post", t, False),
            (p, "PUT", "/api/posts/" + self.target["id"], t, False),
        ]

    def test_malformed_json_is_400(self):
        bad = [b'{"name":', b"{", b"}", b"nope", b"{'name': 'x'}",
               b'{"title": "a", }', b'{"title": "a"} trailing',
               b'{"title" "a"}', b'{"title": "a"}{"title": "b"}',
               b'{"title": tru}', b'{"title": "\\x41"}', b'[1,]',
               b'{"a": 01}', b'{"a": NaN}', b'{"a": "\t"}']
        for url, method, path, token, _ in self.body_routes():
            for body in bad:
                r = request(url, method, path, body=body, token=token)
                self.assertError(r, 400)
                self.assertNotIn("errors", r.json, (path, body))

    def test_empty_body_with_json_type_is_400(self):
        for url, method, path, token, _ in self.body_routes():
            r = request(url, method, path, body=b"", token=token)
            self.assertError(r, 400)

    def test_non_object_json_is_400(self):
        for url, method, path, token, arrays in self.body_routes():
            for body in (b"[]", b'["a"]', b'"str"', b"42", b"null", b"true",
                         b"-1.5"):
                r = request(url, method, path, body=body, token=token)
                if arrays and body.startswith(b"["):
                    continue
                if arrays:
                    self.assertIn(r.status, (400, 422), (path, body, r))
                else:
                    self.assertError(r, 400)

    def test_invalid_utf8_is_400(self):
        bodies = [b'{"name": "\xff\xfe", "email": "x@example.com", '
                  b'"password": "password1"}',
                  b'{"title": "\xc0\xaf", "content": "x"}',
                  b'{"title": "\xed\xa0\x80", "content": "x"}',
                  b'{"email": "a@b.c\x80", "password": "password1"}',
                  b'{"\xfe": 1}']
        for url, method, path, token, _ in self.body_routes():
            for body in bodies:
                r = request(url, method, path, body=body, token=token)
                self.assertError(r, 400)

    def test_wrong_or_missing_content_type_is_415(self):
        good = {"name": "T", "email": h.unique_email("ct"),
                "password": h.PASSWORD, "title": "t", "content": "c",
                "userIds": []}
        for url, method, path, token, _ in self.body_routes():
            for ctype in ("text/plain", "application/x-www-form-urlencoded",
                          "multipart/form-data; boundary=x",
                          "application/jsonx", "text/json", None):
                r = request(url, method, path, good, token=token,
                            content_type=ctype)
                self.assertError(r, 415)
        r = self.auth("POST", "/api/register",
                      {"name": "T", "email": h.unique_email("ct"),
                       "password": h.PASSWORD},
                      content_type="application/json; charset=utf-8")
        self.assertEqual(r.status, 201, r)

    def test_body_over_64k_is_413(self):
        for url, method, path, token, _ in self.body_routes():
            big = {"name": "x", "title": "x", "pad": "p" * (LIMIT + 10)}
            r = request(url, method, path, big, token=token)
            self.assertError(r, 413)
        self.assertAlive()

    def test_body_of_exactly_64k_is_read(self):
        email = h.unique_email("edge")
        body = {"name": "Edge", "email": email, "password": h.PASSWORD,
                "pad": ""}
        raw = json.dumps(body).encode()
        body["pad"] = "p" * (LIMIT - len(raw))
        raw = json.dumps(body).encode()
        self.assertEqual(len(raw), LIMIT)
        r = self.auth("POST", "/api/register", body=raw)
        self.assertEqual(r.status, 201, r)
        body["email"] = h.unique_email("edge")
        body["pad"] += "p"
        raw = json.dumps(body).encode()
        self.assertEqual(len(raw), LIMIT + 1)
        r = self.auth("POST", "/api/register", body=raw)
        self.assertError(r, 413)

    def test_announced_huge_body_is_refused_without_waiting(self):
        # Content-Length far over the limit, body never sent: the answer
        # must not wait for it.
        data = (b"POST /api/register HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\n"
                b"Content-Length: 1000000000\r\n\r\n{\"name\":")
        out = h.raw_exchange(self.auth_url, data, timeout=10)
        self.assertTrue(out.startswith(b"HTTP/1.1 413"), out[:300])
        self.assertAlive()

    def test_chunked_body_is_read(self):
        payload = json.dumps({"name": "Chunky", "email": h.unique_email("ch"),
                              "password": h.PASSWORD}).encode()
        u = urllib.parse.urlsplit(self.auth_url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        try:
            conn.request("POST", "/api/register",
                         body=iter([payload[:10], payload[10:]]),
                         headers={"Content-Type": "application/json"},
                         encode_chunked=True)
            r = conn.getresponse()
            resp = h.Response(r.status, r.reason, r.getheaders(), r.read())
        finally:
            conn.close()
        h.check_universal(resp)
        self.assertEqual(resp.status, 201, resp)
        self.assertEqual(resp.json["user"]["name"], "Chunky")

    def test_nul_escapes_are_refused(self):
        cases = [
            (self.auth_url, "POST", "/api/register", None,
             {"name": "Ada\u0000Evil", "email": h.unique_email("nul"),
              "password": h.PASSWORD}, "name"),
            (self.auth_url, "POST", "/api/register", None,
             {"name": "Ada", "email": "nul\u0000" + h.unique_email("nul"),
              "password": h.PASSWORD}, "email"),
            (self.auth_url, "POST", "/api/register", None,
             {"name": "Ada", "email": h.unique_email("nul"),
              "password": "pass\u0000word-long"}, "password"),
            (self.post_url, "POST", "/api/posts", self.alice["token"],
             {"title": "a\u0000b", "content": "c"}, "title"),
            (self.post_url, "POST", "/api/posts", self.alice["token"],
             {"title": "t", "content": "\u0000"}, "content"),
            (self.auth_url, "PUT", "/api/user", self.alice["token"],
             {"name": "\u0000"}, "name"),
        ]
        for url, method, path, token, body, field in cases:
            r = request(url, method, path, body, token=token)
            self.assertIn(r.status, (400, 422), (path, body, r))
            if r.status == 422:
                self.assertIn(field, r.json["errors"], r)
        r = self.auth("POST", "/api/login", {"email": self.alice["email"],
                                             "password": "x\u0000y-long-pw"})
        self.assertIn(r.status, (400, 401, 422), r)
        r = self.auth("GET", "/api/user", token=self.alice["token"])
        self.assertEqual(r.json["user"]["name"], "Alice Input")

    def test_lone_surrogate_escape_does_not_crash(self):
        body = (b'{"name": "\\ud800", "email": "' +
                h.unique_email("sur").encode() +
                b'", "password": "password1"}')
        r = self.auth("POST", "/api/register", body=body)
        self.assertIn(r.status, (201, 400, 422), r)
        self.assertAlive()

    def test_deeply_nested_json(self):
        for url, method, path, token, _ in self.body_routes():
            depth = 20000
            top = b"[" * depth + b"]" * depth
            r = request(url, method, path, body=top, token=token)
            self.assertIn(r.status, (400, 413, 422), (path, r))
            inner = (b'{"name": ' + b"[" * depth + b"]" * depth +
                     b', "title": ' + b"{\"a\":" * 5000 + b"1" +
                     b"}" * 5000 + b"}")
            r = request(url, method, path, body=inner, token=token)
            self.assertIn(r.status, (400, 413, 422), (path, r))
        self.assertAlive()


class UnknownFields(DeployedTestCase):
    """Fields a route does not know are ignored and never stored."""

    EXTRA = {"id": "0" * 24, "_id": "1" * 24, "created_at":
             "2000-01-01T00:00:00.000Z", "updated_at":
             "2000-01-01T00:00:00.000Z", "isAdmin": True, "role": "admin",
             "password_hash": "x", "__proto__": {"isAdmin": True}}

    def test_register_ignores_unknown_fields(self):
        email = h.unique_email("extra")
        body = dict(self.EXTRA, name="Extra", email=email,
                    password=h.PASSWORD)
        r = self.auth("POST", "/api/register", body)
        self.assertEqual(r.status, 201, r)
        user = r.json["user"]
        self.assertUser(user, name="Extra", email=email)
        self.assertNotIn(user["id"], ("0" * 24, "1" * 24))
        self.assertTimestamp(user["created_at"])
        token = self.login(email)
        r = self.auth("GET", "/api/user", token=token)
        self.assertEqual(r.json, {"user": user})
        r = self.auth("GET", "/api/getUser/" + "0" * 24, token=token)
        self.assertError(r, 404)

    def test_profile_update_ignores_unknown_fields(self):
        u = self.new_user()
        r = self.auth("PUT", "/api/user", dict(self.EXTRA, name="Still Me"),
                      token=u["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"]["id"], u["id"])
        self.assertEqual(r.json["user"]["created_at"], u["created_at"])
        self.assertEqual(r.json["user"]["name"], "Still Me")
        self.assertEqual(set(r.json["user"]), h.USER_KEYS)
        r = self.auth("GET", "/api/user", token=u["token"])
        self.assertEqual(r.json["user"]["created_at"], u["created_at"])
        self.login(u["email"])

    def test_post_create_and_update_ignore_unknown_fields(self):
        alice = self.new_user("Alice Extra")
        bob = self.new_user("Bob Extra")
        body = dict(self.EXTRA, title="Mine", content="Mine",
                    user_id=bob["id"], password="hunter22",
                    user={"id": bob["id"], "name": "Bob", "email": "b@x.y"},
                    degraded=True)
        r = self.post("POST", "/api/posts", body, token=alice["token"])
        self.assertEqual(r.status, 201, r)
        p = r.json["post"]
        self.assertPost(p, author=alice, title="Mine", content="Mine")
        self.assertNotIn(p["id"], ("0" * 24, "1" * 24))
        self.assertTimestamp(p["created_at"])
        self.assertNotIn("degraded", r.json)
        r = self.post("GET", "/api/posts/" + p["id"])
        self.assertEqual(r.json, {"post": p})
        # Bob is not its author, whatever the body claimed.
        r = self.post("DELETE", "/api/posts/" + p["id"], token=bob["token"])
        self.assertError(r, 403)
        r = self.post("PUT", "/api/posts/" + p["id"],
                      dict(self.EXTRA, title="Renamed", user_id=bob["id"]),
                      token=alice["token"])
        self.assertEqual(r.status, 200, r)
        u = r.json["post"]
        self.assertPost(u, author=alice, title="Renamed", content="Mine")
        self.assertEqual(u["id"], p["id"])
        self.assertEqual(u["created_at"], p["created_at"])
        r = self.post("GET", "/api/posts?user_id=" + bob["id"])
        self.assertEqual(r.json["posts"], [])
        r = self.post("GET", "/api/posts?user_id=" + alice["id"])
        self.assertEqual(r.json["posts"], [u])


class UnknownFieldsOnDisk(DeployedTestCase):
    """The same, checked in the stored bytes: a marker sent only in unknown
    fields (names and values) appears in no file of the SQLite store."""

    def stored_bytes(self):
        out = b""
        for root, _, files in os.walk(self.tmp):
            for f in files:
                if f.endswith(".log"):
                    continue
                with open(os.path.join(root, f), "rb") as fh:
                    out += fh.read()
        return out

    def test_unknown_fields_never_reach_the_store(self):
        if h.DATABASE_URL:
            self.skipTest("the store's files are not in the test directory")
        marker = "unknownmarker" + uuid.uuid4().hex
        u = self.new_user("On Disk")
        extra = {marker: marker, "isAdmin": marker, "role": marker,
                 "password_hash": marker, "created_at": marker,
                 "id": marker, "nested": {"deep": marker}}
        r = self.auth("POST", "/api/register",
                      dict(extra, name="Disk", email=h.unique_email("disk"),
                           password=h.PASSWORD))
        self.assertEqual(r.status, 201, r)
        r = self.auth("PUT", "/api/user", dict(extra, name="Disk Two"),
                      token=u["token"])
        self.assertEqual(r.status, 200, r)
        r = self.post("POST", "/api/posts",
                      dict(extra, title="t", content="c", password=marker,
                           user_id=marker), token=u["token"])
        self.assertEqual(r.status, 201, r)
        r = self.post("PUT", "/api/posts/" + r.json["post"]["id"],
                      dict(extra, title="t2"), token=u["token"])
        self.assertEqual(r.status, 200, r)
        data = self.stored_bytes()
        self.assertIn(b"Disk Two", data)  # the scan does see stored text
        self.assertNotIn(marker.encode(), data)


class Hostile(DeployedTestCase):
    """Whatever arrives, the process stays up and answers the next request."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls.make_user("Hostile")

    def urls(self):
        return sorted({self.auth_url, self.post_url})

    def test_huge_headers(self):
        # GET /api/user needs a token (401 when the headers get through);
        # GET /api/posts is public (200).
        for url, path, through in ((self.auth_url, "/api/user", 401),
                                   (self.post_url, "/api/posts?limit=1", 200)):
            for hdrs in ({"X-Big": "a" * 100000},
                         {"X-H%d" % i: "v" * 1000 for i in range(200)},
                         {"Authorization": "Bearer " + "a" * 70000}):
                try:
                    r = request(url, "GET", path, headers=hdrs, check=False)
                    self.assertIn(r.status, (through, 400, 413, 431), r)
                    if r.json is not None:
                        h.check_universal(r)
                except (ConnectionError, http.client.HTTPException):
                    pass  # closing the connection is a fair answer
            self.assertAlive(url)

    def test_extremely_long_query_string(self):
        for q in ("limit=5&x=" + "A" * 60000, "limit=" + "9" * 30000,
                  "cursor=" + "B" * 50000, "user_id=" + "c" * 40000,
                  "&".join("k%d=v" % i for i in range(5000))):
            try:
                r = request(self.post_url, "GET", "/api/posts?" + q,
                            check=False)
                self.assertIn(r.status, (200, 400, 414, 422, 431), r)
                if r.json is not None:
                    h.check_universal(r)
            except (ConnectionError, http.client.HTTPException):
                pass
            self.assertAlive(self.post_url)

    def test_percent_encoding_garbage(self):
        t = self.user["token"]
        cases = [(self.post_url, "/api/posts/%zz", None),
                 (self.post_url, "/api/posts/%", None),
                 (self.post_url, "/api/posts/%00", None),
                 (self.post_url, "/api/posts/%ff%fe%fd", None),
                 (self.post_url, "/api/posts/%30%30%30", None),
                 (self.post_url, "/api/posts?limit=%zz", None),
                 (self.post_url, "/api/posts?limit=%", None),
                 (self.post_url, "/api/posts?limit=1%00", None),
                 (self.post_url, "/api/posts?user_id=%zz%ff", None),
                 (self.post_url, "/api/posts?cursor=%ff%fe", None),
                 (self.post_url, "/api/posts?%zz=%zz&limit=5", None),
                 (self.auth_url, "/api/getUser/%zz", t),
                 (self.auth_url, "/api/getUser/%00", t),
                 (self.auth_url, "/api/getUser/" + "%ff" * 24, t),
                 (self.auth_url, "/%2e%2e/%2e%2e/etc/passwd", None)]
        for url, path, token in cases:
            r = request(url, "GET", path, token=token)
            self.assertIn(r.status, (200, 400, 404, 422), (path, r))
            if "limit=" in path and "limit=5" not in path:
                self.assertIn(r.status, (400, 422), (path, r))
        self.assertAlive()

    def test_path_traversal_looking_paths(self):
        for url in self.urls():
            for path in ("/../../../../etc/passwd",
                         "/api/posts/../../../../etc/passwd",
                         "/api/posts/..%2f..%2f..%2fetc%2fpasswd",
                         "/static/../../etc/passwd",
                         "/api/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                         "//etc/passwd", "/api/posts/%2e%2e",
                         "/api/posts/..", "/./api/../../etc/shadow"):
                r = request(url, "GET", path)
                self.assertIn(r.status, (400, 404, 422), (path, r))
                self.assertNotIn(b"root:", r.body)
        self.assertAlive()

    def raw_then_alive(self, data, url=None, shutdown=False):
        url = url or self.auth_url
        out = h.raw_exchange(url, data, timeout=5, shutdown_write=shutdown)
        r = request(url, "GET", "/healthz")
        self.assertEqual(r.status, 200)
        return out

    def test_garbage_bytes(self):
        for url in self.urls():
            for data in (b"\x00" * 1000, bytes(range(256)) * 8,
                         b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" +
                         b"\x00" * 200,
                         b"GET\r\n\r\n", b"\r\n\r\n\r\n",
                         b"GET / HTTP/9.9\r\n\r\n",
                         b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
                         b"FOO /api/posts HTTP/1.1\r\nHost: x\r\n\r\n",
                         b"GET /api/posts HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: -5\r\n\r\n",
                         b"POST /api/posts HTTP/1.1\r\nHost: x\r\n"
                         b"Transfer-Encoding: chunked\r\n"
                         b"Content-Type: application/json\r\n\r\n"
                         b"zz\r\nabc\r\n0\r\n\r\n",
                         b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\xff" * 64):
                self.raw_then_alive(data, url)

    def test_truncated_requests(self):
        for url in self.urls():
            self.raw_then_alive(b"POST /api/register HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Type: application/json\r\n"
                                b"Content-Length: 1000\r\n\r\n{\"na",
                                url, shutdown=True)
            self.raw_then_alive(b"GET /api/posts HTTP/1.1\r\nHost: x\r\nX-",
                                url, shutdown=True)
            self.raw_then_alive(b"POST /api/posts HTTP/1.1\r\nHost: x\r\n"
                                b"Transfer-Encoding: chunked\r\n"
                                b"Content-Type: application/json\r\n\r\n"
                                b"100\r\n{\"ti", url, shutdown=True)

    def test_half_open_connections_do_not_block_others(self):
        socks = []
        try:
            u = urllib.parse.urlsplit(self.post_url)
            for _ in range(50):
                s = socket.create_connection((u.hostname, u.port), timeout=5)
                s.sendall(b"GET /api/posts HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
            r = request(self.post_url, "GET", "/api/posts?limit=2")
            self.assertEqual(r.status, 200, r)
            r = request(self.auth_url, "GET", "/api/user",
                        token=self.user["token"])
            self.assertEqual(r.status, 200, r)
        finally:
            for s in socks:
                s.close()

    def test_http_1_0(self):
        for url in self.urls():
            out = h.raw_exchange(url, b"GET /healthz HTTP/1.0\r\n\r\n",
                                 timeout=10)
            head, _, body = out.partition(b"\r\n\r\n")
            self.assertRegex(head.split(b"\r\n")[0],
                             rb"^HTTP/1\.[01] 200 ", out[:300])
            self.assertIsInstance(json.loads(body.decode()), dict)
        payload = json.dumps({"name": "Old Client",
                              "email": h.unique_email("h10"),
                              "password": h.PASSWORD}).encode()
        out = h.raw_exchange(self.auth_url,
                             b"POST /api/register HTTP/1.0\r\n"
                             b"Content-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(payload) +
                             payload, timeout=10)
        self.assertRegex(out.split(b"\r\n")[0], rb"^HTTP/1\.[01] 201 ",
                         out[:300])
        self.assertAlive()


if __name__ == "__main__":
    unittest.main()
