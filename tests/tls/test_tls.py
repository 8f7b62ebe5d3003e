#!/usr/bin/env python3
"""test_tls.py - TLS and HTTP/2 on the listener, driven from outside.

The suite makes its own CA and certificates with the openssl CLI, starts the
real executables with --tls-cert/--tls-key (TLS_CERT/TLS_KEY) and talks to
them with the tools their users use: curl --http2 (HTTP/2 and HTTP/1.1 over
TLS, the version checked with -w %{http_version}), openssl s_client (ALPN,
protocol versions, ciphers) and Python's ssl module.  It checks:

- /healthz and the API over HTTP/2 and HTTP/1.1, ALPN h2 and http/1.1;
- TLS 1.0/1.1 and non-forward-secret ciphers refused (with a client that
  is allowed to try them: OpenSSL's own security level would refuse first);
- garbage, plain HTTP, a cut handshake and bad HTTP/2 frames on the TLS port
  get no 5xx and leave the server serving;
- start-up refused, with a clear reason and exit status 1, for an expired
  certificate, a key of another certificate, unreadable or non-PEM files,
  and a certificate without its key;
- SIGHUP: new connections get the new certificate, connections already
  open (HTTP/1.1 keep-alive and an HTTP/2 connection in use) are kept, and
  bad files leave the old certificate in place;
- the split deployment with https:// between msvc-post and msvc-auth, the
  CA given with UPSTREAM_CA_FILE (HS256 and ES256, where msvc-post also
  fetches the published keys over https), and without the CA the authors
  are missing (degraded), so the peer really is verified.

Run by ctest (tests/tls/tests.cmake) or directly; exit 77 (skip) when a
tool or an executable is missing, a failure instead with CI=true.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
import harness as h  # noqa: E402

TLS_VARS = ("TLS_CERT", "TLS_KEY", "UPSTREAM_CA_FILE")
# Never inherited from whoever runs the suite.
h.CONFIG_VARS = h.CONFIG_VARS + tuple(v for v in TLS_VARS
                                      if v not in h.CONFIG_VARS)

OPENSSL = shutil.which("openssl")
CURL = shutil.which("curl")
FIVE_XX = re.compile(rb"HTTP/[0-9.]+ 5\d\d")


def curl_has_http2():
    if not CURL:
        return False
    out = subprocess.run([CURL, "-V"], capture_output=True, text=True).stdout
    return "HTTP2" in out


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("timeout", 60)
    return subprocess.run(cmd, **kw)


# ---- certificates ------------------------------------------------------------

class Pki:
    """A CA and the certificates it issues, in one directory."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.ca = self.path("ca.pem")
        self.ca_key = self.path("ca.key")
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                      self.ca_key, "-out", self.ca, "-days", "3650", "-subj",
                      "/CN=msvc test CA", "-addext",
                      "basicConstraints=critical,CA:TRUE", "-addext",
                      "keyUsage=critical,keyCertSign,cRLSign")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _openssl(self, *args):
        r = run([OPENSSL] + list(args), cwd=self.dir)
        if r.returncode != 0:
            raise AssertionError("openssl %s failed: %s"
                                 % (" ".join(args[:2]), r.stderr.decode()))

    def issue(self, stem, days=30, cn="127.0.0.1", rsa=False):
        """A server certificate for 127.0.0.1/localhost; (cert, key).
        days -1 makes one that expired yesterday."""
        cert, key, csr = (self.path(stem + ".pem"), self.path(stem + ".key"),
                          self.path(stem + ".csr"))
        ext = self.path(stem + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                    "basicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\n")
        newkey = ["-newkey", "rsa:2048"] if rsa else [
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        self._openssl("req", *newkey, "-nodes", "-keyout", key, "-out", csr,
                      "-subj", "/CN=" + cn)
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey",
                      self.ca_key, "-CAcreateserial", "-days", str(days),
                      "-extfile", ext, "-out", cert)
        return cert, key


