#!/usr/bin/env python3
"""test_systemd.py - the sd_notify protocol and the systemd units, without
booting systemd.

The test plays the service manager's part: it binds an AF_UNIX datagram
socket (a filesystem path, or an abstract "@name"), starts the real
executables with NOTIFY_SOCKET naming it, and reads what they say.  It
checks:

- READY=1 comes first, and is not early: the test stops the process
  (SIGSTOP) the moment READY=1 arrives, and a connection to its port is
  still accepted (the listener was there before READY=1); let go
  (SIGCONT), GET /readyz on that connection answers 200.  For msvc-server
  (path socket), msvc-auth (abstract socket) and msvc-post (path socket,
  asking that msvc-auth for authors);
- READY=1 carries STATUS=serving on http://127.0.0.1:PORT;
- SIGHUP with TLS configured: RELOADING=1 (with MONOTONIC_USEC, read on
  the same clock as Python's time.monotonic) then READY=1, still serving;
- SIGTERM with a slow request in flight (a bcrypt hash at a high cost):
  STOPPING=1 arrives before the answer does, the answer is a 201, and the
  process exits 0;
- without NOTIFY_SOCKET nothing is logged about it; with a NOTIFY_SOCKET
  that leads nowhere the server starts, reloads and stops as usual and
  says so once in its log;
- no writable and executable mapping in a running server (the units say
  MemoryDenyWriteExecute=yes), and libmsvc itself does not link
  libsystemd;
- `systemd-analyze verify` accepts the three units (configured for this
  test with the build's binaries) without a warning, and `systemd-analyze
  security --offline` rates each at most MAX_EXPOSURE; skipped, with the
  reason printed, when systemd-analyze is missing or cannot run here.

Built without libsystemd (MSVC_TEST_HAVE_SYSTEMD=0), only the "nothing
breaks" cases run, and the log must say that NOTIFY_SOCKET is ignored.

Run by ctest (tests/systemd/tests.cmake) or directly; exit 77 (skip) when
an executable or the openssl command is missing.  With CI=true that, and
every skip above (no libsystemd, no usable systemd-analyze), is a failure.
"""

import http.client
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
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
import harness as h  # noqa: E402

# Never inherited from whoever runs the test (ctest could itself run
# under a service manager): only set by the test.
h.CONFIG_VARS = h.CONFIG_VARS + ("NOTIFY_SOCKET", "WATCHDOG_USEC",
                                 "WATCHDOG_PID")

HAVE_SYSTEMD = os.environ.get("MSVC_TEST_HAVE_SYSTEMD", "1") == "1"
UNITS_DIR = os.environ.get("MSVC_TEST_UNITS_DIR", "")
LIBMSVC = os.environ.get("MSVC_LIBMSVC", "")
OPENSSL = shutil.which("openssl")
ANALYZE = shutil.which("systemd-analyze")
MAX_EXPOSURE = 2.5  # systemd-analyze security's scale: 0 (safe) to 10
NOTIFY_TIMEOUT = 30.0
# bcrypt at this cost takes about a second: long enough to be in flight
# when SIGTERM arrives, short against the 10 s drain.
SLOW_COST = "14"


