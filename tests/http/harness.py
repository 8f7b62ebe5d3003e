"""harness.py - start real msvc deployments on loopback and talk HTTP to them.

The black-box HTTP suite drives the real executables (msvc-server, or two
msvc-auth processes behind one msvc-post) over real sockets.  This module
holds everything the test files share:

- free_port(): a loopback port nobody listens on, never handed out twice in
  one run (a stale server on a reused port would silently answer for us);
- Proc: one child process with its own log file (stdout and stderr), started
  with a clean configuration environment, waited for on /healthz, stopped with
  SIGTERM (it must exit 0) or SIGKILL;
- Deployment: the processes of one deployment in one temporary directory,
  selected by MSVC_DEPLOY (server | split), MSVC_RESOLVER and
  MSVC_DATABASE_URL, with auth_url / post_url for the clients;
- request(): one HTTP exchange; every answer it sees is checked against the
  contract's universal rules (a JSON object, errors carry status and message,
  never a password hash), so every test checks them without saying so;
- JWT helpers (HS256/HS512 with hmac + hashlib) for tokens the tests forge;
- DeployedTestCase: a unittest base class with one deployment per class,
  whose process logs are printed when one of its tests fails.

Only Python's standard library is used.
"""

import atexit
import base64
import hashlib
import hmac
import http.client
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS_FILE = os.environ.get(
    "MSVC_VECTORS_FILE",
    os.path.join(HERE, "..", "vectors", "seed-node-vectors.json"))

DEPLOY = os.environ.get("MSVC_DEPLOY", "server")
RESOLVER = os.environ.get("MSVC_RESOLVER", "cached")
DATABASE_URL = os.environ.get("MSVC_DATABASE_URL", "")
# MSVC_JWT_ALGORITHM (ES256 | RS256) runs every deployment with that
# JWT_ALGORITHM (the http.split.es256 case); unset: the default, HS256.
JWT_ALGORITHM = os.environ.get("MSVC_JWT_ALGORITHM", "")
SERVER_BIN = os.environ.get("MSVC_SERVER_BIN", "")
AUTH_BIN = os.environ.get("MSVC_AUTH_BIN", "")
POST_BIN = os.environ.get("MSVC_POST_BIN", "")

# Generous bounds: the suite also runs on sanitizer builds of 2 busy cores.
START_TIMEOUT = float(os.environ.get("MSVC_START_TIMEOUT", "30"))
STOP_TIMEOUT = float(os.environ.get("MSVC_STOP_TIMEOUT", "15"))
REQUEST_TIMEOUT = 30.0

TEST_SECRET = "http-suite-secret-5f3c0d7e9a1b2c4d6e8f"
PASSWORD = "s3cret-passw0rd"

# Everything a password hash could start with (bcrypt variants, yescrypt).
HASH_MARKERS = (b"$2b$", b"$2a$", b"$2y$", b"$y$")

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")

USER_KEYS = {"id", "name", "email", "created_at", "updated_at"}
PUBLIC_USER_KEYS = {"id", "name", "email"}
POST_KEYS = {"id", "user_id", "title", "content", "created_at", "updated_at",
             "user"}

# The seed's login answer and token claims, and exactly what sessions (on by
# default) add to them; the token header may then also carry "kid".
LOGIN_KEYS = {"message", "access_token", "token_type", "expires_in"}
SESSION_LOGIN_KEYS = {"refresh_token", "refresh_expires_in"}
CLAIM_KEYS = {"id", "name", "email", "iat", "exp"}
SESSION_CLAIM_KEYS = {"sid", "jti"}
HEADER_KEYS = {"alg", "typ"}
SESSION_KEYS = {"id", "created_at", "last_used_at", "expires_at",
                "user_agent", "ip", "current"}

