"""Out of descriptors (RLIMIT_NOFILE 64): the connections already open
keep their answers, and each new one is accepted on the reserve
descriptor and closed at once instead of waiting in the backlog; the
limit in use is logged at start."""

import os
import resource
import socket
import time

import harness as h
from procs import ProcessTestCase, connect

LIMIT = 64
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


def low_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


def answer_or_end(sock):
    """'ok' for an answer, 'closed' for EOF/reset, 'hang' for silence."""
    try:
        sock.sendall(HEALTHZ)
        data = sock.recv(4096)
    except (ConnectionResetError, BrokenPipeError):
        return "closed"
    except socket.timeout:
        return "hang"
    return "ok" if data.startswith(b"HTTP/1.1 200") else \
        ("closed" if not data else "other")


class Descriptors(ProcessTestCase):

    def test_new_connections_refused_quickly(self):
        # One loop: with two, a descriptor one loop frees to refuse a
        # connection can be taken by the other loop's accept in between,
        # and the first is left without its reserve until a descriptor
        # frees up (known; timing-dependent, seen under the sanitizers).
        p = self.spawn(env={"ACCESS_LOG": "0", "THREADS": "1"},
                       preexec=low_limit)
        p.start()
        self.assertIn("descriptors: limit %d" % LIMIT, p.log_text())
        first = connect(p.url, timeout=2)
        self.assertEqual(answer_or_end(first), "ok")
        # Generous waits: under the sanitizers every accept-and-close is
        # several times slower, while a connection left in the backlog
        # would stay silent for good, so 5 s still tells the two apart.
        idle = [connect(p.url, timeout=5) for _ in range(LIMIT + 20)]
        time.sleep(1.0)  # let the loops accept what they can
        self.assertLessEqual(len(os.listdir("/proc/%d/fd" % p.popen.pid)),
                             LIMIT)
        t0 = time.monotonic()
        results = [answer_or_end(s) for s in idle]
        took = time.monotonic() - t0
        self.assertNotIn("hang", results)
        self.assertIn("closed", results)
        self.assertIn("ok", results)
        # Each refused one ended without waiting out a timeout.
        self.assertLess(took, 10.0, results)
        self.assertEqual(answer_or_end(first), "ok")
        t0 = time.monotonic()
        late = connect(p.url, timeout=5)
        self.assertEqual(answer_or_end(late), "closed")
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assertIn("out of descriptors: refused", p.log_text())
        for s in idle + [first, late]:
            s.close()
        # Once descriptors are back, new connections are served again.
        deadline = time.monotonic() + 10
        while True:
            s = connect(p.url, timeout=2)
            got = answer_or_end(s)
            s.close()
            if got == "ok" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(got, "ok")
        self.assertEqual(p.stop(), 0)
