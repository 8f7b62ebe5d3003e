#!/usr/bin/env python3
"""A small, real HTTP stand-in for the auth service, for the resolver tests.

Usage: standin.py [--jwks=FILE] MODE LOGFILE [PORT [CERTFILE KEYFILE]]

Serves GET /api/getUser/:id, POST /api/getUsers and GET /healthz from an
in-memory table of 40 users (id "5f" + 20 zeros + two hex digits of the
index, name "User <index>", email "user<index>@example.com"), over HTTP/1.1
with keep-alive, or over TLS (HTTPS) when given a PEM certificate chain
and its key.  It binds 127.0.0.1:PORT (0 = a free port), prints the port
on stdout, and appends one JSON line per request to LOGFILE:
{"conn", "method", "path", "headers" (names lower-cased), "body",
"inflight"}, written before it answers.

With --jwks=FILE it also serves GET /.well-known/jwks.json: FILE's bytes
as they are at each request (so a test rotates keys by rewriting it), with
Cache-Control as msvc-auth sends it; without, that path is a 404.

MODE picks how it answers every route:
  ok        correctly;
  slow      reads the request, then never answers;
  garbage   writes bytes that are not HTTP and closes;
  badjson   200 with a body that is not JSON;
  500       500 with a JSON error;
  close     reads the request and closes without a word;
  evil      getUser answers with the next user in the table (a different
            id); getUsers answers the asked users in reverse order plus
            users that were not asked for;
  delay     like ok, after 0.3 s (to see requests overlap).

In every mode, paths under /raw/ answer hand-made responses for the HTTP
client tests (see RAW below).
"""
import json
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USERS = {}
ORDER = []
for _i in range(40):
    _uid = "5f" + "0" * 20 + "%02x" % _i
    USERS[_uid] = {"id": _uid, "name": "User %d" % _i,
                   "email": "user%d@example.com" % _i}
    ORDER.append(_uid)

LOCK = threading.Lock()
STATE = {"conn": 0, "inflight": 0}


def raw_response(status, body, extra=b""):
    head = b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n" % (status, len(body))
    return head + extra + b"\r\n" + body


