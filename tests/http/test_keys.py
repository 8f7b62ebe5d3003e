"""Public-key signing on the split deployment: msvc-auth signs ES256 (or
RS256) tokens and publishes its keys at /.well-known/jwks.json; msvc-post
holds no secret for user tokens and verifies with the keys it fetched.

Only run by the http.split.es256 case (MSVC_JWT_ALGORITHM=ES256,
MSVC_DEPLOY=split): these deployments restart their auth service several
times, which the other cases have no reason to pay for.  Key files are made
with the openssl command.  Covered: the published set and its headers, the
key generated once into DATA_DIR, verification on msvc-post, rotation (add a
key, then remove the old one), serving on cached keys with the auth service
down or not yet up, algorithm confusion, and that unknown kids cannot make
msvc-post fetch more than once per 10 s."""

import base64
import os
import re
import shutil
import stat
import subprocess
import threading
import time
import unittest
import uuid

import harness as h
from harness import DeployedTestCase

SERVICE_SECRET = "http-suite-service-secret-8d2e4f6a"
OPENSSL = shutil.which("openssl")
JWKS_PATH = "/.well-known/jwks.json"


def make_key(path, alg="ES256"):
    if alg == "ES256":
        args = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    else:
        args = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
    subprocess.run([OPENSSL, "genpkey"] + args + ["-out", path], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(path, 0o600)


def forged(claims, kid, alg="ES256", sig=None):
    """A token whose header names `kid`, with a random signature."""
    header = {"alg": alg, "typ": "JWT", "kid": kid}
    signing = (h.b64url(h.json.dumps(header).encode()) + "." +
               h.b64url(h.json.dumps(claims).encode()))
    return signing + "." + h.b64url(sig if sig is not None
                                    else os.urandom(64))


def jwks_fetches(dep):
    """JWK Set requests the auth services have logged."""
    time.sleep(0.3)  # access-log lines are written within 100 ms
    return sum(p.log_text().count(" GET %s " % JWKS_PATH)
               for p in dep.auth_procs)


class KeysCase(DeployedTestCase):
    """ES256, no JWT_SECRET anywhere: msvc-post gets user-token keys from
    the JWK Set and service tokens use SERVICE_SECRET."""
    MODE = "split"
    SECRET = None
    ALG = "ES256"
    ENV = {"SERVICE_SECRET": SERVICE_SECRET}

    @classmethod
    def setUpClass(cls):
        if h.JWT_ALGORITHM != "ES256":
            raise unittest.SkipTest("only with MSVC_JWT_ALGORITHM=ES256 "
                                    "(ctest http.split.es256)")
        if OPENSSL is None:
            h.skip_missing("the openssl command, to make keys")
        cls.ENV = dict(KeysCase.ENV, JWT_ALGORITHM=cls.ALG)
        super().setUpClass()

    def user_with_token(self, name="Signer"):
        user = self.new_user(name)
        header, _ = self.assertTokenShape(user["token"])
        self.assertEqual(header["alg"], self.ALG)
        self.assertIn("kid", header)
        return user

    def post_works(self, token):
        r = self.post("POST", "/api/posts", {"title": "t", "content": "c"},
                      token=token)
        return r.status == 201

    def jwks(self, url=None):
        r = h.request(url or self.auth_url, "GET", JWKS_PATH)
        self.assertEqual(r.status, 200, r)
        cc = r.header("Cache-Control") or ""
        self.assertRegex(cc, r"max-age=\d+", r.headers)
        self.assertEqual(set(r.json), {"keys"})
        for k in r.json["keys"]:
            self.assertEqual(k.get("use"), "sig", k)
            self.assertEqual(k.get("alg"), self.ALG, k)
            if self.ALG == "ES256":
                self.assertEqual(k["kty"], "EC")
                self.assertEqual(k["crv"], "P-256")
                self.assertEqual(len(h.b64url_decode(k["x"])), 32)
                self.assertEqual(len(h.b64url_decode(k["y"])), 32)
            else:
                self.assertEqual(k["kty"], "RSA")
                self.assertGreaterEqual(len(h.b64url_decode(k["n"])), 256)
                self.assertIn("e", k)
            self.assertNotIn("d", k)  # never the private part
        return r.json["keys"]


class GeneratedKey(KeysCase):
    """No key file named: the two msvc-auth generate (one of them) a key
    into their shared DATA_DIR and publish the same set."""

    def test_one_key_generated_published_by_both(self):
        data = os.path.join(self.tmp, "data")
        files = [f for f in os.listdir(data)
                 if re.match(r"^jwt-es256-\d{8}\.pem$", f)]
        self.assertEqual(len(files), 1, os.listdir(data))
        mode = stat.S_IMODE(os.stat(os.path.join(data, files[0])).st_mode)
        self.assertEqual(mode, 0o600)
        # SERVICE_SECRET given: no JWT secret was needed, or made.
        self.assertNotIn("jwt-secret", os.listdir(data))
        kid = files[0][:-4]
        sets = [self.jwks(url) for url in self.dep.auth_urls]
        self.assertEqual(sets[0], sets[1])
        self.assertEqual([k["kid"] for k in sets[0]], [kid])
        real = os.path.realpath(os.path.join(data, files[0]))
        logs = "".join(p.log_text() for p in self.dep.auth_procs)
        self.assertIn(real, logs)
        # A restart keeps the key.
        self.dep.auth_procs[0].stop()
        self.dep.auth_procs[0].start()
        self.assertEqual(self.jwks(), sets[0])
        # msvc-post publishes nothing.
        r = self.post("GET", JWKS_PATH)
        self.assertError(r, 404)

    def test_tokens_verify_on_post_and_lookups_use_the_service_secret(self):
        user = self.user_with_token()
        r = self.post("POST", "/api/posts", {"title": "ES", "content": "256"},
                      token=user["token"])
        self.assertEqual(r.status, 201, r)
        post = r.json["post"]
        # The author came from msvc-auth: SERVICE_SECRET is shared.
        r = self.post("GET", "/api/posts/" + post["id"])
        self.assertEqual(r.status, 200, r)
        self.assertPublicUser(r.json["post"]["user"], of=user)
        self.assertNotIn("degraded", r.json)
        r = self.auth("GET", "/api/user", token=user["token"])
        self.assertEqual(r.status, 200, r)

    def test_algorithm_confusion_and_foreign_kids_are_refused(self):
        user = self.user_with_token()
        header, claims, sig = h.jwt_parts(user["token"])
        claims = dict(claims)
        key = self.jwks()[0]
        tokens = {
            "hs256 with the service secret": h.mint(claims, SERVICE_SECRET),
            "hs256 with the public key's x": h.mint(
                claims, h.b64url_decode(key["x"]),
                header={"alg": "HS256", "typ": "JWT", "kid": key["kid"]}),
            "alg none": h.mint(claims, alg="none",
                               header={"alg": "none", "typ": "JWT",
                                       "kid": key["kid"]}),
            "unknown kid": forged(claims, "not-ours"),
            "10 KB kid": forged(claims, "k" * 10240),
            "no kid": forged(claims, None),
            "our kid, bad signature": forged(claims, key["kid"], sig=sig[::-1]),
        }
        for name, token in tokens.items():
            for url in (self.post_url, self.auth_url):
                r = h.request(url, "POST" if url == self.post_url else "GET",
                              "/api/posts" if url == self.post_url
                              else "/api/user",
                              {"title": "x", "content": "y"}
                              if url == self.post_url else h._NO_BODY,
                              token=token)
                self.assertEqual(r.status, 401, (name, url, r))
        self.assertTrue(self.post_works(user["token"]))

    def test_unknown_kids_make_at_most_one_fetch_per_10s(self):
        user = self.user_with_token()
        _, claims, _ = h.jwt_parts(user["token"])
        # Start of a window: one unknown kid may fetch.
        before = jwks_fetches(self.dep)
        statuses = []
        lock = threading.Lock()

        def flood(i):
            for _ in range(10):
                t = forged(claims, "flood-%s" % uuid.uuid4().hex)
                r = self.post("POST", "/api/posts",
                              {"title": "x", "content": "y"}, token=t)
                with lock:
                    statuses.append(r.status)
        started = time.monotonic()
        h.run_threads(4, flood)
        elapsed = time.monotonic() - started
        self.assertEqual(set(statuses), {401})
        # Checked on a worker (unknown kid), the token still answers before
        # the body: 401, not 415.
        r = self.post("POST", "/api/posts", body=b"x=1",
                      content_type="text/plain",
                      token=forged(claims, "flood-late"))
        self.assertUnauthorized(r)
        r = self.post("POST", "/api/posts", body=b"{",
                      token=forged(claims, "flood-later"))
        self.assertUnauthorized(r)
        after = jwks_fetches(self.dep)
        allowed = 1 + int(elapsed // 10)
        self.assertLessEqual(after - before, allowed,
                             "%d fetches for 40 unknown kids in %.1f s"
                             % (after - before, elapsed))
        self.assertTrue(self.post_works(user["token"]))

    def test_post_keeps_serving_on_cached_keys_with_auth_down(self):
        user = self.user_with_token("Offline")
        self.assertTrue(self.post_works(user["token"]))
        for p in self.dep.auth_procs:
            self.assertEqual(p.stop(), 0)
        try:
            r = self.post("GET", "/api/posts")
            self.assertEqual(r.status, 200, r)
            r = self.post("POST", "/api/posts",
                          {"title": "offline", "content": "still"},
                          token=user["token"])
            self.assertEqual(r.status, 201, r)
            # An unknown kid now finds no auth service: still a plain 401.
            _, claims, _ = h.jwt_parts(user["token"])
            r = self.post("POST", "/api/posts", {"title": "x", "content": "y"},
                          token=forged(claims, "while-down"))
            self.assertUnauthorized(r)
            self.assertTrue(self.post_works(user["token"]))
        finally:
            for p in self.dep.auth_procs:
                p.start()
        self.assertTrue(self.post_works(user["token"]))


class RS256(KeysCase):
    """The same with RSA keys (generated, 2048 bits)."""
    ALG = "RS256"
    AUTH_COUNT = 1

    def test_rs256_tokens_verify_on_post(self):
        keys = self.jwks()
        self.assertEqual(len(keys), 1)
        self.assertRegex(keys[0]["kid"], r"^jwt-rs256-\d{8}$")
        user = self.user_with_token()
        self.assertEqual(h.jwt_parts(user["token"])[0]["kid"], keys[0]["kid"])
        self.assertTrue(self.post_works(user["token"]))


class Rotation(KeysCase):
    """JWT_PRIVATE_KEY_FILE: start with key a, add b (b signs, a still
    verifies), then drop a (its tokens are refused, on msvc-post once it
    has fetched the set again)."""
    AUTH_COUNT = 1

    @classmethod
    def make_deployment(cls, workdir, **kw):
        keys = os.path.join(workdir, "keys")
        os.makedirs(keys)
        cls.key_a = os.path.join(keys, "a.pem")
        cls.key_b = os.path.join(keys, "b.pem")
        make_key(cls.key_a)
        make_key(cls.key_b)
        return super().make_deployment(
            workdir, auth_env={"JWT_PRIVATE_KEY_FILE": cls.key_a}, **kw)

    def restart_auth(self, files):
        p = self.dep.auth_procs[0]
        self.assertEqual(p.stop(), 0)
        p.env["JWT_PRIVATE_KEY_FILE"] = files
        p.start()

    def test_add_then_remove_a_key(self):
        user_a = self.user_with_token("Key A")
        self.assertEqual(h.jwt_parts(user_a["token"])[0]["kid"], "a")
        self.assertEqual([k["kid"] for k in self.jwks()], ["a"])
        self.assertTrue(self.post_works(user_a["token"]))

        # Add b: it signs; a's tokens still verify everywhere.
        self.restart_auth(self.key_a + "," + self.key_b)
        self.assertEqual(sorted(k["kid"] for k in self.jwks()), ["a", "b"])
        token_b = self.login(user_a["email"])
        self.assertEqual(h.jwt_parts(token_b)[0]["kid"], "b")
        # msvc-post learns b on its first unknown kid (at most one fetch
        # per 10 s, so this may take that long).
        self.assertTrue(h.poll(lambda: self.post_works(token_b), 25,
                               interval=1.0))
        self.assertTrue(self.post_works(user_a["token"]))
        r = self.auth("GET", "/api/user", token=user_a["token"])
        self.assertEqual(r.status, 200, r)

        # Drop a: msvc-auth refuses its tokens at once ...
        self.restart_auth(self.key_b)
        self.assertEqual([k["kid"] for k in self.jwks()], ["b"])
        r = self.auth("GET", "/api/user", token=user_a["token"])
        self.assertUnauthorized(r)
        # ... and msvc-post after its next fetch, which an unknown kid
        # triggers.
        _, claims, _ = h.jwt_parts(token_b)

        def a_refused():
            self.post("POST", "/api/posts", {"title": "x", "content": "y"},
                      token=forged(claims, "trigger"))
            return not self.post_works(user_a["token"])
        self.assertTrue(h.poll(a_refused, 25, interval=1.0))
        self.assertTrue(self.post_works(token_b))


class PostStartsFirst(KeysCase):
    """msvc-post starts while no auth service answers, serves what needs no
    token, and verifies tokens once the auth service is up."""
    AUTH_COUNT = 1

    def test_starts_without_the_auth_service(self):
        self.dep.stop()
        self.dep.post_proc.start()
        r = self.post("GET", "/api/posts")
        self.assertEqual(r.status, 200, r)
        self.dep.auth_procs[0].start()
        user = self.user_with_token("Late")
        self.assertTrue(h.poll(lambda: self.post_works(user["token"]), 15,
                               interval=0.5))


if __name__ == "__main__":
    unittest.main()
