#!/usr/bin/env python3
"""test_openapi.py - GET /openapi.json against reality, and schemathesis.

servers/openapi/openapi.json is the one OpenAPI 3.1 document; each
executable serves the part of it that it routes.  This suite checks, for
msvc-server, msvc-auth and msvc-post:

- the document matches the routes both ways: --print-openapi exits 0 (no
  registered route is missing from the document), and every documented
  path answers an unsupported method with 405 whose Allow lists exactly the
  documented methods (no documented operation is missing from the
  routes); each executable lists the operations of its role; /metrics is
  documented exactly when GET /metrics answers;
- the served document equals the --print-openapi one, and is valid
  OpenAPI 3.1 (openapi-spec-validator);
- schemathesis, from the venv scripts/deps.sh --test makes, runs every
  operation with a bounded number of generated valid and invalid inputs
  (deterministic), against msvc-server and against the split deployment
  (msvc-auth, and msvc-post with AUTH_MICRO_URL), with its checks for
  server errors (no 5xx on bad input), documented status codes, content
  types, response headers and schemas, and 405 with Allow for methods a
  path does not take.  Authenticated operations get a real token
  (st_hooks.py).

Exit 77 (skip) when schemathesis or an executable is missing, a failure
instead with CI=true.  MSVC_ST_MAX_EXAMPLES bounds the examples per
operation (default 25).
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
import harness as h  # noqa: E402

VENV = os.environ.get("MSVC_TEST_VENV") or os.path.join(
    os.path.expanduser("~"), ".cache", "msvc", "venv")
ST = os.path.join(VENV, "bin", "st")
VENV_PYTHON = os.path.join(VENV, "bin", "python")
MAX_EXAMPLES = os.environ.get("MSVC_ST_MAX_EXAMPLES", "25")
CHECKS = ",".join([
    "not_a_server_error", "status_code_conformance",
    "content_type_conformance", "response_headers_conformance",
    "response_schema_conformance", "unsupported_method",
    "allow_header_conformance"])

SERVICE_OPS = {("get", "/"), ("get", "/healthz"), ("get", "/readyz"),
               ("get", "/openapi.json"), ("get", "/metrics")}
AUTH_OPS = {
    ("post", "/api/register"), ("post", "/api/auth/register"),
    ("post", "/api/login"), ("post", "/api/auth/login"),
    ("get", "/api/user"), ("put", "/api/user"), ("get", "/api/auth/user"),
    ("get", "/api/getUser/{id}"), ("post", "/api/getUsers"),
    ("post", "/api/token/refresh"), ("post", "/api/logout"),
    ("get", "/api/sessions"), ("delete", "/api/sessions/{id}"),
    ("get", "/.well-known/jwks.json")}
POST_OPS = {
    ("get", "/api/posts"), ("post", "/api/posts"), ("get", "/api/post"),
    ("post", "/api/post"), ("get", "/api/posts/{id}"),
    ("put", "/api/posts/{id}"), ("delete", "/api/posts/{id}")}
ROLE_OPS = {"msvc-server": SERVICE_OPS | AUTH_OPS | POST_OPS,
            "msvc-auth": SERVICE_OPS | AUTH_OPS,
            "msvc-post": SERVICE_OPS | POST_OPS}
BINS = {"msvc-server": h.SERVER_BIN, "msvc-auth": h.AUTH_BIN,
        "msvc-post": h.POST_BIN}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
           "trace")


def operations(doc):
    return {(m, p) for p, item in doc["paths"].items() for m in item
            if m in METHODS}


def print_openapi(name, workdir, **extra):
    """Runs `name --print-openapi`: (exit status, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if k not in h.CONFIG_VARS}
    env.update(extra)
    env.update(JWT_SECRET=h.TEST_SECRET, DATA_DIR=workdir,
               DATABASE_URL="sqlite:" + os.path.join(workdir, name + ".db"))
    if name == "msvc-post":
        env["AUTH_MICRO_URL"] = "http://127.0.0.1:9"
    p = subprocess.run([BINS[name], "--print-openapi"], cwd=workdir, env=env,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class PrintOpenapi(unittest.TestCase):
    """--print-openapi: the filtered document, no undocumented route."""

    def test_each_executable(self):
        for name, ops in ROLE_OPS.items():
            with self.subTest(name), tempfile.TemporaryDirectory() as d:
                rc, out, err = print_openapi(name, d)
                self.assertEqual(rc, 0, "%s --print-openapi: %s" % (name,
                                                                    err))
                self.assertNotIn("not in the OpenAPI document", err)
                doc = json.loads(out)
                self.assertEqual(doc["openapi"], "3.1.0")
                self.assertEqual(doc["info"]["title"], name)
                self.assertEqual(operations(doc), ops)

    def test_metrics_off_or_apart(self):
        """GET /metrics is in the document only when the public listener
        serves it (--metrics on, the default)."""
        for value in ("off", str(h.free_port())):
            with self.subTest(value), tempfile.TemporaryDirectory() as d:
                rc, out, err = print_openapi("msvc-server", d, METRICS=value)
                self.assertEqual(rc, 0, err)
                ops = operations(json.loads(out))
                self.assertEqual(ops, ROLE_OPS["msvc-server"] -
                                 {("get", "/metrics")})


class Deployed(unittest.TestCase):
    MODE = "server"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="msvc-openapi-")
        cls.dep = h.Deployment(cls.tmp.name, mode=cls.MODE, auth_count=1)
        try:
            cls.dep.start()
        except Exception:
            cls.dep.kill()
            cls.dep.dump_logs()
            cls.tmp.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.dep.stop()
        finally:
            cls.tmp.cleanup()

    def run(self, result=None):
        failures = len(result.failures) + len(result.errors) if result \
            else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures:
            self.dep.dump_logs()
        return out

    def served(self, url):
        r = h.request(url, "GET", "/openapi.json")
        self.assertEqual(r.status, 200, r)
        return r.json

    def check_document(self, name, url):
        doc = self.served(url)
        with tempfile.TemporaryDirectory() as d:
            rc, out, err = print_openapi(name, d)
        self.assertEqual(rc, 0, err)
        self.assertEqual(doc, json.loads(out))
        self.check_against_routes(doc, url)
        self.check_metrics(doc, url)
        self.validate(doc)

    def check_against_routes(self, doc, url):
        """A method no path takes (PATCH) is 405, Allow naming exactly the
        documented methods: every documented operation is routed."""
        for path, item in doc["paths"].items():
            real = path.replace("{id}", "0123456789abcdef01234567")
            r = h.request(url, "PATCH", real, {})
            self.assertEqual(r.status, 405, (path, r))
            allow = {m.strip().lower()
                     for m in (r.header("Allow") or "").split(",")}
            allow.discard("head")
            self.assertEqual(allow, {m for m in item if m in METHODS},
                             path)

    def check_metrics(self, doc, url):
        r = h.request(url, "GET", "/metrics", check=False)
        self.assertEqual(r.status == 200, "/metrics" in doc["paths"], r)

    def validate(self, doc):
        p = subprocess.run(
            [VENV_PYTHON, "-c",
             "import json, sys\n"
             "from openapi_spec_validator import validate\n"
             "from openapi_spec_validator import OpenAPIV31SpecValidator\n"
             "validate(json.load(sys.stdin), cls=OpenAPIV31SpecValidator)\n"],
            input=json.dumps(doc).encode(), capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-3000:])

    def schemathesis(self, url, auth_url):
        """Runs schemathesis against url; fails with its report."""
        env = dict(os.environ, SCHEMATHESIS_HOOKS="st_hooks",
                   PYTHONPATH=HERE, MSVC_ST_AUTH_URL=auth_url)
        cmd = [ST, "run", url + "/openapi.json", "--checks", CHECKS,
               "--max-examples", MAX_EXAMPLES, "--generation-deterministic",
               "--workers", "1",
               "--request-timeout", "30", "--no-color"]
        p = subprocess.run(cmd, cwd=self.tmp.name, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=600)
        out = p.stdout.decode("utf-8", "replace")
        summary = [line for line in out.splitlines()
                   if "generated" in line and "passed" in line]
        print("schemathesis %s: %s" % (url, summary[-1].strip()
                                       if summary else "?"),
              file=sys.stderr)
        if p.returncode != 0:
            self.fail("schemathesis found problems (exit %d):\n%s\n%s"
                      % (p.returncode, out[-20000:],
                         p.stderr.decode()[-3000:]))


