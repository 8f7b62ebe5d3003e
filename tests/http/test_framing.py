"""Strict HTTP/1 framing (RFC 9112 §6.1-6.3): a request whose body framing
is ambiguous gets one 400 (JSON) and the connection closes, so that a
request pipelined behind it -- which a proxy framing the bytes differently
might have sent as a request of its own -- is never answered.

Every case is raw bytes on one socket: the bad request, then a pipelined
GET /api/posts?smuggled=1 (or one hidden in the body as another parser
would frame it).  The answer must be exactly one response, a 400 JSON
error, then end-of-file.  Valid chunked and Content-Length bodies, and
pipelining behind them, still work."""

import json
import socket
import time
import urllib.parse

import harness as h
from harness import DeployedTestCase

SMUGGLED = b"GET /api/posts?smuggled=1 HTTP/1.1\r\nHost: x\r\n\r\n"
EOF_WAIT = 5.0


def exchange(base_url, data, timeout=EOF_WAIT):
    """Sends data at once; returns (bytes received, whether the server
    closed the connection before `timeout`)."""
    u = urllib.parse.urlsplit(base_url)
    s = socket.create_connection((u.hostname, u.port), timeout=timeout)
    out, eof = b"", False
    deadline = time.monotonic() + timeout
    try:
        s.sendall(data)
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                eof = True
                break
            if not chunk:
                eof = True
                break
            out += chunk
    finally:
        s.close()
    return out, eof


def responses(data):
    """Splits HTTP/1.1 answers (each with a Content-Length) into
    (status, headers dict, body) tuples."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError("truncated answer: %r" % data[:300])
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:n]))
        data = rest[n:]
    return out


def post_head(version=b"1.1", extra=b""):
    return (b"POST /api/login HTTP/" + version + b"\r\nHost: x\r\n"
            b"Content-Type: application/json\r\n" + extra)


class Refused(DeployedTestCase):
    """Each ambiguous framing: one 400, then EOF; nothing smuggled."""

    def assertRefused(self, data, url=None):
        for base in ([url] if url else [self.auth_url, self.post_url]):
            out, eof = exchange(base, data + SMUGGLED)
            answers = responses(out)
            self.assertEqual(len(answers), 1, out)
            status, headers, body = answers[0]
            self.assertEqual(status, 400, out)
            self.assertTrue(headers["content-type"].startswith(
                "application/json"), out)
            self.assertEqual(json.loads(body)["status"], 400, out)
            self.assertEqual(headers.get("connection"), "close", out)
            self.assertTrue(eof, "connection left open after %r" % out)
            self.assertNotIn(b"smuggled", out)
            self.assertNotIn(b'"posts"', out)

    def test_content_length_and_transfer_encoding(self):
        # h2o alone reads this body as chunked; a proxy that honours
        # Content-Length would see the GET inside it as a second request.
        inner = b"0\r\n\r\n" + SMUGGLED
        self.assertRefused(post_head(extra=b"Content-Length: %d\r\n"
                                     b"Transfer-Encoding: chunked\r\n\r\n"
                                     % len(inner)) + inner)
        self.assertRefused(post_head(extra=b"Transfer-Encoding: chunked\r\n"
                                     b"Content-Length: 3\r\n\r\n"
                                     b"0\r\n\r\n"))

    def test_repeated_content_length(self):
        # Different values: h2o takes the first.  Equal values are refused
        # too (the choice README states).
        self.assertRefused(post_head(extra=b"Content-Length: 0\r\n"
                                     b"Content-Length: 2\r\n\r\n{}"))
        self.assertRefused(post_head(extra=b"Content-Length: 2\r\n"
                                     b"Content-Length: 2\r\n\r\n{}"))
        self.assertRefused(post_head(extra=b"Content-Length: 2, 2\r\n\r\n"
                                     b"{}"))

    def test_transfer_encoding_on_http_1_0(self):
        self.assertRefused(post_head(b"1.0", b"Transfer-Encoding: chunked"
                                     b"\r\n\r\n2\r\n{}\r\n0\r\n\r\n"))

    def test_codings_other_than_one_final_chunked(self):
        for te in (b"Transfer-Encoding: gzip, chunked\r\n",
                   b"Transfer-Encoding: chunked, chunked\r\n",
                   b"Transfer-Encoding: identity\r\n",
                   b"Transfer-Encoding: chunked\r\nTransfer-Encoding: "
                   b"chunked\r\n",
                   b"Transfer-Encoding: gzip\r\nTransfer-Encoding: "
                   b"chunked\r\n",
                   b"Transfer-Encoding: chunked\r\n , gzip\r\n"):
            with self.subTest(te=te):
                self.assertRefused(post_head(extra=te) +
                                   b"\r\n2\r\n{}\r\n0\r\n\r\n")

    def test_refused_before_authentication_and_routing(self):
        # The check comes first: an unknown route or a missing token does
        # not let the pipelined request through either.
        self.assertRefused(b"POST /nowhere HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Length: 0\r\nTransfer-Encoding: "
                           b"chunked\r\n\r\n0\r\n\r\n")


class Accepted(DeployedTestCase):
    """Unambiguous framing still works, pipelined requests included."""

    def test_chunked_body_then_pipelined_request(self):
        body = json.dumps({"name": "Chunky", "email":
                           h.unique_email("chunk"),
                           "password": h.PASSWORD}).encode()
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7]),
                                              body[i:i + 7])
                           for i in range(0, len(body), 7)) + b"0\r\n\r\n"
        req = (b"POST /api/register HTTP/1.1\r\nHost: x\r\n"
               b"Content-Type: application/json\r\n"
               b"Transfer-Encoding: Chunked\r\n\r\n" + chunked +
               b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close"
               b"\r\n\r\n")
        out, eof = exchange(self.auth_url, req, timeout=30)
        answers = responses(out)
        self.assertEqual([a[0] for a in answers], [201, 200], out)
        self.assertTrue(eof)

    def test_content_length_body_then_pipelined_request(self):
        body = json.dumps({"email": h.unique_email("cl"),
                           "password": "wrong-password"}).encode()
        req = (b"POST /api/login HTTP/1.1\r\nHost: x\r\n"
               b"Content-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body) + body +
               b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close"
               b"\r\n\r\n")
        out, eof = exchange(self.auth_url, req, timeout=30)
        answers = responses(out)
        self.assertEqual([a[0] for a in answers], [401, 200], out)
        self.assertTrue(eof)

    def test_http_1_0_with_content_length(self):
        body = b'{"title":"t","content":"c"}'
        out, eof = exchange(self.post_url,
                            b"POST /api/posts HTTP/1.0\r\nHost: x\r\n"
                            b"Content-Type: application/json\r\n"
                            b"Content-Length: %d\r\n\r\n" % len(body) + body)
        answers = responses(out)
        self.assertEqual([a[0] for a in answers], [401], out)
        self.assertTrue(eof)