class Notify:
    """The service manager's end: an AF_UNIX datagram socket, and every
    message read from it as (monotonic time, {key: value})."""

    def __init__(self, workdir, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "msvc-test-notify-%d-%s" % (os.getpid(),
                                               uuid.uuid4().hex[:8])
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            self.address = os.path.join(workdir, "notify-%s.sock"
                                        % uuid.uuid4().hex[:8])
            self.sock.bind(self.address)
        self.messages = []

    def close(self):
        self.sock.close()
        if not self.address.startswith("@"):
            try:
                os.unlink(self.address)
            except OSError:
                pass

    def read(self, timeout):
        """The next message, or None after `timeout` seconds."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return None
        fields = dict(line.split("=", 1) for line in
                      data.decode().split("\n") if "=" in line)
        self.messages.append((time.monotonic(), fields))
        return fields

    def wait_for(self, key, proc, timeout=NOTIFY_TIMEOUT, on_arrival=None):
        """Reads until a message with key=1 (or key set) arrives; returns
        it.  on_arrival(fields) runs first thing when it does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fields = self.read(0.2)
            if fields is not None and key in fields:
                if on_arrival:
                    on_arrival(fields)
                return fields
            if fields is None and not proc.alive():
                raise AssertionError("%s exited (%s) before %s\n%s"
                                     % (proc.name, proc.popen.returncode,
                                        key, proc.log_tail()))
        raise AssertionError("no %s within %.0f s; got %r\n%s"
                             % (key, timeout, self.messages, proc.log_tail()))


def base_env(workdir, stem):
    data = os.path.join(workdir, "data-" + stem)
    os.makedirs(data, exist_ok=True)
    return {"DATA_DIR": data, "PASSWORD_COST": "4", "THREADS": "2",
            "JWT_SECRET": h.TEST_SECRET, "NOTIFY_SOCKET": None,
            "DATABASE_URL": "sqlite:" + os.path.join(workdir, stem + ".db")}


def get(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    return r.status, r.read()


def rwx_mappings(pid):
    with open("/proc/%d/maps" % pid) as f:
        return [line.strip() for line in f
                if len(line.split()) > 1 and line.split()[1].startswith("rwx")]


class Case(unittest.TestCase):
    """A temporary directory; processes started are stopped at the end of
    the class (and must exit 0), their logs printed when a test failed."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="msvc-systemd-%s-" % cls.__name__)
        cls.procs = []
        cls.sockets = []
        cls.failed = False
        cls.addClassCleanup(cls.cleanup)

    @classmethod
    def cleanup(cls):
        bad = [p for p in reversed(cls.procs) if p.stop() != 0]
        for s in cls.sockets:
            s.close()
        if bad or cls.failed:
            for p in cls.procs:
                sys.stderr.write(p.log_tail() + "\n")
            sys.stderr.write("kept %s for inspection\n" % cls.tmp)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)
        if bad:
            raise h.ProcError("%s did not exit 0 after SIGTERM"
                              % ", ".join(p.name for p in bad))

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result else 0
        out = super().run(result)
        if result is not None and \
                len(result.failures) + len(result.errors) > before:
            type(self).failed = True
        return out

    def notify_socket(self, abstract=False):
        s = Notify(self.tmp, abstract)
        self.sockets.append(s)
        return s

    def proc(self, name, binary, env, notify=None, stem=None):
        env = dict(base_env(self.tmp, stem or name), **env)
        if notify is not None:
            env["NOTIFY_SOCKET"] = notify.address
        p = h.Proc(name + ("-" + stem if stem else ""), binary, self.tmp,
                   env)
        self.procs.append(p)
        return p

    def start_notified(self, p, notify):
        """Starts p and waits for READY=1, checking that it is not early;
        returns the READY message."""
        p.start(wait=False)
        conn = http.client.HTTPConnection("127.0.0.1", p.port, timeout=10)

        def freeze(fields):
            p.popen.send_signal(signal.SIGSTOP)
        try:
            ready = notify.wait_for("READY", p, on_arrival=freeze)
            try:
                # Frozen since READY=1: a listener made after it could not
                # take this connection.
                conn.connect()
            finally:
                p.popen.send_signal(signal.SIGCONT)
            status, body = get(conn, "/readyz")
            self.assertEqual(status, 200, body)
        finally:
            conn.close()
        self.assertEqual(notify.messages[0][1].get("READY"), "1",
                         "READY=1 is not the first message: %r"
                         % notify.messages)
        return ready

    def stop_notified(self, p, notify):
        p.popen.send_signal(signal.SIGTERM)
        stopping = notify.wait_for("STOPPING", p)
        self.assertEqual(stopping["STOPPING"], "1")
        self.assertEqual(p.popen.wait(h.STOP_TIMEOUT), 0, p.log_tail())


# ---- the protocol ----------------------------------------------------------

@unittest.skipUnless(HAVE_SYSTEMD, h.MISSING + "libsystemd (built without)")
class Ready(Case):
    def check_ready(self, name, binary, abstract, env=None):
        notify = self.notify_socket(abstract)
        p = self.proc(name, binary, env or {}, notify)
        ready = self.start_notified(p, notify)
        self.assertEqual(ready.get("STATUS"),
                         "serving on http://127.0.0.1:%d" % p.port, ready)
        self.assertEqual(rwx_mappings(p.popen.pid), [],
                         "writable and executable memory: "
                         "MemoryDenyWriteExecute=yes would kill it")
        return p, notify

    def test_server_on_a_path_socket(self):
        p, notify = self.check_ready("msvc-server", h.SERVER_BIN, False)
        self.stop_notified(p, notify)

    def test_auth_on_an_abstract_socket_and_post_behind_it(self):
        auth, auth_notify = self.check_ready("msvc-auth", h.AUTH_BIN, True)
        post, post_notify = self.check_ready(
            "msvc-post", h.POST_BIN, False, {"AUTH_MICRO_URL": auth.url})
        self.stop_notified(post, post_notify)
        self.stop_notified(auth, auth_notify)


@unittest.skipUnless(HAVE_SYSTEMD, h.MISSING + "libsystemd (built without)")
class Reload(Case):
    def make_cert(self):
        cert, key = (os.path.join(self.tmp, n) for n in ("c.pem", "k.pem"))
        r = subprocess.run(
            [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out",
             cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
             "subjectAltName=IP:127.0.0.1"], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return cert, key

    def test_sighup_with_tls_is_reloading_then_ready(self):
        cert, key = self.make_cert()
        notify = self.notify_socket()
        p = self.proc("msvc-server", h.SERVER_BIN,
                      {"TLS_CERT": cert, "TLS_KEY": key}, notify)
        p.start(wait=False)
        ready = notify.wait_for("READY", p)
        self.assertEqual(ready.get("STATUS"),
                         "serving on https://127.0.0.1:%d" % p.port)
        n = len(notify.messages)
        sent = time.monotonic()
        p.popen.send_signal(signal.SIGHUP)
        reloading = notify.wait_for("RELOADING", p)
        again = notify.wait_for("READY", p)
        kinds = ["RELOADING" if "RELOADING" in m else
                 "READY" if "READY" in m else "other"
                 for _, m in notify.messages[n:]]
        self.assertEqual(kinds, ["RELOADING", "READY"], notify.messages[n:])
        self.assertEqual(reloading["RELOADING"], "1")
        usec = int(reloading["MONOTONIC_USEC"])
        self.assertTrue(sent - 1 <= usec / 1e6 <= time.monotonic() + 1,
                        (sent, usec))
        self.assertEqual(again.get("STATUS"), ready.get("STATUS"))
        self.assertIn("TLS reloaded", p.log_text())
        ctx = ssl.create_default_context(cafile=cert)
        conn = http.client.HTTPSConnection("127.0.0.1", p.port, timeout=10,
                                           context=ctx)
        try:
            self.assertEqual(get(conn, "/readyz")[0], 200)
        finally:
            conn.close()
        self.stop_notified(p, notify)


@unittest.skipUnless(HAVE_SYSTEMD, h.MISSING + "libsystemd (built without)")
class Stopping(Case):
    def test_stopping_arrives_while_a_request_is_in_flight(self):
        notify = self.notify_socket()
        p = self.proc("msvc-server", h.SERVER_BIN,
                      {"PASSWORD_COST": SLOW_COST}, notify)
        self.start_notified(p, notify)
        answer = {}

        def register():
            try:
                r = h.request(p.url, "POST", "/api/register",
                              {"name": "Slow", "email": h.unique_email("s"),
                               "password": h.PASSWORD}, timeout=30)
                answer["status"] = r.status
            except OSError as e:
                answer["error"] = e
            answer["at"] = time.monotonic()
        t = threading.Thread(target=register)
        t.start()
        time.sleep(0.3)  # sent, and being hashed
        p.popen.send_signal(signal.SIGTERM)
        stopping = notify.wait_for("STOPPING", p)
        stopped_at = notify.messages[-1][0]
        self.assertIn("STATUS", stopping)
        t.join(30)
        self.assertEqual(answer.get("status"), 201, answer)
        self.assertLess(stopped_at, answer["at"],
                        "the answer came before STOPPING=1: the request "
                        "was not in flight (is bcrypt cost %s too fast?)"
                        % SLOW_COST)
        self.assertEqual(p.popen.wait(h.STOP_TIMEOUT), 0, p.log_tail())


class NothingBreaks(Case):
    def test_without_notify_socket(self):
        p = self.proc("msvc-server", h.SERVER_BIN, {}, stem="plain")
        p.start()
        p.popen.send_signal(signal.SIGHUP)
        time.sleep(0.2)
        self.assertEqual(p.stop(), 0, p.log_tail())
        self.assertNotIn("notify", p.log_text().lower())

    def test_notify_socket_leading_nowhere(self):
        env = {"NOTIFY_SOCKET": os.path.join(self.tmp, "nowhere", "sock")}
        p = self.proc("msvc-server", h.SERVER_BIN, env, stem="nowhere")
        p.start()
        p.popen.send_signal(signal.SIGHUP)  # two more messages to fail
        deadline = time.monotonic() + 10
        while "SIGHUP received" not in p.log_text() and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(p.stop(), 0, p.log_tail())
        said = [line for line in p.log_text().splitlines()
                if "NOTIFY_SOCKET" in line]
        self.assertEqual(len(said), 1, p.log_tail())
        want = "cannot notify" if HAVE_SYSTEMD else "no systemd support"
        self.assertIn(want, said[0])


# ---- the build and the units -------------------------------------------------

class Build(unittest.TestCase):
    def test_libmsvc_does_not_link_libsystemd(self):
        if not LIBMSVC or not shutil.which("readelf"):
            h.skip_missing("MSVC_LIBMSVC or readelf")
        out = subprocess.run(["readelf", "-d", LIBMSVC], capture_output=True,
                             text=True, check=True).stdout
        self.assertIn("NEEDED", out)
        self.assertNotIn("libsystemd", out)


def analyze(*args):
    return subprocess.run([ANALYZE] + list(args), capture_output=True,
                          text=True, timeout=120)


class Units(unittest.TestCase):
    NAMES = ("msvc-server", "msvc-auth", "msvc-post")

    def setUp(self):
        if not UNITS_DIR:
            h.skip_missing("MSVC_TEST_UNITS_DIR not set")
        self.units = [os.path.join(UNITS_DIR, n + ".service")
                      for n in self.NAMES]

    def test_the_units_say_what_this_build_does(self):
        want = "Type=notify" if HAVE_SYSTEMD else "Type=exec"
        for u in self.units:
            with open(u) as f:
                text = f.read()
            self.assertIn("\n" + want + "\n", text, u)
            for line in ("DynamicUser=yes", "ProtectSystem=strict",
                         "MemoryDenyWriteExecute=yes", "KillSignal=SIGTERM"):
                self.assertIn("\n" + line + "\n", text, u)
            self.assertRegex(text, r"\nStateDirectory=msvc-(server|auth|post)"
                             r"\n")
            stop = int(re.search(r"\nTimeoutStopSec=(\d+)\n", text).group(1))
            self.assertGreater(stop, 10, "not longer than the drain")

    def runnable_analyze(self):
        if not ANALYZE:
            h.skip_missing("systemd-analyze")
        r = analyze("--version")
        if r.returncode != 0:
            print("skipping: systemd-analyze cannot run here: %s"
                  % r.stderr.strip(), file=sys.stderr)
            h.skip_missing("a systemd-analyze that runs here")

    def test_systemd_analyze_verify(self):
        self.runnable_analyze()
        r = analyze("verify", *self.units)
        out = (r.stdout + r.stderr).strip()
        if r.returncode != 0 and "Failed to" in out and \
                not any(u in out for u in self.units):
            print("skipping: systemd-analyze verify cannot run here: %s"
                  % out, file=sys.stderr)
            h.skip_missing("a systemd-analyze verify that runs here")
        self.assertEqual(r.returncode, 0, out)
        self.assertEqual(out, "", "systemd-analyze verify warns")

    def test_systemd_analyze_security(self):
        self.runnable_analyze()
        for u in self.units:
            r = analyze("security", "--offline=yes", "--no-pager", u)
            m = re.search(r"Overall exposure level for \S+: ([0-9.]+)",
                          r.stdout + r.stderr)
            if m is None:
                print("skipping: systemd-analyze security --offline gave no "
                      "rating: %s" % (r.stdout + r.stderr)[-400:],
                      file=sys.stderr)
                h.skip_missing("systemd-analyze security --offline with a rating")
            self.assertLessEqual(float(m.group(1)), MAX_EXPOSURE,
                                 r.stdout[-3000:])


def main():
    missing = [n for n in ("server", "auth", "post")
               for n in h.missing_binaries(n)]
    if not OPENSSL:
        missing.append("the openssl command")
    if missing:
        why = "missing: " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            print("test_systemd.py: FAILED: " + why, file=sys.stderr)
            return 1
        print("test_systemd.py: SKIPPED: " + why, file=sys.stderr)
        return 77
    loader = unittest.TestLoader()
    if len(sys.argv) > 1:
        suite = loader.loadTestsFromNames(sys.argv[1:],
                                          sys.modules[__name__])
    else:
        suite = loader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return h.finish(result, "test_systemd.py")


if __name__ == "__main__":
    sys.exit(main())