class Server(Deployed):
    """msvc-server: every operation."""
    MODE = "server"

    def test_document(self):
        self.check_document("msvc-server", self.dep.post_url)

    def test_schemathesis(self):
        self.schemathesis(self.dep.post_url, self.dep.post_url)


class Split(Deployed):
    """msvc-auth, and msvc-post asking it for authors."""
    MODE = "split"

    def test_document_auth(self):
        self.check_document("msvc-auth", self.dep.auth_url)

    def test_document_post(self):
        self.check_document("msvc-post", self.dep.post_url)

    def test_schemathesis_auth(self):
        self.schemathesis(self.dep.auth_url, self.dep.auth_url)

    def test_schemathesis_post(self):
        self.schemathesis(self.dep.post_url, self.dep.auth_url)


def main():
    missing = []
    for name, path in BINS.items():
        if not path or not os.access(path, os.X_OK):
            missing.append(name)
    if not os.access(ST, os.X_OK):
        missing.append("schemathesis (%s; scripts/deps.sh --test makes it)"
                       % ST)
    if missing:
        why = "missing: " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            print("test_openapi.py: FAILED: " + why, file=sys.stderr)
            return 1
        print("test_openapi.py: SKIPPED: " + why, file=sys.stderr)
        return 77
    loader = unittest.TestLoader()
    if len(sys.argv) > 1:
        suite = loader.loadTestsFromNames(sys.argv[1:],
                                          sys.modules[__name__])
    else:
        suite = loader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