# Settings the executables read from the environment: never inherited from
# whoever runs the suite, only set by the harness.
CONFIG_VARS = (
    "HOST", "PORT", "DATABASE_URL", "JWT_SECRET", "DATA_DIR", "TOKEN_TTL",
    "THREADS", "WORKERS", "QUEUE_SIZE", "MAX_BODY", "PASSWORD_SCHEME",
    "PASSWORD_COST", "LOGIN_MAX_FAILURES", "LOGIN_LOCKOUT",
    "STORE_TIMEOUT_MS", "AUTH_MICRO_URL", "USER_RESOLVER", "CACHE_SIZE",
    "CACHE_TTL", "UPSTREAM_TIMEOUT_MS", "ALLOW_ANONYMOUS_LOOKUPS",
    "ACCESS_LOG", "SESSIONS", "REFRESH_TTL", "REFRESH_GRACE",
    "JWT_ALGORITHM", "JWT_PRIVATE_KEY_FILE", "JWT_PUBLIC_KEY_FILE",
    "SERVICE_SECRET", "SERVICE_SECRET_FILE", "JWKS_REFRESH",
    "JWT_SECRET_FILE", "DATABASE_URL_FILE", "REQUIRE_STRONG_SECRET",
    "CORS_ORIGINS", "TLS_CERT", "TLS_KEY", "UPSTREAM_CA_FILE", "METRICS",
    "LOG_FORMAT", "TRUSTED_PROXIES", "SQLITE_SYNCHRONOUS", "DRAIN_TIMEOUT",
    "LOGIN_WINDOW", "LOGIN_ACCOUNT_MAX_FAILURES", "LOGIN_CLIENT_MAX_FAILURES",
    "RATE_LIMIT", "RATE_LIMIT_BURST", "RATE_LIMIT_SHARED")

stats = {"responses_checked": 0}
_stats_lock = threading.Lock()

# ---- skips ----------------------------------------------------------------
# Two kinds of skip: a test that does not apply to this deployment (only
# for MSVC_DEPLOY=split, only with ES256, ...) is skipped everywhere, by
# design; a test that could not run because a tool or an executable is
# missing says so with skip_missing(), and under CI=true (which .ci/run
# exports) such a skip fails the run: CI skips nothing it was meant to run.

CI = os.environ.get("CI") == "true"
MISSING = "missing prerequisite: "


def skip_missing(why):
    """Skips the current test (or class, from setUpClass) because `why` (a
    tool, an executable) is missing here; finish() turns that into a
    failure under CI=true."""
    raise unittest.SkipTest(MISSING + why)


def finish(result, prog):
    """The exit status of a finished unittest run: 1 when something failed
    or, under CI=true, when a test was skipped for a missing prerequisite
    (listed loudly either way); otherwise 0."""
    missing = [(t, why) for t, why in result.skipped
               if why.startswith(MISSING)]
    if missing:
        bar = "=" * 70
        print("%s\n%s: %d test(s) skipped for a missing prerequisite%s:"
              % (bar, prog, len(missing),
                 " - a FAILURE under CI=true" if CI else ""),
              file=sys.stderr)
        for t, why in missing:
            print("  %s: %s" % (t.id(), why[len(MISSING):]), file=sys.stderr)
        print(bar, file=sys.stderr)
    if not result.wasSuccessful():
        return 1
    return 1 if missing and CI else 0


def load_vectors():
    with open(VECTORS_FILE, "rb") as f:
        return json.load(f)


def missing_binaries(mode=None):
    """Names of the executables `mode` needs that are not there."""
    mode = mode or DEPLOY
    need = {"server": [("msvc-server", SERVER_BIN)],
            "auth": [("msvc-auth", AUTH_BIN)],
            "post": [("msvc-post", POST_BIN)],
            "split": [("msvc-auth", AUTH_BIN), ("msvc-post", POST_BIN)]}[mode]
    return [name for name, path in need
            if not path or not os.access(path, os.X_OK)]


# ---- ports ---------------------------------------------------------------

_used_ports = set()
_ports_lock = threading.Lock()


def _port_is_free(port):
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(("127.0.0.1", port))
        return False  # somebody listens there (maybe with SO_REUSEPORT)
    except OSError:
        pass
    finally:
        probe.close()
    again = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # As the servers and nginx bind: a port whose old connections linger
    # in TIME_WAIT is free for them, and must count as free here too.
    again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        again.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        again.close()


def free_port():
    """A loopback port that is free now and was never handed out before."""
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        with _ports_lock:
            if port in _used_ports:
                continue
            if _port_is_free(port):
                _used_ports.add(port)
                return port
    raise RuntimeError("no free loopback port found")


