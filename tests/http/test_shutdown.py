"""Shutdown: DRAIN_TIMEOUT holds while password hashes run (the jobs still
queued are dropped, the process waits only for the hash each worker is
running) and such a stop exits 1; a SIGTERM during start-up ends it right
after the step under way, exit 0, without serving."""

import json
import signal
import threading
import time

import harness as h
from procs import ProcessTestCase

SIGTERM_BIT = 1 << (signal.SIGTERM - 1)


def sigterm_blocked(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("SigBlk:"):
                return int(line.split()[1], 16) & SIGTERM_BIT != 0
    return False


def hash_seconds(p):
    """How long one registration (one hash) takes on this server."""
    t0 = time.monotonic()
    r = h.request(p.url, "POST", "/api/register",
                  {"name": "Timer", "email": h.unique_email("timer"),
                   "password": h.PASSWORD}, timeout=60)
    assert r.status == 201, r
    return time.monotonic() - t0


class Drain(ProcessTestCase):

    def test_gives_up_at_the_deadline_and_exits_1(self):
        # One hash worker, hashes of ~0.5-2 s (bcrypt 13), six
        # registrations: one hashing, five queued when SIGTERM comes.
        # Without dropping the queue the stop would take six hashes.
        p = self.spawn(env={"PASSWORD_COST": "13", "WORKERS": "1",
                            "DRAIN_TIMEOUT": "1"})
        p.start()
        one = hash_seconds(p)
        statuses = []

        def register(i):
            try:
                r = h.request(p.url, "POST", "/api/register",
                              {"name": "Slow %d" % i,
                               "email": h.unique_email("slow%d" % i),
                               "password": h.PASSWORD}, timeout=60,
                              check=False)
                statuses.append(r.status)
            except OSError:
                statuses.append(None)

        threads = [threading.Thread(target=register, args=(i,))
                   for i in range(6)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        p.popen.send_signal(signal.SIGTERM)
        rc = p.popen.wait(60)
        took = time.monotonic() - t0
        for t in threads:
            t.join()
        self.assertEqual(rc, 1, p.log_tail())
        # Deadline 1 s + 1 s close grace + the hash under way (a margin of
        # one more hash and a second for a busy machine).
        self.assertLess(took, 2 + 2 * one + 1.0,
                        "stop took %.1f s, a hash %.1f s" % (took, one))
        log = p.log_text()
        self.assertIn("dropped", log)
        self.assertIn("drain deadline", log)

    def test_clean_stop_exits_0(self):
        p = self.spawn(env={"DRAIN_TIMEOUT": "5"})
        p.start()
        r = h.request(p.url, "POST", "/api/register",
                      {"name": "Quick", "email": h.unique_email("quick"),
                       "password": h.PASSWORD})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(p.stop(), 0)
        self.assertIn("waiting up to 5 s", p.log_text())


class StartUp(ProcessTestCase):

    def test_sigterm_during_start_up(self):
        # bcrypt 14: the dummy hash at start takes about a second.
        p = self.spawn(env={"PASSWORD_COST": "14"})
        p.start(wait=False)
        deadline = time.monotonic() + 10
        while not sigterm_blocked(p.popen.pid):
            self.assertLess(time.monotonic(), deadline)
            self.assertIsNone(p.popen.poll(), p.log_tail())
            time.sleep(0.002)
        t0 = time.monotonic()
        p.popen.send_signal(signal.SIGTERM)
        rc = p.popen.wait(30)
        took = time.monotonic() - t0
        log = p.log_text()
        self.assertEqual(rc, 0, log)
        self.assertIn("SIGTERM received during start-up", log)
        self.assertNotIn("listening on", log)
        # The step under way (store, dummy hash) ends, nothing after it.
        self.assertLess(took, 10, log)