# /raw/<name>: bytes to write, and whether to close the connection after.
RAW = {
    "length": (raw_response(200, b'{"ok":true}'), False),
    "chunked": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-T: 1\r\n\r\n",
                False),
    "eof": (b"HTTP/1.0 200 OK\r\n\r\nuntil the end", True),
    "empty": (b"HTTP/1.1 204 No Content\r\n\r\n", False),
    "interim": (b"HTTP/1.1 100 Continue\r\n\r\n" + raw_response(200, b"after"),
                False),
    "connclose": (raw_response(200, b"bye", b"Connection: close\r\n"), True),
    "badstatus": (b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", True),
    "nothttp": (b"SSH-2.0-OpenSSH\r\n\r\n", True),
    "badlength": (b"HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n12", True),
    "twolengths": (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                   b"Content-Length: 3\r\n\r\nabc", True),
    "badchunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"zz\r\nhello\r\n0\r\n\r\n", True),
    "badchunkend": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"2\r\nhelloXX0\r\n\r\n", True),
    "gzip": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", True),
    "short": (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this", True),
    "shortchunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"10\r\nabc", True),
    "fold": (b"HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 0"
             b"\r\n\r\n", True),
    "huge": (b"HTTP/1.1 200 OK\r\nContent-Length: 9000000\r\n\r\n", True),
    "bighead": (b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 70000 +
                b"\r\nContent-Length: 0\r\n\r\n", True),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        # TLS handshakes run here, on the connection's own thread, so that
        # a client that never completes one cannot stall the accept loop.
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()
        with LOCK:
            STATE["conn"] += 1
            self.conn_id = STATE["conn"]
        self.kill_next = False

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.serve()

    def do_POST(self):
        self.serve()

    def record(self, body):
        entry = {"conn": self.conn_id, "method": self.command,
                 "path": self.path, "body": body.decode("utf-8", "replace"),
                 "headers": {k.lower(): v for k, v in self.headers.items()}}
        with LOCK:
            STATE["inflight"] += 1
            entry["inflight"] = STATE["inflight"]
            with open(self.server.log_path, "a") as log:
                log.write(json.dumps(entry) + "\n")

    def serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        self.record(body)
        try:
            if self.kill_next:
                self.close_connection = True
            elif self.path.startswith("/raw/"):
                self.serve_raw(self.path[5:])
            else:
                self.serve_mode(body)
        finally:
            with LOCK:
                STATE["inflight"] -= 1

    def write(self, data, close):
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            close = True
        self.close_connection = close

    def serve_raw(self, name):
        if name == "hang":
            self.hang()
        elif name == "thenclose":  # answer, then drop the next request
            self.write(raw_response(200, b"first"), False)
            self.kill_next = True
        elif name == "delay":
            time.sleep(0.3)
            self.write(raw_response(200, b"late"), False)
        elif name == "echo":
            self.write(raw_response(200, json.dumps(
                {"length": int(self.headers.get("Content-Length") or 0)})
                .encode()), False)
        elif name == "hugechunked":
            self.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                       b"\r\n", False)
            piece = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
            for _ in range(150):  # 9.4 MiB, past the client's 8 MiB cap
                self.write(piece, False)
                if self.close_connection:
                    break
            self.close_connection = True
        elif name in RAW:
            self.write(*RAW[name])
        else:
            self.write(raw_response(404, b"no such raw"), False)

    def hang(self):
        # Block until the client gives up and closes its end.
        try:
            while self.rfile.read(1):
                pass
        except OSError:
            pass
        self.close_connection = True

    def serve_mode(self, body):
        mode = self.server.mode
        if mode == "slow":
            self.hang()
        elif mode == "garbage":
            self.write(b"\x00\x01garbage, not HTTP at all\r\n\r\n{{{", True)
        elif mode == "close":
            self.close_connection = True
        elif mode == "500":
            self.json(500, {"status": 500, "message": "Internal error"})
        elif mode == "badjson":
            self.write(raw_response(200, b'{"user": {"id": "5f',
                                    b"Content-Type: application/json\r\n"),
                       False)
        else:
            if mode == "delay":
                time.sleep(0.3)
            self.route(body, mode == "evil")

    def json(self, status, doc):
        data = json.dumps(doc).encode()
        self.write(raw_response(status, data,
                                b"Content-Type: application/json\r\n"), False)

    def route(self, body, evil):
        if self.path == "/healthz":
            self.json(200, {"status": "ok"})
        elif (self.path == "/.well-known/jwks.json" and self.command == "GET"
              and self.server.jwks_path):
            with open(self.server.jwks_path, "rb") as f:
                data = f.read()
            self.write(raw_response(200, data,
                                    b"Content-Type: application/json\r\n"
                                    b"Cache-Control: public, max-age=300\r\n"),
                       False)
        elif self.path.startswith("/api/getUser/") and self.command == "GET":
            uid = self.path[len("/api/getUser/"):].lower()
            if uid not in USERS:
                self.json(404, {"status": 404, "message": "User not found"})
            elif evil:
                other = ORDER[(ORDER.index(uid) + 1) % len(ORDER)]
                self.json(200, {"user": USERS[other]})
            else:
                self.json(200, {"user": USERS[uid]})
        elif self.path == "/api/getUsers" and self.command == "POST":
            try:
                doc = json.loads(body)
                ids = doc["userIds"] if isinstance(doc, dict) else doc
                ids = [str(i).lower() for i in ids]
            except (ValueError, KeyError, TypeError):
                self.json(400, {"status": 400, "message": "Bad request"})
                return
            users = [USERS[i] for i in ids if i in USERS]
            if evil:
                users.reverse()
                users += [USERS[i] for i in ORDER if i not in ids][:5]
            self.json(200, {"users": users})
        else:
            self.json(404, {"status": 404, "message": "Not found"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the individual strategy connects in bursts

    def handle_error(self, request, client_address):
        # Refused handshakes (a client that does not trust our certificate)
        # and dropped connections are what the tests provoke: stay quiet.
        pass


def use_tls(server, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                    do_handshake_on_connect=False)


def main():
    jwks = [a[len("--jwks="):] for a in sys.argv[1:] if a.startswith("--jwks=")]
    argv = [sys.argv[0]] + [a for a in sys.argv[1:]
                            if not a.startswith("--jwks=")]
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    port = int(argv[3]) if len(argv) > 3 else 0
    server = Server(("127.0.0.1", port), Handler)
    if len(argv) > 5:
        use_tls(server, argv[4], argv[5])
    server.mode = argv[1]
    server.log_path = argv[2]
    server.jwks_path = jwks[-1] if jwks else None
    print(server.server_address[1], flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