# ---- HTTP ------------------------------------------------------------------

class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body
        self.json = None
        try:
            self.json = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            self.json = None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return "<%d %s %r>" % (self.status, self.reason, self.body[:400])


def check_universal(resp, what=""):
    """The contract's rules for every answer; raises AssertionError."""
    with _stats_lock:
        stats["responses_checked"] += 1
    for marker in HASH_MARKERS:
        if marker in resp.body:
            raise AssertionError("%s: response contains a password hash "
                                 "marker %r: %r" % (what, marker, resp.body))
    if not isinstance(resp.json, dict):
        raise AssertionError("%s: response body is not a JSON object: %r"
                             % (what, resp))
    ctype = resp.header("Content-Type") or ""
    if not ctype.lower().startswith("application/json"):
        raise AssertionError("%s: Content-Type %r, not application/json"
                             % (what, ctype))
    low = resp.body.lower()
    for leak in (b"sqlite3_", b"sqlite_", b"mongoc_", b"/msvc-http-"):
        if leak in low:
            raise AssertionError("%s: response leaks internals (%r): %r"
                                 % (what, leak, resp.body[:400]))
    if resp.status >= 400:
        if resp.json.get("status") != resp.status:
            raise AssertionError("%s: error body's status %r != %d: %r"
                                 % (what, resp.json.get("status"),
                                    resp.status, resp))
        if not isinstance(resp.json.get("message"), str) or \
                not resp.json["message"]:
            raise AssertionError("%s: error without a message: %r"
                                 % (what, resp))


_NO_BODY = object()


def request(base_url, method, path, json_body=_NO_BODY, *, body=None,
            token=None, auth=None, headers=None,
            content_type="application/json", timeout=REQUEST_TIMEOUT,
            check=True):
    """One request on a fresh connection.

    json_body is serialised; body sends raw bytes instead.  token adds
    "Authorization: Bearer <token>"; auth sets the header verbatim.
    content_type None sends no Content-Type.  With check, the universal
    rules of the contract are asserted on the answer."""
    u = urllib.parse.urlsplit(base_url)
    hdrs = {}
    if json_body is not _NO_BODY:
        body = json.dumps(json_body).encode("utf-8")
    if body is not None and content_type is not None:
        hdrs["Content-Type"] = content_type
    if token is not None:
        hdrs["Authorization"] = "Bearer " + token
    if auth is not None:
        hdrs["Authorization"] = auth
    if headers:
        hdrs.update(headers)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        resp = Response(r.status, r.reason, r.getheaders(), r.read())
    finally:
        conn.close()
    if MUTATE:
        mutate(resp, MUTATE)
    if check:
        check_universal(resp, "%s %s" % (method, path[:200]))
    return resp


# ---- a check of the suite itself --------------------------------------------
# MSVC_HTTP_MUTATE=<name> (run.py --mutate) corrupts every answer the way a
# buggy server would, before the tests look at it; a run with a mutation
# that still passes shows a rule the suite does not really check.

MUTATE = os.environ.get("MSVC_HTTP_MUTATE", "")


def _walk(value, fn):
    if isinstance(value, dict):
        fn(value)
        for v in value.values():
            _walk(v, fn)
    elif isinstance(value, list):
        for v in value:
            _walk(v, fn)


def _mutate_json(resp, fn):
    if isinstance(resp.json, dict):
        _walk(resp.json, fn)
        resp.body = json.dumps(resp.json).encode()


def _without_header(resp, name):
    resp.headers = [(k, v) for k, v in resp.headers if k.lower() != name]


def _strip_ms(d):
    for k in ("created_at", "updated_at"):
        if isinstance(d.get(k), str):
            d[k] = d[k][:19] + "Z"


def _reverse_posts(d):
    for k in ("posts", "postWithUsers"):
        if isinstance(d.get(k), list):
            d[k].reverse()