def der(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def client_context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    return ctx


def https_request(base_url, method, path, json_body=None, *, token=None,
                  ctx=None, conn=None, timeout=30, check=True):
    """One exchange over HTTPS/1.1 (on `conn` when given, kept open)."""
    u = urllib.parse.urlsplit(base_url)
    body = None
    hdrs = {}
    if json_body is not None:
        body = json.dumps(json_body).encode()
        hdrs["Content-Type"] = "application/json"
    if token is not None:
        hdrs["Authorization"] = "Bearer " + token
    own = conn is None
    if own:
        conn = http.client.HTTPSConnection(u.hostname, u.port,
                                           timeout=timeout, context=ctx)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        resp = h.Response(r.status, r.reason, r.getheaders(), r.read())
    finally:
        if own:
            conn.close()
    if check:
        h.check_universal(resp, "%s %s" % (method, path))
    return resp


def peer_certificate(port, ca, alpn=None):
    """The DER certificate a fresh connection is shown, and the ALPN."""
    ctx = client_context(ca)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            return s.getpeercert(binary_form=True), s.selected_alpn_protocol()


def curl(url, *args, ca=None, version="--http2", method=None,
         json_body=None, token=None, timeout=30):
    """One curl call; returns (status, http_version, Response)."""
    with tempfile.TemporaryDirectory() as d:
        body_f, head_f = os.path.join(d, "body"), os.path.join(d, "head")
        cmd = [CURL, "-sS", version, "--max-time", str(timeout), "-o",
               body_f, "-D", head_f, "-w", "%{http_code} %{http_version}"]
        cmd += ["--cacert", ca] if ca else ["-k"]
        if method:
            cmd += ["-X", method]
        if json_body is not None:
            cmd += ["-H", "Content-Type: application/json", "--data-binary",
                    json.dumps(json_body)]
        if token:
            cmd += ["-H", "Authorization: Bearer " + token]
        cmd += list(args) + [url]
        r = run(cmd, timeout=timeout + 10)
        if r.returncode != 0:
            raise AssertionError("curl failed (%d): %s" %
                                 (r.returncode, r.stderr.decode()))
        code, ver = r.stdout.decode().split()
        with open(body_f, "rb") as f:
            body = f.read()
        headers = []
        with open(head_f, "rb") as f:
            for line in f.read().decode("latin-1").splitlines()[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers.append((k.strip(), v.strip()))
        return int(code), ver, h.Response(int(code), "", headers, body)


def discard_each(urls):
    """curl arguments fetching every URL into /dev/null (-o is per URL)."""
    return [a for u in urls for a in ("-o", "/dev/null", u)]


def s_client(port, *args, stdin=b"", timeout=20):
    """openssl s_client against the port; (returncode, output text)."""
    r = run([OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % port,
             "-servername", "localhost"] + list(args),
            input=stdin, timeout=timeout)
    return r.returncode, (r.stdout + r.stderr).decode("utf-8", "replace")


# ---- processes ----------------------------------------------------------------

class TlsProc(h.Proc):
    """A Proc reached over https://, checked with the test CA."""

    def __init__(self, *a, ca, **kw):
        super().__init__(*a, **kw)
        self.ca = ca

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def wait_healthy(self, timeout=h.START_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        ctx = client_context(self.ca)
        while time.monotonic() < deadline:
            if not self.alive():
                raise h.ProcError("%s exited with %s during start-up\n%s"
                                  % (self.name, self.popen.returncode,
                                     self.log_tail()))
            try:
                r = https_request(self.url, "GET", "/healthz", ctx=ctx,
                                  timeout=2, check=False)
                if r.status == 200:
                    return
                last = r
            except (OSError, ssl.SSLError) as e:
                last = e
            time.sleep(0.05)
        raise h.ProcError("%s not healthy after %.0f s (last: %r)\n%s"
                          % (self.name, timeout, last, self.log_tail()))


def base_env(workdir, stem):
    data = os.path.join(workdir, "data-" + stem)
    os.makedirs(data, exist_ok=True)
    return {"DATA_DIR": data, "PASSWORD_COST": "4", "ACCESS_LOG": "1",
            "JWT_SECRET": h.TEST_SECRET, "THREADS": "2",
            "DATABASE_URL": "sqlite:" + os.path.join(workdir, stem + ".db")}


class TlsCase(unittest.TestCase):
    """Common set-up: a temporary directory with a CA; processes started
    by a test class are stopped (and must exit 0) at its end."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="msvc-tls-%s-" % cls.__name__)
        cls.pki = Pki(os.path.join(cls.tmp, "pki"))
        cls.ctx = client_context(cls.pki.ca)
        cls.procs = []
        cls.failed = False
        cls.addClassCleanup(cls.stop_all)

    @classmethod
    def start(cls, name, binary, env, cert=None, key=None):
        env = dict(env)
        if cert:
            env["TLS_CERT"] = cert
        if key:
            env["TLS_KEY"] = key
        cls_ = TlsProc if cert else h.Proc
        kw = {"ca": cls.pki.ca} if cert else {}
        p = cls_(name, binary, cls.tmp, env, **kw)
        cls.procs.append(p)
        p.start_retrying()
        return p

    @classmethod
    def stop_all(cls):
        bad = []
        for p in reversed(cls.procs):
            rc = p.stop()
            if rc != 0:
                bad.append("%s exited with %r after SIGTERM\n%s"
                           % (p.name, rc, p.log_tail()))
        if bad or cls.failed:
            for p in cls.procs:
                sys.stderr.write(p.log_tail() + "\n")
            sys.stderr.write("kept %s for inspection\n" % cls.tmp)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)
        if bad:
            raise h.ProcError("\n".join(bad))

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result else 0
        out = super().run(result)
        if result is not None and \
                len(result.failures) + len(result.errors) > before:
            type(self).failed = True
        return out

    def assertServing(self, proc):
        self.assertTrue(proc.alive(), proc.log_tail())
        r = https_request(proc.url, "GET", "/healthz", ctx=self.ctx)
        self.assertEqual(r.status, 200, r)


# ---- msvc-server on TLS ----------------------------------------------------------

class ServerOverTls(TlsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cert, key = cls.pki.issue("server")
        cls.srv = cls.start("msvc-server", h.SERVER_BIN,
                            base_env(cls.tmp, "server"), cert, key)
        cls.url = cls.srv.url
        cls.port = cls.srv.port

    def test_startup_log_names_https_and_the_certificate(self):
        log = self.srv.log_text()
        self.assertIn("listening on https://127.0.0.1:%d" % self.port, log)
        self.assertIn("TLS 1.2+", log)
        self.assertIn("ALPN h2, http/1.1", log)

    def test_healthz_over_http2_with_curl(self):
        code, ver, resp = curl(self.url + "/healthz", ca=self.pki.ca)
        self.assertEqual((code, ver), (200, "2"))
        h.check_universal(resp, "GET /healthz over h2")

    def test_healthz_over_http11_with_curl(self):
        code, ver, resp = curl(self.url + "/healthz", ca=self.pki.ca,
                               version="--http1.1")
        self.assertEqual((code, ver), (200, "1.1"))
        h.check_universal(resp, "GET /healthz over https/1.1")

    def test_the_api_over_http2(self):
        email = h.unique_email("h2")
        ca = self.pki.ca
        code, ver, r = curl(self.url + "/api/register", ca=ca,
                            json_body={"name": "Two", "email": email,
                                       "password": h.PASSWORD})
        self.assertEqual((code, ver), (201, "2"), r)
        h.check_universal(r, "register over h2")
        code, _, r = curl(self.url + "/api/login", ca=ca,
                          json_body={"email": email,
                                     "password": h.PASSWORD})
        self.assertEqual(code, 200, r)
        token = r.json["access_token"].split(" ", 1)[1]
        code, _, r = curl(self.url + "/api/user", ca=ca, token=token)
        self.assertEqual(code, 200, r)
        self.assertEqual(r.json["user"]["email"], email)
        code, _, r = curl(self.url + "/api/posts", ca=ca, token=token,
                          json_body={"title": "over h2", "content": "yes"})
        self.assertEqual(code, 201, r)
        pid = r.json["post"]["id"]
        code, _, r = curl(self.url + "/api/posts/" + pid, ca=ca)
        self.assertEqual(code, 200, r)
        self.assertEqual(r.json["post"]["user"]["email"], email)
        # Errors keep the contract's JSON over h2 as well.
        code, _, r = curl(self.url + "/api/user", ca=ca)
        self.assertEqual(code, 401, r)
        h.check_universal(r, "401 over h2")
        code, _, r = curl(self.url + "/nowhere", ca=ca)
        self.assertEqual(code, 404, r)
        h.check_universal(r, "404 over h2")

    def test_many_streams_on_one_http2_connection(self):
        r = run([CURL, "-sS", "--http2", "--cacert", self.pki.ca,
                 "--parallel", "--parallel-max", "20", "-w",
                 "%{http_code} %{http_version} %{num_connects}\n"]
                + discard_each([self.url + "/healthz"] * 20), timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.decode().split("\n")[:-1]
        self.assertEqual(len(lines), 20)
        for line in lines:
            code, ver, _ = line.split()
            self.assertEqual((code, ver), ("200", "2"))
        self.assertServing(self.srv)

    def test_alpn_with_s_client(self):
        for proto in ("h2", "http/1.1"):
            rc, out = s_client(self.port, "-alpn", proto, "-CAfile",
                               self.pki.ca)
            self.assertEqual(rc, 0, out)
            self.assertIn("ALPN protocol: %s" % proto, out)
            self.assertIn("Verify return code: 0 (ok)", out)
        # Both offered: the server prefers h2.
        rc, out = s_client(self.port, "-alpn", "http/1.1,h2")
        self.assertIn("ALPN protocol: h2", out)
        # No ALPN at all: HTTP/1.1, which Python's client speaks.
        _, alpn = peer_certificate(self.port, self.pki.ca)
        self.assertIsNone(alpn)
        r = https_request(self.url, "GET", "/healthz", ctx=self.ctx)
        self.assertEqual(r.status, 200)

    def test_tls12_and_tls13_accepted(self):
        for flag, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
            rc, out = s_client(self.port, flag, "-CAfile", self.pki.ca)
            self.assertEqual(rc, 0, out)
            self.assertRegex(out, r"New, %s, Cipher is " % re.escape(name))
            code, ver, _ = curl(self.url + "/healthz", "--tlsv1.2",
                                "--tls-max", name[-3:], ca=self.pki.ca)
            self.assertEqual((code, ver), (200, "2"))

    def client_can_speak(self, flag, *extra):
        """Whether this openssl client can do `flag` at all: against its
        own s_server allowing it (a control for the refusals below)."""
        port = h.free_port()
        cert, key = self.pki.issue("control")
        srv = subprocess.Popen(
            [OPENSSL, "s_server", "-accept", str(port), "-cert", cert,
             "-key", key, flag, "-cipher", "ALL:@SECLEVEL=0", "-www"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), 1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            rc, out = s_client(port, flag, *extra)
            return rc == 0 and "Cipher is (NONE)" not in out
        finally:
            srv.kill()
            srv.wait()

    def test_old_protocols_refused(self):
        for flag in ("-tls1_1", "-tls1"):
            weak = ("-cipher", "ALL:@SECLEVEL=0")
            rc, out = s_client(self.port, flag, *weak)
            self.assertNotEqual(rc, 0, out)
            self.assertIn("Cipher is (NONE)", out)  # no session
            if self.client_can_speak(flag, *weak):
                pass  # the refusal above is the server's
            else:
                sys.stderr.write("note: this openssl cannot speak %s at all "
                                 "(the refusal proves less)\n" % flag)
        r = run([CURL, "-sS", "-o", "/dev/null", "--cacert", self.pki.ca,
                 "--tlsv1.0", "--tls-max", "1.1", "--ciphers",
                 "DEFAULT@SECLEVEL=0", self.url + "/healthz"])
        self.assertNotEqual(r.returncode, 0)
        self.assertServing(self.srv)

    def test_weak_ciphers_refused(self):
        # Static RSA / CBC / 3DES suites: not offered (and the key is EC
        # anyway); an RSA-free ECDHE-ECDSA AEAD suite works.
        for cipher in ("AES128-SHA", "DES-CBC3-SHA", "ECDHE-ECDSA-AES128-SHA",
                       "RC4-SHA", "NULL-SHA"):
            rc, out = s_client(self.port, "-tls1_2", "-cipher",
                               cipher + ":@SECLEVEL=0")
            self.assertNotEqual(rc, 0, "%s accepted:\n%s" % (cipher, out))
        rc, out = s_client(self.port, "-tls1_2", "-cipher",
                           "ECDHE-ECDSA-AES128-GCM-SHA256")
        self.assertEqual(rc, 0, out)

    def test_garbage_and_plain_http_on_the_tls_port(self):
        hello = (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" +
                 os.urandom(32))
        inputs = [
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2"
            b"\r\n\r\n{}",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00" * 64,
            os.urandom(4096),
            b"\x16\x03\x03\xff\xff" + os.urandom(100),  # huge record length
            hello,  # a cut ClientHello
            b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00",  # a nonsense one
            b"\x15\x03\x03\x00\x02\x02\x28",  # an alert first
            b"\x00" * 10000,
            b"\r\n" * 1000,
        ]
        for data in inputs:
            out = h.raw_exchange(self.url, data, timeout=5,
                                 shutdown_write=True)
            self.assertIsNone(FIVE_XX.search(out), (data[:40], out[:200]))
        self.assertServing(self.srv)

        def storm(i):
            h.raw_exchange(self.url, inputs[i % len(inputs)], timeout=5)
        h.run_threads(40, storm)
        self.assertServing(self.srv)

    def test_garbage_inside_tls(self):
        # A good handshake, then bytes that are neither HTTP/1.1 nor HTTP/2.
        for alpn, data in ((None, b"\x00\xff garbage\r\n\r\n"),
                           ("http/1.1", b"GET / HTTP/9.9\r\n\x00\r\n\r\n"),
                           ("h2", b"not the connection preface at all" * 4),
                           ("h2", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                  b"\x00\x00\x04\x01\x00\x00\x00\x00\x01"
                                  + os.urandom(200))):
            ctx = client_context(self.pki.ca)
            if alpn:
                ctx.set_alpn_protocols([alpn])
            with socket.create_connection(("127.0.0.1", self.port),
                                          timeout=5) as raw:
                with ctx.wrap_socket(raw,
                                     server_hostname="127.0.0.1") as s:
                    s.sendall(data)
                    out = b""
                    try:
                        while True:
                            chunk = s.recv(65536)
                            if not chunk:
                                break
                            out += chunk
                    except (socket.timeout, ssl.SSLError, OSError):
                        pass
            self.assertIsNone(FIVE_XX.search(out), (alpn, out[:200]))
        self.assertServing(self.srv)


# ---- start-up refusals ------------------------------------------------------

class StartRefused(TlsCase):
    def refused(self, why, cert=None, key=None):
        env = h.Proc("probe", h.SERVER_BIN, self.tmp,
                     base_env(self.tmp, "refused")).child_env()
        env["PORT"] = str(h.free_port())
        for k, v in (("TLS_CERT", cert), ("TLS_KEY", key)):
            if v is not None:
                env[k] = v
        r = run([h.SERVER_BIN], env=env, cwd=self.tmp, timeout=60)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 1, err)
        self.assertIn(why, err)
        self.assertIn("cannot start", err)
        self.assertNotIn("listening on", err)
        return err

    def test_expired_certificate(self):
        cert, key = self.pki.issue("expired", days=-1)
        err = self.refused("expired on", cert, key)
        self.assertIn(cert, err)

    def test_key_of_another_certificate(self):
        cert, _ = self.pki.issue("one")
        _, other = self.pki.issue("two")
        self.refused("does not match the certificate", cert, other)
        cert_rsa, _ = self.pki.issue("three", rsa=True)
        self.refused("does not match the certificate", cert_rsa, other)

    def test_unreadable_files(self):
        cert, key = self.pki.issue("good")
        missing = os.path.join(self.tmp, "no-such.pem")
        self.refused("cannot read the TLS certificate %s: No such file"
                     % missing, missing, key)
        self.refused("cannot read the TLS key %s: No such file" % missing,
                     cert, missing)
        self.refused("Is a directory", self.tmp, key)

    def test_not_pem(self):
        cert, key = self.pki.issue("good2")
        junk = os.path.join(self.tmp, "junk.pem")
        with open(junk, "wb") as f:
            f.write(b"this is not a certificate\n")
        self.refused("is not a PEM certificate", junk, key)
        self.refused("is not a PEM private key", cert, junk)
        # The key file given as the certificate, and the other way round.
        self.refused("is not a PEM certificate", key, cert)

    def test_one_without_the_other(self):
        cert, key = self.pki.issue("half")
        self.refused("needs TLS_KEY", cert=cert)
        self.refused("needs TLS_CERT", key=key)


# ---- SIGHUP ---------------------------------------------------------------------

class Reload(TlsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cert = os.path.join(cls.tmp, "live.pem")
        cls.key = os.path.join(cls.tmp, "live.key")
        cls.install(*cls.pki.issue("v0"))
        cls.srv = cls.start("msvc-server", h.SERVER_BIN,
                            base_env(cls.tmp, "reload"), cls.cert, cls.key)

    @classmethod
    def install(cls, cert, key):
        for src, dst in ((cert, cls.cert), (key, cls.key)):
            shutil.copyfile(src, dst + ".tmp")
            os.replace(dst + ".tmp", dst)

    def hup(self, marker):
        before = self.srv.log_text().count(marker)
        self.srv.popen.send_signal(signal.SIGHUP)
        ok = h.poll(lambda: self.srv.log_text().count(marker) > before, 10,
                    0.05)
        self.assertTrue(ok, "no %r after SIGHUP\n%s"
                        % (marker, self.srv.log_tail()))

    def last_line_with(self, marker):
        lines = [x for x in self.srv.log_text().splitlines() if marker in x]
        return lines[-1] if lines else ""

    def shown(self):
        return peer_certificate(self.srv.port, self.pki.ca)[0]

    def test_reload(self):
        # The first certificate (another test may have replaced it).
        v1 = self.pki.issue("v1")
        self.install(*v1)
        self.hup("TLS reloaded")
        # Connections opened before the reload.
        keep = http.client.HTTPSConnection("127.0.0.1", self.srv.port,
                                           timeout=10, context=self.ctx)
        self.addCleanup(keep.close)
        r = https_request(self.srv.url, "GET", "/healthz", conn=keep)
        self.assertEqual(r.status, 200)
        sock_before = keep.sock
        self.assertEqual(keep.sock.getpeercert(True), der(v1[0]))
        self.assertEqual(self.shown(), der(v1[0]))

        # An HTTP/2 connection in use across the reload: curl fetches one
        # URL every 0.5 s on a single connection while SIGHUP arrives.
        n = 8
        h2 = subprocess.Popen(
            [CURL, "-sS", "--http2", "--cacert", self.pki.ca, "--rate",
             "2/s", "-w", "%{http_code} %{http_version} %{num_connects}\n"]
            + discard_each([self.srv.url + "/healthz"] * n),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.0)

        v2 = self.pki.issue("v2")
        self.install(*v2)
        self.hup("TLS reloaded")
        self.assertIsNone(h2.poll(), "curl ended before the reload: the "
                          "test proves nothing (slow machine?)")
        out, err = h2.communicate(timeout=60)
        self.assertEqual(h2.returncode, 0, err)
        lines = out.decode().split("\n")[:-1]
        self.assertEqual(len(lines), n, out)
        for line in lines:
            self.assertEqual(line.split()[:2], ["200", "2"], out)
        self.assertEqual(sum(int(x.split()[2]) for x in lines), 1,
                         "the HTTP/2 connection was not kept: %r" % out)

        # New connections get v2; the old one is still open, on v1.
        self.assertEqual(self.shown(), der(v2[0]))
        code, ver, _ = curl(self.srv.url + "/healthz", ca=self.pki.ca)
        self.assertEqual((code, ver), (200, "2"))
        r = https_request(self.srv.url, "GET", "/healthz", conn=keep)
        self.assertEqual(r.status, 200)
        self.assertIs(keep.sock, sock_before, "reconnected")
        self.assertEqual(keep.sock.getpeercert(True), der(v1[0]))

        # Bad files: the reason is logged and v2 stays.
        expired = self.pki.issue("v3-expired", days=-1)
        self.install(*expired)
        self.hup("TLS not reloaded")
        self.assertIn("expired on", self.last_line_with("TLS not reloaded"))
        self.assertEqual(self.shown(), der(v2[0]))
        self.install(v2[0], self.pki.issue("v4")[1])  # key of another one
        self.hup("TLS not reloaded")
        self.assertIn("does not match",
                      self.last_line_with("TLS not reloaded"))
        self.assertEqual(self.shown(), der(v2[0]))
        os.unlink(self.key)
        self.hup("TLS not reloaded")
        self.assertIn("cannot read the TLS key",
                      self.last_line_with("TLS not reloaded"))
        self.assertEqual(self.shown(), der(v2[0]))
        self.assertServing(self.srv)

        # Good files again: taken.
        v5 = self.pki.issue("v5", rsa=True)
        self.install(*v5)
        self.hup("TLS reloaded")
        self.assertEqual(self.shown(), der(v5[0]))
        r = https_request(self.srv.url, "GET", "/healthz", conn=keep)
        self.assertEqual(r.status, 200)

    def test_many_reloads_under_load(self):
        stop = threading.Event()
        errors = []

        def load():
            while not stop.is_set():
                try:
                    r = https_request(self.srv.url, "GET", "/healthz",
                                      ctx=self.ctx, timeout=10)
                    if r.status != 200:
                        errors.append(r)
                except Exception as e:  # noqa: B902 - reported below
                    errors.append(e)
        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            for i in range(10):
                self.install(*self.pki.issue("load%d" % (i % 2)))
                self.hup("TLS reloaded")
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])
        self.assertServing(self.srv)


class PlainSighup(TlsCase):
    def test_sighup_without_tls_is_logged_and_harmless(self):
        srv = self.start("msvc-server", h.SERVER_BIN,
                         base_env(self.tmp, "plain"))
        self.assertIn("listening on http://", srv.log_text())
        srv.popen.send_signal(signal.SIGHUP)
        self.assertTrue(h.poll(lambda: "nothing to reload" in
                               srv.log_text(), 10, 0.05), srv.log_tail())
        r = h.request(srv.url, "GET", "/healthz")
        self.assertEqual(r.status, 200)


# ---- the split deployment over https ------------------------------------------------

class SplitOverTls(TlsCase):
    """msvc-auth and msvc-post both on TLS; msvc-post asks msvc-auth over
    https://, trusting the test CA through UPSTREAM_CA_FILE."""

    ENV = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if h.missing_binaries("split"):
            h.skip_missing("msvc-auth/msvc-post not built")
        cert, key = cls.pki.issue("split")
        auth_env = dict(base_env(cls.tmp, "auth"), **cls.ENV)
        cls.auth = cls.start("msvc-auth", h.AUTH_BIN, auth_env, cert, key)
        post_env = dict(base_env(cls.tmp, "post"), **cls.ENV)
        post_env.update(AUTH_MICRO_URL=cls.auth.url,
                        UPSTREAM_CA_FILE=cls.pki.ca, CACHE_TTL="1")
        cls.post = cls.start("msvc-post", h.POST_BIN, post_env, cert, key)
        # The same msvc-post without the CA: the auth service's certificate
        # is not trusted.
        blind_env = dict(post_env, UPSTREAM_CA_FILE=None,
                         DATABASE_URL="sqlite:" +
                         os.path.join(cls.tmp, "blind.db"))
        if cls.ENV.get("JWT_ALGORITHM"):
            blind_env = None  # it could not even check tokens
        cls.blind = cls.start("msvc-post-blind", h.POST_BIN, blind_env,
                              cert, key) if blind_env else None

    def user(self, name):
        email = h.unique_email(name.lower())
        r = https_request(self.auth.url, "POST", "/api/register",
                          {"name": name, "email": email,
                           "password": h.PASSWORD}, ctx=self.ctx)
        self.assertEqual(r.status, 201, r)
        user = r.json["user"]
        r = https_request(self.auth.url, "POST", "/api/login",
                          {"email": email, "password": h.PASSWORD},
                          ctx=self.ctx)
        self.assertEqual(r.status, 200, r)
        return user, r.json["access_token"].split(" ", 1)[1]

    def test_posts_show_authors_over_https(self):
        user, token = self.user("Remote")
        r = https_request(self.post.url, "POST", "/api/posts",
                          {"title": "t", "content": "c"}, token=token,
                          ctx=self.ctx)
        self.assertEqual(r.status, 201, r)
        r = https_request(self.post.url, "GET",
                          "/api/posts?user_id=" + user["id"], ctx=self.ctx)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("degraded", r.json)
        self.assertEqual(r.json["posts"][0]["user"],
                         {k: user[k] for k in ("id", "name", "email")})
        # And over HTTP/2 with curl.
        code, ver, r = curl(self.post.url + "/api/posts?user_id=" +
                            user["id"], ca=self.pki.ca)
        self.assertEqual((code, ver), (200, "2"))
        self.assertEqual(r.json["posts"][0]["user"]["id"], user["id"])
        self.assertIn("https://", self.post.log_text())

    def test_without_the_ca_the_peer_is_not_trusted(self):
        if self.blind is None:
            self.skipTest("ES256: without the CA msvc-post cannot fetch "
                          "the keys, so it could not check a token")
        user, token = self.user("Unverified")
        r = https_request(self.blind.url, "POST", "/api/posts",
                          {"title": "t", "content": "c"}, token=token,
                          ctx=self.ctx)
        self.assertEqual(r.status, 201, r)
        r = https_request(self.blind.url, "GET",
                          "/api/posts?user_id=" + user["id"], ctx=self.ctx)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json.get("degraded"), True, r)
        self.assertIsNone(r.json["posts"][0]["user"])


class SplitOverTlsEs256(SplitOverTls):
    """ES256: msvc-post also fetches the published keys over https."""
    ENV = {"JWT_ALGORITHM": "ES256"}


def main():
    missing = []
    if not OPENSSL:
        missing.append("the openssl command")
    if not curl_has_http2():
        missing.append("curl with HTTP/2")
    missing += h.missing_binaries("server")
    if missing:
        why = "missing: " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            print("test_tls.py: FAILED: " + why, file=sys.stderr)
            return 1
        print("test_tls.py: SKIPPED: " + why, file=sys.stderr)
        return 77
    loader = unittest.TestLoader()
    if len(sys.argv) > 1:
        suite = loader.loadTestsFromNames(sys.argv[1:],
                                          sys.modules[__name__])
    else:
        suite = loader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return h.finish(result, "test_tls.py")


if __name__ == "__main__":
    sys.exit(main())
