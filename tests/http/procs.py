"""procs.py - harness.Proc with a preexec hook (umask, rlimits) for the
tests of process-level behaviour: test_files, test_shutdown, test_fdlimit.

harness.Proc starts its child with subprocess.Popen and no preexec_fn;
this subclass swaps subprocess.Popen for the duration of start() (the
suite runs its tests one at a time) rather than copying start()."""

import os
import socket
import subprocess
import tempfile
import unittest

import harness as h


class Proc(h.Proc):
    def __init__(self, *args, preexec=None, **kw):
        super().__init__(*args, **kw)
        self.preexec = preexec

    def start(self, wait=True):
        real, preexec = subprocess.Popen, self.preexec

        def popen(*args, **kw):
            kw["preexec_fn"] = preexec
            return real(*args, **kw)

        subprocess.Popen = popen
        try:
            super().start(wait)
        finally:
            subprocess.Popen = real


def server(workdir, env=None, preexec=None, secret=h.TEST_SECRET):
    """An msvc-server on SQLite in workdir (not started)."""
    e = {"DATA_DIR": os.path.join(workdir, "data"), "PASSWORD_COST": "4",
         "DATABASE_URL": "sqlite:" + os.path.join(workdir, "msvc.db")}
    if secret is not None:
        e["JWT_SECRET"] = secret
    e.update(env or {})
    return Proc("msvc-server", h.SERVER_BIN, workdir, e, preexec=preexec)


class ProcessTestCase(unittest.TestCase):
    """msvc-server on SQLite only (MSVC_DEPLOY=server, no MongoDB URL): a
    temporary directory per test, every process killed at the end."""

    def setUp(self):
        if h.DEPLOY != "server" or h.DATABASE_URL or not h.SERVER_BIN:
            self.skipTest("msvc-server on SQLite only")
        self.tmp = tempfile.mkdtemp(prefix="msvc-http-%s-" %
                                    type(self).__name__)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.kill()

    def spawn(self, **kw):
        p = server(self.tmp, **kw)
        self.procs.append(p)
        return p

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result else 0
        out = super().run(result)
        if result is not None and \
                len(result.failures) + len(result.errors) > before:
            for p in getattr(self, "procs", []):
                print(p.log_tail(60))
        return out


def connect(url, timeout=5.0):
    u = h.urllib.parse.urlsplit(url)
    return socket.create_connection((u.hostname, u.port), timeout=timeout)