MUTATIONS = {
    "status_201_as_200": lambda r: setattr(
        r, "status", 200 if r.status == 201 else r.status),
    "no_allow_header": lambda r: _without_header(r, "allow"),
    "no_retry_after": lambda r: _without_header(r, "retry-after"),
    "no_warning_header": lambda r: _without_header(r, "warning"),
    "hash_in_user": lambda r: _mutate_json(r, lambda d: d.update(
        password="$2b$10$" + "x" * 53) if "email" in d else None),
    "extra_field": lambda r: _mutate_json(r, lambda d: d.update(
        extra=1) if "id" in d else None),
    "error_message": lambda r: _mutate_json(r, lambda d: d.update(
        message="Error") if "status" in d else None),
    "no_degraded": lambda r: _mutate_json(r, lambda d: d.pop(
        "degraded", None)),
    "timestamps_without_ms": lambda r: _mutate_json(r, _strip_ms),
    "posts_oldest_first": lambda r: _mutate_json(r, _reverse_posts),
    "errors_dropped": lambda r: _mutate_json(r, lambda d: d.pop(
        "errors", None)),
    "404_as_400": lambda r: setattr(
        r, "status", 400 if r.status == 404 else r.status),
}


def mutate(resp, name):
    MUTATIONS[name](resp)


