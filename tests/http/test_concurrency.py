"""Concurrency: duplicate-email races, paging under concurrent inserts, and
reads that keep being answered during a login storm."""

import sys
import threading
import time
import unittest
import urllib.parse

import harness as h
from harness import DeployedTestCase, PASSWORD


class Races(DeployedTestCase):

    def test_concurrent_registrations_of_one_email(self):
        # In the split deployment the two requests go to two processes.
        urls = self.dep.auth_urls
        for rnd in range(6):
            email = h.unique_email("race")
            variants = [email, email.upper() if rnd % 2 else email]
            barrier = threading.Barrier(2)
            statuses = [None, None]

            def one(i):
                barrier.wait()
                r = h.request(urls[i % len(urls)], "POST", "/api/register",
                              {"name": "Racer %d" % i, "email": variants[i],
                               "password": PASSWORD})
                statuses[i] = r.status
            h.run_threads(2, one)
            self.assertEqual(sorted(statuses), [201, 409], (rnd, statuses))
            self.login(email)

    def test_paging_under_concurrent_inserts(self):
        author = self.new_user("Pager")
        writer = self.new_user("Writer")
        for i in range(60):
            self.create_post(author["token"], "pre %d" % i, "c")
        before = [p["id"] for p in self.list_all(limit=100)]
        self.assertGreaterEqual(len(before), 60)
        stop = threading.Event()
        inserted = []
        errors = []

        def insert():
            try:
                while not stop.is_set() and len(inserted) < 400:
                    r = h.request(self.post_url, "POST", "/api/posts",
                                  {"title": "during", "content": "c"},
                                  token=writer["token"])
                    if r.status != 201:
                        errors.append(r)
                        return
                    inserted.append(r.json["post"]["id"])
            except BaseException as e:  # reported below
                errors.append(e)
        t = threading.Thread(target=insert)
        t.start()
        try:
            while len(inserted) < 3 and t.is_alive():
                time.sleep(0.01)
            seen = []
            cursor = None
            for _ in range(1000):
                q = "limit=7"
                if cursor:
                    q += "&cursor=" + urllib.parse.quote(cursor, safe="")
                r = self.post("GET", "/api/posts?" + q)
                self.assertEqual(r.status, 200, r)
                seen.extend(p["id"] for p in r.json["posts"])
                cursor = r.json["next_cursor"]
                if cursor is None:
                    break
                time.sleep(0.005)  # let the writer interleave
        finally:
            stop.set()
            t.join()
        self.assertEqual(errors, [])
        self.assertGreater(len(inserted), 3)
        self.assertEqual(len(seen), len(set(seen)), "a post came twice")
        old = [i for i in seen if i in set(before)]
        self.assertEqual(old, before, "pre-existing posts missing or "
                         "out of order")
        extra = set(seen) - set(before) - set(inserted)
        self.assertEqual(extra, set())


class LoginStorm(DeployedTestCase):
    """Password hashing at the default cost must not stall other requests:
    during 16 clients' worth of logins, 30 reads of /api/user all answer
    200, the slowest within SLOWEST_READ (generous: a read that queued
    behind the hashing would take the storm's whole length)."""
    ENV = {"PASSWORD_COST": None}
    READS = 30
    SLOWEST_READ = 5.0  # seconds; a read takes milliseconds

    def test_reads_keep_succeeding_during_a_login_storm(self):
        u = self.new_user("Storm")
        stop = threading.Event()
        logins = []
        reads = []
        errors = []

        def storm(i):
            while not stop.is_set():
                try:
                    r = h.request(self.auth_url, "POST", "/api/login",
                                  {"email": u["email"], "password": PASSWORD})
                    logins.append(r.status)
                except BaseException as e:
                    errors.append(("login", e))
                    return

        def reader():
            try:
                for _ in range(self.READS):
                    t0 = time.monotonic()
                    r = h.request(self.auth_url, "GET", "/api/user",
                                  token=u["token"])
                    reads.append((r.status, time.monotonic() - t0))
                    time.sleep(0.05)
            except BaseException as e:
                errors.append(("read", e))

        threads = [threading.Thread(target=storm, args=(i,))
                   for i in range(16)]
        for t in threads:
            t.start()
        time.sleep(0.5)  # the storm is under way before the reads begin
        rt = threading.Thread(target=reader)
        rt.start()
        rt.join(timeout=300)
        stop.set()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual([s for s, _ in reads], [200] * self.READS)
        slowest = max(took for _, took in reads)
        print("\n  slowest of %d reads during %d logins: %.0f ms"
              % (len(reads), len(logins), slowest * 1000), file=sys.stderr)
        self.assertLess(slowest, self.SLOWEST_READ)
        self.assertGreater(len(logins), 16)
        self.assertEqual(set(logins), {200}, logins)


if __name__ == "__main__":
    unittest.main()
