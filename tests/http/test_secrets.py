"""Secrets kept out of ps and /proc, their strength, and the password cost
each scheme gets by default (issue 10, "Operations").

- JWT_SECRET_FILE, DATABASE_URL_FILE and SERVICE_SECRET_FILE: the server
  runs on what the files hold, and neither the secret nor the URL is in
  /proc/<pid>/cmdline or /proc/<pid>/environ; the log names the file's
  real path;
- a JWT secret under 32 bytes: a loud warning in the log, and
  --require-strong-secret (REQUIRE_STRONG_SECRET) refuses to start with
  it, exit code non-zero and a clear message; --jwt-secret on the command
  line: a warning that it is visible to other users;
- the generated secret: 32 random bytes, its real path in the log;
- PASSWORD_SCHEME=yescrypt with no PASSWORD_COST: libxcrypt's default
  cost, not bcrypt's 10 (about 512 MiB a hash), and each scheme's cost is
  checked against its own range.

msvc-server only (MSVC_DEPLOY=server): msvc-auth and msvc-post read their
settings through the same code.
"""

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

import harness as h

START_TIMEOUT = 60


def write_private(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def proc_bytes(pid, what):
    with open("/proc/%d/%s" % (pid, what), "rb") as f:
        return f.read()


class SecretsCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if h.DEPLOY != "server":
            raise unittest.SkipTest("only for MSVC_DEPLOY=server")
        if h.missing_binaries("server"):
            h.skip_missing("msvc-server not built")

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="msvc-http-secrets-")
        self.procs = []
        self.keep = False

    def tearDown(self):
        for p in self.procs:
            p.kill()
        if self.keep or os.environ.get("MSVC_KEEP_TMP"):
            print("kept %s for inspection" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result else 0
        out = super().run(result)
        if result is not None and \
                len(result.failures) + len(result.errors) > before:
            for p in getattr(self, "procs", []):
                print(p.log_tail())
        return out

    def base_env(self, **extra):
        env = {"DATA_DIR": os.path.join(self.tmp, "data"),
               "DATABASE_URL": h.fresh_database_url(self.tmp, "msvc"),
               "PASSWORD_COST": "4"}
        env.update(extra)
        return env

    def start(self, env, args=()):
        p = h.Proc("msvc-server-%d" % (len(self.procs) + 1), h.SERVER_BIN,
                   self.tmp, env, args=args)
        self.procs.append(p)
        p.start_retrying()
        return p

    def run_to_exit(self, env, args=()):
        """Starts the server expecting it to refuse: (exit code, output)."""
        clean = {k: v for k, v in os.environ.items()
                 if k not in h.CONFIG_VARS}
        clean["PORT"] = str(h.free_port())
        clean.update({k: v for k, v in env.items() if v is not None})
        out = subprocess.run([h.SERVER_BIN] + list(args), cwd=self.tmp,
                             env=clean, stdin=subprocess.DEVNULL,
                             capture_output=True, timeout=START_TIMEOUT)
        if out.returncode == 0:
            self.fail("msvc-server started and exited 0: %r" % (out,))
        return out.returncode, (out.stdout + out.stderr).decode(
            "utf-8", "replace")

    def login(self, url):
        email = h.unique_email("secrets")
        r = h.request(url, "POST", "/api/register",
                      {"name": "Secret Keeper", "email": email,
                       "password": h.PASSWORD})
        self.assertEqual(r.status, 201, r)
        r = h.request(url, "POST", "/api/login",
                      {"email": email, "password": h.PASSWORD})
        self.assertEqual(r.status, 200, r)
        token = r.json["access_token"]
        self.assertTrue(token.startswith("Bearer "), token)
        return token.split(" ", 1)[1]

    # ---- files ------------------------------------------------------------

    def test_secrets_and_url_from_files_stay_out_of_proc(self):
        secret = "file-secret-" + os.urandom(24).hex()
        service = "service-secret-" + os.urandom(24).hex()
        url = h.fresh_database_url(self.tmp, "from-file")
        paths = {n: os.path.join(self.tmp, n) for n in
                 ("jwt.secret", "db.url", "service.secret")}
        write_private(paths["jwt.secret"], secret + "\n")
        write_private(paths["db.url"], url + "\n")
        write_private(paths["service.secret"], service + "\r\n")
        env = self.base_env(JWT_SECRET_FILE=paths["jwt.secret"],
                            DATABASE_URL_FILE=paths["db.url"],
                            SERVICE_SECRET_FILE=paths["service.secret"],
                            REQUIRE_STRONG_SECRET="1")
        env.pop("DATABASE_URL")
        p = self.start(env)
        token = self.login(p.url)
        self.assertTrue(h.hs256_valid(token, secret),
                        "the token is not signed with the file's secret")
        r = h.request(p.url, "GET", "/api/user", token=token)
        self.assertEqual(r.status, 200, r)
        if url.startswith("sqlite:"):
            self.assertTrue(os.path.exists(url[len("sqlite:"):]),
                            "the database is not where the file said")
        pid = p.popen.pid
        for what in ("cmdline", "environ"):
            data = proc_bytes(pid, what)
            for value in (secret, service, url):
                self.assertNotIn(value.encode(), data,
                                 "/proc/<pid>/%s holds a secret" % what)
        self.assertIn(paths["jwt.secret"].encode(), proc_bytes(pid, "environ"))
        log = p.log_text()
        self.assertIn("JWT secret read from %s (JWT_SECRET_FILE)"
                      % os.path.realpath(paths["jwt.secret"]), log)
        # mongo-c-driver's own start-up lines aside (under the sanitizers
        # it warns "Falling back to malloc for counters" when loaded), which
        # say nothing about the secrets.
        own = "\n".join(line for line in log.splitlines()
                        if " mongoc: " not in line)
        for noise in ("WARNING", "visible to every user",
                      "readable by other users"):
            self.assertNotIn(noise, own)
        for value in (secret, service):
            self.assertNotIn(value, log)
        self.assertEqual(p.stop(), 0, p.log_tail())

    def test_flags_name_the_files_too(self):
        secret = os.urandom(32).hex()
        path = os.path.join(self.tmp, "s")
        write_private(path, secret)  # no final newline
        p = self.start(self.base_env(), args=["--jwt-secret-file", path,
                                              "--require-strong-secret"])
        self.assertTrue(h.hs256_valid(self.login(p.url), secret))
        self.assertNotIn(secret.encode(), proc_bytes(p.popen.pid, "cmdline"))
        self.assertEqual(p.stop(), 0, p.log_tail())

    def test_bad_files_are_named(self):
        missing = os.path.join(self.tmp, "no-such-secret")
        rc, out = self.run_to_exit(self.base_env(JWT_SECRET_FILE=missing))
        self.assertEqual(rc, 2, out)
        self.assertIn("JWT_SECRET_FILE: cannot open %s" % missing, out)
        empty = os.path.join(self.tmp, "empty")
        write_private(empty, "\n")
        rc, out = self.run_to_exit(self.base_env(),
                                   ["--database-url-file", empty])
        self.assertEqual(rc, 2, out)
        self.assertIn("--database-url-file: %s is empty" % empty, out)
        # One setting from two places at once: which was meant?
        path = os.path.join(self.tmp, "s")
        write_private(path, "x" * 40)
        rc, out = self.run_to_exit(self.base_env(JWT_SECRET="y" * 40,
                                                 JWT_SECRET_FILE=path))
        self.assertEqual(rc, 2, out)
        self.assertIn("JWT_SECRET and JWT_SECRET_FILE are both set", out)
        self.assertNotIn("x" * 40, out)
        self.assertNotIn("y" * 40, out)

    def test_secret_file_readable_by_others_is_named(self):
        path = os.path.join(self.tmp, "open.secret")
        write_private(path, os.urandom(32).hex() + "\n", mode=0o644)
        p = self.start(self.base_env(JWT_SECRET_FILE=path))
        self.assertRegex(p.log_text(), re.escape(os.path.realpath(path)) +
                         r" \(JWT_SECRET_FILE\) is readable by other users")
        self.assertEqual(p.stop(), 0, p.log_tail())

    # ---- strength -----------------------------------------------------------

    def test_short_secret_on_the_command_line_warns_twice(self):
        short = "short-secret"
        p = self.start(self.base_env(), args=["--jwt-secret", short])
        log = p.log_text()
        self.assertIn("warning: the value of --jwt-secret on the command "
                      "line is visible to every user", log)
        self.assertIn("JWT_SECRET_FILE instead", log)
        self.assertIn("WARNING: the JWT secret (from --jwt-secret) is only "
                      "%d bytes long" % len(short), log)
        self.assertIn("--require-strong-secret", log)
        # Still served: the seed's deployments may have short secrets.
        self.assertTrue(h.hs256_valid(self.login(p.url), short))
        self.assertEqual(p.stop(), 0, p.log_tail())

    def test_short_secret_from_the_environment_warns(self):
        p = self.start(self.base_env(JWT_SECRET="x"))
        log = p.log_text()
        self.assertIn("WARNING: the JWT secret (from JWT_SECRET) is only 1 "
                      "bytes long", log)
        self.assertNotIn("visible to every user", log)
        self.assertEqual(p.stop(), 0, p.log_tail())

    def test_require_strong_secret_refuses_short_ones(self):
        short = "31-bytes-long-secret-0123456789"
        self.assertEqual(len(short), 31)
        path = os.path.join(self.tmp, "short")
        write_private(path, short + "\n")
        cases = [
            (self.base_env(JWT_SECRET_FILE=path), ["--require-strong-secret"],
             "JWT secret (read from %s (JWT_SECRET_FILE)) is 31 bytes long"
             % os.path.realpath(path)),
            (self.base_env(JWT_SECRET=short, REQUIRE_STRONG_SECRET="1"), [],
             "JWT secret (from JWT_SECRET) is 31 bytes long"),
            (self.base_env(JWT_SECRET=h.TEST_SECRET, SERVICE_SECRET=short,
                           REQUIRE_STRONG_SECRET="yes"), [],
             "service secret (from SERVICE_SECRET) is 31 bytes long"),
        ]
        for env, args, want in cases:
            rc, out = self.run_to_exit(env, args)
            self.assertNotEqual(rc, 0, out)
            self.assertIn("cannot start", out)
            self.assertIn(want, out)
            self.assertIn("--require-strong-secret", out)
            self.assertNotIn(short, out)

    def test_generated_secret_is_long_and_its_path_real(self):
        # DATA_DIR relative to the working directory: the log resolves it.
        env = self.base_env(DATA_DIR="data", REQUIRE_STRONG_SECRET="1")
        p = self.start(env)
        path = os.path.realpath(os.path.join(self.tmp, "data", "jwt-secret"))
        with open(path) as f:
            secret = f.read().strip()
        self.assertGreaterEqual(len(secret), 64)  # 32 bytes, hex
        self.assertRegex(secret, r"^[0-9a-f]+$")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertIn("JWT secret generated (32 random bytes) and saved to %s "
                      "(mode 0600)" % path, p.log_text())
        self.assertNotIn("DATA_DIR/", p.log_text())
        self.assertTrue(h.hs256_valid(self.login(p.url), secret))
        self.assertEqual(p.stop(), 0, p.log_tail())
        p.start()
        self.assertIn("JWT secret kept from an earlier run in %s" % path,
                      p.log_text())
        self.assertEqual(p.stop(), 0, p.log_tail())

    # ---- password cost ------------------------------------------------------

    def test_yescrypt_gets_its_own_default_cost(self):
        env = self.base_env(PASSWORD_SCHEME="yescrypt",
                            JWT_SECRET=h.TEST_SECRET)
        env.pop("PASSWORD_COST")
        p = self.start(env)
        self.assertIn("new password hashes: yescrypt at its default cost",
                      p.log_text())
        self.login(p.url)
        # bcrypt's 10 read as a yescrypt cost takes about 512 MiB a hash;
        # the default takes a few tens.
        status = proc_bytes(p.popen.pid, "status").decode()
        peak_kib = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
        self.assertLess(peak_kib, 256 * 1024, status)
        url = env["DATABASE_URL"]
        if url.startswith("sqlite:"):
            db = sqlite3.connect(url[len("sqlite:"):])
            try:
                hashes = [row[0] for row in db.execute(
                    'SELECT password FROM "User"')]
            finally:
                db.close()
            self.assertEqual(len(hashes), 1)
            for pw in hashes:
                self.assertTrue(pw.startswith("$y$"), pw)
        self.assertEqual(p.stop(), 0, p.log_tail())

    def test_each_scheme_checks_its_own_cost_range(self):
        for scheme, cost, range_ in (("yescrypt", "12", "1 to 11"),
                                     ("bcrypt", "3", "4 to 31")):
            rc, out = self.run_to_exit(self.base_env(
                PASSWORD_SCHEME=scheme, PASSWORD_COST=cost))
            self.assertEqual(rc, 2, out)
            self.assertIn("PASSWORD_COST", out)
            self.assertIn("not a %s cost (%s" % (scheme, range_), out)

    def test_help_documents_the_files_and_the_cost(self):
        out = subprocess.run([h.SERVER_BIN, "--help"], capture_output=True,
                             timeout=30)
        text = re.sub(r"\s+", " ", out.stdout.decode())
        for want in ("JWT_SECRET_FILE", "DATABASE_URL_FILE",
                     "SERVICE_SECRET_FILE", "--require-strong-secret",
                     "0 (the scheme's: bcrypt 10, yescrypt 5)"):
            self.assertIn(want, text)


if __name__ == "__main__":
    unittest.main()