def raw_exchange(base_url, data, timeout=10.0, shutdown_write=False):
    """Sends raw bytes and returns whatever arrives until the peer closes
    or `timeout` passes without data."""
    u = urllib.parse.urlsplit(base_url)
    s = socket.create_connection((u.hostname, u.port), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        if shutdown_write:
            s.shutdown(socket.SHUT_WR)
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        s.close()
    return out


# ---- tokens ---------------------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    text += "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text.encode("ascii"))


def mint(claims, secret=TEST_SECRET, alg="HS256", header=None):
    """A compact JWT signed with HMAC-SHA256/512 (alg "none": unsigned)."""
    hdr = header if header is not None else {"alg": alg, "typ": "JWT"}
    def part(obj):
        return b64url(json.dumps(obj, separators=(",", ":")).encode())
    signing_input = part(hdr) + "." + part(claims)
    if alg == "none":
        return signing_input + "."
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    key = secret.encode() if isinstance(secret, str) else secret
    sig = hmac.new(key, signing_input.encode("ascii"), digest).digest()
    return signing_input + "." + b64url(sig)


def jwt_parts(token):
    h, p, s = token.split(".")
    return (json.loads(b64url_decode(h)), json.loads(b64url_decode(p)),
            b64url_decode(s))


def hs256_valid(token, secret):
    h, p, s = token.split(".")
    want = hmac.new(secret.encode(), (h + "." + p).encode("ascii"),
                    hashlib.sha256).digest()
    return hmac.compare_digest(want, b64url_decode(s))


def user_claims(user, lifetime=3600, now=None):
    now = int(time.time()) if now is None else now
    return {"id": user["id"], "name": user["name"], "email": user["email"],
            "iat": now, "exp": now + lifetime}


# ---- processes --------------------------------------------------------------

class ProcError(AssertionError):
    pass


# Every child still running when the suite ends is killed: at exit of the
# interpreter, and (through setpriv's parent-death signal) when the runner
# itself is killed, e.g. by ctest's timeout.
_children = []
SETPRIV = shutil.which("setpriv")


@atexit.register
def _kill_children():
    for p in _children:
        if p.poll() is None:
            p.kill()
            p.wait()


class Proc:
    """One executable on its own port, logging to its own file."""

    def __init__(self, name, binary, workdir, env, port=None, args=()):
        self.name = name
        self.binary = binary
        self.workdir = workdir
        self.env = dict(env)
        self.args = list(args)
        self.port = port if port is not None else free_port()
        self.log_path = os.path.join(workdir, name + ".log")
        self.popen = None
        self.starts = 0

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def child_env(self):
        env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
        env["PORT"] = str(self.port)
        # In the sanitizer build, LeakSanitizer lists the servers' built-in
        # suppressions it used at exit, into the log the tests read line
        # by line (LOG_FORMAT=json); leaks themselves are still reported.
        lsan = env.get("LSAN_OPTIONS", "")
        if "print_suppressions" not in lsan:
            env["LSAN_OPTIONS"] = (lsan + ":" if lsan else "") + \
                "print_suppressions=0"
        for k, v in self.env.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
        return env

    def start(self, wait=True):
        assert not self.alive(), "%s already running" % self.name
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(("==== harness: start #%d of %s on port %d\n"
                       % (self.starts, self.name, self.port)).encode())
            log.flush()
            prefix = [SETPRIV, "--pdeathsig", "KILL", "--"] if SETPRIV \
                else []
            self.popen = subprocess.Popen(
                prefix + [self.binary] + self.args, cwd=self.workdir,
                env=self.child_env(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
            _children.append(self.popen)
        if wait:
            self.wait_healthy()

    def start_retrying(self, attempts=3):
        """start(), on a new port when the first one was taken meanwhile
        (another test run may have bound it between our check and now);
        only before the first successful start: a restart keeps its port."""
        for attempt in range(attempts):
            try:
                self.start()
                self.started_ok = True
                return
            except ProcError:
                raced = (not self.alive() and
                         "in use" in self.log_text().split(
                             "==== harness: start")[-1].lower())
                if not raced or getattr(self, "started_ok", False) or \
                        attempt == attempts - 1:
                    self.kill()
                    raise
                self.port = free_port()

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def wait_healthy(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if not self.alive():
                raise ProcError("%s exited with %s during start-up\n%s"
                                % (self.name, self.popen.returncode,
                                   self.log_tail()))
            try:
                r = request(self.url, "GET", "/healthz", timeout=2,
                            check=False)
                if r.status == 200:
                    return
                last = r
            except OSError as e:
                last = e
            time.sleep(0.05)
        raise ProcError("%s not healthy after %.0f s (last: %r)\n%s"
                        % (self.name, timeout, last, self.log_tail()))

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM; returns the exit code (None if it had to be killed)."""
        if self.popen is None or self.popen.poll() is not None:
            return self.popen.returncode if self.popen else 0
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            return None

    def kill(self):
        if self.alive():
            self.popen.kill()
        if self.popen is not None:
            self.popen.wait()

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines=150):
        text = self.log_text().splitlines()
        return ("---- %s (%s), last %d lines ----\n" %
                (self.name, self.log_path, min(lines, len(text))) +
                "\n".join(text[-lines:]))


_db_counter = itertools.count(1)


def fresh_database_url(workdir, stem):
    """sqlite file in workdir, or a fresh database on MSVC_DATABASE_URL."""
    if not DATABASE_URL:
        return "sqlite:" + os.path.join(workdir, stem + ".db")
    u = urllib.parse.urlsplit(DATABASE_URL)
    base = u.path.strip("/") or "msvc_http"
    name = "%s_%d_%d_%s" % (base[:30], os.getpid() % 100000,
                            next(_db_counter), stem)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query,
                                    u.fragment))


class Deployment:
    """The processes of one deployment, sharing one temporary directory.

    mode "server": one msvc-server.  mode "split": `auth_count` msvc-auth
    processes on one database and one msvc-post (its own database) with
    AUTH_MICRO_URL listing them all.  mode "auth": one msvc-auth alone.
    `env` applies to every process (a value None removes the variable);
    secret None leaves JWT_SECRET unset."""

    def __init__(self, workdir, mode=None, env=None, secret=TEST_SECRET,
                 auth_count=2, resolver=None, post_env=None, auth_env=None):
        self.workdir = workdir
        self.mode = mode or DEPLOY
        self.secret = secret
        self.auth_procs = []
        self.post_proc = None
        base = {"DATA_DIR": os.path.join(workdir, "data"),
                "PASSWORD_COST": "4", "ACCESS_LOG": "1"}
        if secret is not None:
            base["JWT_SECRET"] = secret
        if JWT_ALGORITHM:
            base["JWT_ALGORITHM"] = JWT_ALGORITHM
        base.update(env or {})
        os.makedirs(base["DATA_DIR"], exist_ok=True)
        if self.mode == "server":
            e = dict(base, DATABASE_URL=fresh_database_url(workdir, "msvc"))
            self.auth_procs.append(Proc("msvc-server", SERVER_BIN, workdir, e))
            self.post_proc = self.auth_procs[0]
        elif self.mode in ("split", "auth"):
            auth_db = fresh_database_url(workdir, "auth")
            n = 1 if self.mode == "auth" else auth_count
            for i in range(n):
                e = dict(base, DATABASE_URL=auth_db)
                e.update(auth_env or {})
                self.auth_procs.append(
                    Proc("msvc-auth-%d" % (i + 1), AUTH_BIN, workdir, e))
            if self.mode == "split":
                e = dict(base,
                         DATABASE_URL=fresh_database_url(workdir, "post"),
                         AUTH_MICRO_URL=",".join(p.url
                                                 for p in self.auth_procs),
                         USER_RESOLVER=resolver or RESOLVER)
                e.update(post_env or {})
                self.post_proc = Proc("msvc-post", POST_BIN, workdir, e)
            else:
                self.post_proc = None
        else:
            raise ValueError("unknown deployment mode %r" % self.mode)

    @property
    def procs(self):
        ps = list(self.auth_procs)
        if self.post_proc is not None and self.post_proc not in ps:
            ps.append(self.post_proc)
        return ps

    @property
    def auth_url(self):
        return self.auth_procs[0].url

    @property
    def auth_urls(self):
        return [p.url for p in self.auth_procs]

    @property
    def post_url(self):
        return self.post_proc.url if self.post_proc else None

    def start(self):
        # Auth first: msvc-post is told where the auth processes listen.
        for p in self.auth_procs:
            p.start_retrying()
        if self.post_proc is not None and self.post_proc not in \
                self.auth_procs:
            if "AUTH_MICRO_URL" in self.post_proc.env:
                self.post_proc.env["AUTH_MICRO_URL"] = ",".join(
                    p.url for p in self.auth_procs)
            self.post_proc.start_retrying()

    def stop(self):
        """SIGTERM to every process; asserts each exited 0."""
        bad = []
        for p in reversed(self.procs):
            rc = p.stop()
            if rc != 0:
                bad.append("%s exited with %r after SIGTERM\n%s"
                           % (p.name, rc, p.log_tail()))
        if bad:
            raise ProcError("\n".join(bad))

    def kill(self):
        for p in self.procs:
            p.kill()

    def restart(self, hard=False):
        if hard:
            self.kill()
        else:
            self.stop()
        self.start()

    def dump_logs(self, out=sys.stderr):
        for p in self.procs:
            out.write(p.log_tail() + "\n")
        out.flush()


# ---- the test case base -----------------------------------------------------

_email_counter = itertools.count(1)


def unique_email(tag="u"):
    return "%s%d-%s@example.com" % (tag, next(_email_counter),
                                    uuid.uuid4().hex[:10])


class DeployedTestCase(unittest.TestCase):
    """One deployment per test class, started in setUpClass.

    Subclasses set ENV (extra settings), SECRET (None: no JWT_SECRET), MODE
    (None: MSVC_DEPLOY), REQUIRES_MODE (skip unless MSVC_DEPLOY is that: a
    skip by design, never a failure; missing executables are skip_missing)."""

    ENV = {}
    SECRET = TEST_SECRET
    MODE = None
    REQUIRES_MODE = None
    AUTH_COUNT = 2
    POST_ENV = {}
    AUTH_ENV = {}

    @classmethod
    def setUpClass(cls):
        if cls.REQUIRES_MODE and DEPLOY != cls.REQUIRES_MODE:
            raise unittest.SkipTest("only for MSVC_DEPLOY=%s" %
                                    cls.REQUIRES_MODE)
        missing = missing_binaries(cls.MODE)
        if missing:
            skip_missing("executables not built: %s" % ", ".join(missing))
        cls.tmp = tempfile.mkdtemp(prefix="msvc-http-%s-" % cls.__name__)
        cls.failed = False
        cls.ran = 0
        cls.dep = cls.make_deployment(cls.tmp)
        # A cleanup, not tearDownClass: it also runs when a subclass's
        # setUpClass fails after the deployment started.
        cls.addClassCleanup(cls.stop_deployment)
        cls.dep.start()
        cls.auth_url = cls.dep.auth_url
        cls.post_url = cls.dep.post_url

    @classmethod
    def make_deployment(cls, workdir, **kw):
        args = dict(mode=cls.MODE, env=cls.ENV, secret=cls.SECRET,
                    auth_count=cls.AUTH_COUNT, post_env=cls.POST_ENV,
                    auth_env=cls.AUTH_ENV)
        args.update(kw)
        return Deployment(workdir, **args)

    @classmethod
    def stop_deployment(cls):
        """SIGTERM to the deployment: every process must exit 0."""
        if cls.ran == 0:  # set-up failed: show why
            cls.failed = True
            cls.dep.dump_logs()
        try:
            cls.dep.stop()
        except BaseException:
            cls.failed = True
            cls.dep.kill()
            raise
        finally:
            if not cls.failed and not os.environ.get("MSVC_KEEP_TMP"):
                shutil.rmtree(cls.tmp, ignore_errors=True)
            elif cls.failed:
                sys.stderr.write("kept %s for inspection\n" % cls.tmp)

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result else 0
        type(self).ran = getattr(type(self), "ran", 0) + 1
        out = super().run(result)
        if result is not None and \
                len(result.failures) + len(result.errors) > before:
            type(self).failed = True
            dep = getattr(type(self), "dep", None)
            if dep is not None:
                sys.stderr.write("\n==== logs after the failure of %s\n"
                                 % self.id())
                dep.dump_logs()
        return out

    # -- requests against the roles ---------------------------------------

    def auth(self, method, path, json_body=_NO_BODY, **kw):
        return request(self.auth_url, method, path, json_body, **kw)

    def post(self, method, path, json_body=_NO_BODY, **kw):
        return request(self.post_url, method, path, json_body, **kw)

    # -- common steps, with their own checks --------------------------------

    @classmethod
    def make_user(cls, name, password=PASSWORD):
        """Registers and logs in a user (usable in setUpClass); returns the
        USER plus "token" and "password"."""
        email = unique_email(name.lower().replace(" ", ""))
        r = request(cls.auth_url, "POST", "/api/register",
                    {"name": name, "email": email, "password": password})
        if r.status != 201:
            raise AssertionError("register: %r" % r)
        user = dict(r.json["user"], password=password)
        r = request(cls.auth_url, "POST", "/api/login",
                    {"email": email, "password": password})
        if r.status != 200:
            raise AssertionError("login: %r" % r)
        user["token"] = r.json["access_token"].split(" ", 1)[1]
        return user

    def register(self, name=None, email=None, password=PASSWORD, url=None):
        email = email or unique_email()
        name = name or "User " + email.split("@")[0]
        r = request(url or self.auth_url, "POST", "/api/register",
                    {"name": name, "email": email, "password": password})
        self.assertEqual(r.status, 201, r)
        return r.json["user"]

    def login(self, email, password=PASSWORD, url=None):
        r = request(url or self.auth_url, "POST", "/api/login",
                    {"email": email, "password": password})
        self.assertEqual(r.status, 200, r)
        scheme, _, token = r.json["access_token"].partition(" ")
        self.assertEqual(scheme, "Bearer")
        return token

    def new_user(self, name=None, password=PASSWORD):
        """Registers and logs in a fresh user; returns the USER plus
        "token" and "password"."""
        user = self.register(name=name, password=password)
        user = dict(user, password=password)
        user["token"] = self.login(user["email"], password)
        return user

    def create_post(self, token, title="A title", content="Some content"):
        r = self.post("POST", "/api/posts", {"title": title,
                                             "content": content}, token=token)
        self.assertEqual(r.status, 201, r)
        return r.json["post"]

    def list_all(self, query="", limit=100, max_pages=1000):
        """Follows next_cursor to the end; returns the posts in order."""
        out = []
        cursor = None
        for _ in range(max_pages):
            q = "limit=%d" % limit
            if query:
                q += "&" + query
            if cursor:
                q += "&cursor=" + urllib.parse.quote(cursor, safe="")
            r = self.post("GET", "/api/posts?" + q)
            self.assertEqual(r.status, 200, r)
            out.extend(r.json["posts"])
            cursor = r.json["next_cursor"]
            if cursor is None:
                return out
        self.fail("paging did not end after %d pages" % max_pages)

    # -- shape assertions ---------------------------------------------------

    def assertTimestamp(self, value, near_now=True):
        self.assertIsInstance(value, str)
        self.assertRegex(value, ISO_MS)
        if near_now:
            t = time_from_iso(value)
            self.assertLess(abs(t - time.time()), 600,
                            "timestamp %s is not near now" % value)

    def assertUser(self, user, name=None, email=None):
        self.assertIsInstance(user, dict)
        self.assertEqual(set(user), USER_KEYS, user)
        self.assertRegex(user["id"], OBJECT_ID)
        self.assertTimestamp(user["created_at"], near_now=False)
        self.assertTimestamp(user["updated_at"], near_now=False)
        self.assertGreaterEqual(user["updated_at"], user["created_at"])
        if name is not None:
            self.assertEqual(user["name"], name)
        if email is not None:
            self.assertEqual(user["email"], email)

    def assertPublicUser(self, user, of=None):
        self.assertIsInstance(user, dict)
        self.assertEqual(set(user), PUBLIC_USER_KEYS, user)
        if of is not None:
            self.assertEqual(user, {"id": of["id"], "name": of["name"],
                                    "email": of["email"]})

    def assertPost(self, post, author=None, title=None, content=None):
        self.assertIsInstance(post, dict)
        self.assertEqual(set(post), POST_KEYS, post)
        self.assertRegex(post["id"], OBJECT_ID)
        self.assertTimestamp(post["created_at"], near_now=False)
        self.assertTimestamp(post["updated_at"], near_now=False)
        self.assertGreaterEqual(post["updated_at"], post["created_at"])
        if author is not None:
            self.assertEqual(post["user_id"], author["id"])
            self.assertPublicUser(post["user"], of=author)
        if title is not None:
            self.assertEqual(post["title"], title)
        if content is not None:
            self.assertEqual(post["content"], content)

    def assertLoginAnswer(self, answer, sessions=True):
        """The login (or refresh) answer's exact key set: the seed's, plus
        the refresh token when sessions are on."""
        want = LOGIN_KEYS | (SESSION_LOGIN_KEYS if sessions else set())
        self.assertEqual(set(answer), want, answer)
        if sessions:
            self.assertIsInstance(answer["refresh_token"], str)
            self.assertGreaterEqual(len(answer["refresh_token"]), 43)
            self.assertIsInstance(answer["refresh_expires_in"], int)
            self.assertGreater(answer["refresh_expires_in"], 0)

    def assertTokenShape(self, token, sessions=True):
        """A user token's exact header and claim sets (seed's + sessions')."""
        header, claims, _ = jwt_parts(token)
        self.assertTrue(set(header) <= HEADER_KEYS | {"kid"}, header)
        self.assertTrue(HEADER_KEYS <= set(header), header)
        want = CLAIM_KEYS | (SESSION_CLAIM_KEYS if sessions else set())
        self.assertEqual(set(claims), want, claims)
        if sessions:
            self.assertIsInstance(claims["sid"], str)
            self.assertRegex(claims["sid"], OBJECT_ID)
            self.assertIsInstance(claims["jti"], str)
            self.assertTrue(claims["jti"])
        return header, claims

    def assertError(self, resp, status, message=None):
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(resp.json["status"], status)
        if message is not None:
            self.assertEqual(resp.json["message"], message, resp)

    def assertUnauthorized(self, resp):
        self.assertError(resp, 401, "UnAuthorized")

    def assertValidation(self, resp, fields):
        """422 whose errors name exactly `fields`."""
        self.assertError(resp, 422)
        errs = resp.json.get("errors")
        self.assertIsInstance(errs, dict, resp)
        self.assertEqual(set(errs), set(fields), resp)
        for v in errs.values():
            self.assertIsInstance(v, str)
            self.assertTrue(v)

    def assertAlive(self, url=None):
        r = request(url or self.auth_url, "GET", "/healthz", timeout=10)
        self.assertEqual(r.status, 200)
        if self.post_url and self.post_url != self.auth_url:
            r = request(self.post_url, "GET", "/healthz", timeout=10)
            self.assertEqual(r.status, 200)


def time_from_iso(value):
    import calendar
    base, ms = value[:-1].split(".")
    t = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    return t + int(ms) / 1000.0


def run_threads(n, target, *args):
    """Runs target(i, *args) on n threads; re-raises the first exception."""
    errors = []

    def wrap(i):
        try:
            target(i, *args)
        except BaseException as e:  # noqa: B902 - reported below
            errors.append(e)
    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def poll(fn, timeout, interval=0.2):
    """Calls fn until it returns a true value or timeout passes; returns the
    last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)
