"""Files and durability: the SQLite database, its -wal and -shm files and
every secret the server writes (the generated JWT secret, a generated
signing key) are 0600 even under umask 000; a database others may read
gets a warning at start; SQLite commits with synchronous=FULL unless
SQLITE_SYNCHRONOUS (or the URL's ?synchronous=) says normal."""

import glob
import os
import stat

import harness as h
from procs import ProcessTestCase


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class Modes(ProcessTestCase):

    def test_private_files_under_umask_000(self):
        p = self.spawn(env={"JWT_ALGORITHM": "ES256"}, secret=None,
                       preexec=lambda: os.umask(0))
        p.start()
        # A write, so that the -wal and -shm files exist while it runs.
        r = h.request(p.url, "POST", "/api/register",
                      {"name": "Modes", "email": h.unique_email("modes"),
                       "password": h.PASSWORD})
        self.assertEqual(r.status, 201, r)
        db = os.path.join(self.tmp, "msvc.db")
        data = os.path.join(self.tmp, "data")
        keys = glob.glob(os.path.join(data, "jwt-es256-*.pem"))
        self.assertEqual(len(keys), 1, os.listdir(data))
        for path in [db, db + "-wal", db + "-shm",
                     os.path.join(data, "jwt-secret")] + keys:
            with self.subTest(path=os.path.basename(path)):
                self.assertEqual(mode(path), 0o600, path)
        self.assertEqual(mode(data), 0o700)
        self.assertEqual(p.stop(), 0)

    def test_wide_database_gets_a_warning(self):
        p = self.spawn()
        p.start()
        self.assertEqual(p.stop(), 0)
        self.assertNotIn("chmod 600", p.log_text())
        os.chmod(os.path.join(self.tmp, "msvc.db"), 0o644)
        p.start()
        self.assertEqual(p.stop(), 0)
        self.assertIn("has mode 0644: other users may read", p.log_text())


class Synchronous(ProcessTestCase):

    def started_log(self, **kw):
        p = self.spawn(**kw)
        p.start()
        self.assertEqual(p.stop(), 0)
        return p.log_text().split("==== harness: start")[-1]

    def test_full_by_default(self):
        self.assertIn("SQLite synchronous=FULL", self.started_log())

    def test_normal_from_setting_or_url(self):
        self.assertIn("SQLite synchronous=NORMAL",
                      self.started_log(env={"SQLITE_SYNCHRONOUS": "normal"}))
        url = "sqlite:" + os.path.join(self.tmp, "u.db") + \
            "?synchronous=normal"
        self.assertIn("SQLite synchronous=NORMAL",
                      self.started_log(env={"DATABASE_URL": url}))

    def test_setting_wins_over_url(self):
        url = "sqlite:" + os.path.join(self.tmp, "w.db") + \
            "?synchronous=normal"
        log = self.started_log(env={"DATABASE_URL": url,
                                    "SQLITE_SYNCHRONOUS": "full"})
        self.assertIn("SQLite synchronous=FULL", log)

    def test_bad_values_refused(self):
        p = self.spawn(env={"SQLITE_SYNCHRONOUS": "off"})
        p.start(wait=False)
        self.assertEqual(p.popen.wait(30), 2)
        url = "sqlite:" + os.path.join(self.tmp, "b.db") + "?synchronous=off"
        p = self.spawn(env={"DATABASE_URL": url})
        p.start(wait=False)
        self.assertEqual(p.popen.wait(30), 1)
        self.assertIn("synchronous must be full or normal", p.log_text())
