"""Tokens: every bad token is 401 UnAuthorized on every protected route, the
seed's Node tokens are accepted under the shared secret, and ours are
interchangeable with them."""

import hashlib
import hmac
import json
import time
import unittest

import harness as h
from harness import DeployedTestCase

UNAUTHORIZED = {"status": 401, "message": "UnAuthorized"}


def sign(signing_input, secret, digest):
    return h.b64url(hmac.new(secret.encode(), signing_input.encode(),
                             digest).digest())


class Tokens(DeployedTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls.make_user("Token User")
        r = h.request(cls.post_url, "POST", "/api/posts",
                      {"title": "t", "content": "c"},
                      token=cls.user["token"])
        assert r.status == 201, r
        cls.target = r.json["post"]

    def protected(self):
        pid = self.target["id"]
        a, p = self.auth_url, self.post_url
        return [(a, "GET", "/api/user", h._NO_BODY),
                (a, "PUT", "/api/user", {"name": "Hacked"}),
                (a, "GET", "/api/auth/user", h._NO_BODY),
                (a, "GET", "/api/getUser/" + self.user["id"], h._NO_BODY),
                (a, "POST", "/api/getUsers", {"userIds": [self.user["id"]]}),
                (p, "POST", "/api/posts", {"title": "x", "content": "y"}),
                (p, "POST", "/api/post", {"title": "x", "content": "y"}),
                (p, "PUT", "/api/posts/" + pid, {"title": "Hacked"}),
                (p, "DELETE", "/api/posts/" + pid, h._NO_BODY)]

    def bad_authorizations(self):
        now = int(time.time())
        claims = h.user_claims(self.user)
        good = h.mint(claims)
        head, payload, sig = good.split(".")
        forged_payload = h.b64url(json.dumps(
            dict(claims, name="Mallory")).encode())
        hdr = lambda d: h.b64url(json.dumps(d).encode())  # noqa: E731
        rs256_input = hdr({"alg": "RS256", "typ": "JWT"}) + "." + payload
        return {
            "missing": None,
            "empty": "",
            "scheme only": "Bearer",
            "scheme and space": "Bearer ",
            "garbage": "Bearer garbage",
            "three dots": "Bearer a.b.c",
            "two parts": "Bearer " + head + "." + payload,
            "basic": "Basic dXNlcjpwYXNzd29yZA==",
            "no scheme": good,
            "other scheme": "Token " + good,
            "signature cut": "Bearer " + good[:-3],
            "signature changed": "Bearer " + head + "." + payload + "." +
            ("A" if sig[0] != "A" else "B") + sig[1:],
            "expired": "Bearer " + h.mint(dict(claims, iat=now - 7200,
                                               exp=now - 60)),
            "tampered payload": "Bearer " + head + "." + forged_payload +
            "." + sig,
            "other secret": "Bearer " + h.mint(claims, secret="not-ours"),
            "empty secret": "Bearer " + h.mint(claims, secret=""),
            "alg none": "Bearer " + h.mint(claims, alg="none"),
            "alg none signed": "Bearer " + hdr({"alg": "none"}) + "." +
            payload + "." + sig,
            "alg None case": "Bearer " + h.mint(
                claims, alg="none", header={"alg": "None", "typ": "JWT"}),
            "HS512 same secret": "Bearer " + h.mint(claims, alg="HS512"),
            "HS384 same secret": "Bearer " + hdr({"alg": "HS384"}) + "." +
            payload + "." + sign(hdr({"alg": "HS384"}) + "." + payload,
                                 h.TEST_SECRET, hashlib.sha384),
            "RS256 header, HMAC signature": "Bearer " + rs256_input + "." +
            sign(rs256_input, h.TEST_SECRET, hashlib.sha256),
            "no exp": "Bearer " + h.mint({k: v for k, v in claims.items()
                                          if k != "exp"}),
            "exp as string": "Bearer " + h.mint(dict(claims,
                                                     exp=str(now + 600))),
            "no id": "Bearer " + h.mint({k: v for k, v in claims.items()
                                         if k != "id"}),
            "numeric id": "Bearer " + h.mint(dict(claims, id=12345)),
            "payload not JSON": "Bearer " + head + "." +
            h.b64url(b"not json") + "." +
            sign(head + "." + h.b64url(b"not json"), h.TEST_SECRET,
                 hashlib.sha256),
            "two tokens": "Bearer " + good + " " + good,
            "two tokens, tab": "Bearer " + good + "\t" + good,
        }

    def test_every_bad_token_is_401_everywhere(self):
        for label, authz in self.bad_authorizations().items():
            for url, method, path, body in self.protected():
                r = h.request(url, method, path, body, auth=authz)
                self.assertEqual(r.status, 401, (label, method, path, r))
                self.assertEqual(r.json, UNAUTHORIZED, (label, path))
        # Nothing was changed by any of those requests.
        r = self.auth("GET", "/api/user", token=self.user["token"])
        self.assertEqual(r.json["user"]["name"], "Token User")
        r = self.post("GET", "/api/posts/" + self.target["id"])
        self.assertEqual(r.json["post"], self.target)
        r = self.post("GET", "/api/posts?user_id=" + self.user["id"])
        self.assertEqual(r.json["posts"], [self.target])

    def test_lower_case_bearer_is_accepted(self):
        r = self.auth("GET", "/api/user", auth="bearer " + self.user["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"]["id"], self.user["id"])

    def test_a_token_minted_with_the_secret_is_accepted(self):
        # What the seed's Node service would sign under the same secret.
        token = h.mint(h.user_claims(self.user, lifetime=365 * 86400))
        r = self.auth("GET", "/api/user", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"]["email"], self.user["email"])
        r = self.post("POST", "/api/posts", {"title": "minted",
                                             "content": "c"}, token=token)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["post"]["user_id"], self.user["id"])
        r = self.post("DELETE", "/api/posts/" + r.json["post"]["id"],
                      token=token)
        self.assertEqual(r.status, 200, r)


class SeedVectors(DeployedTestCase):
    """Tokens made by the seed's jsonwebtoken, under the vectors' secret."""

    VECTORS = h.load_vectors()
    SECRET = VECTORS["jwt"]["secret"]

    def setUp(self):
        self.jwt = self.VECTORS["jwt"]
        self.claims = self.jwt["claims_of_valid"]

    def test_valid_seed_token_is_accepted(self):
        token = self.jwt["valid_far_future"]
        ada = {k: self.claims[k] for k in ("id", "name", "email")}
        r = self.post("POST", "/api/posts",
                      {"title": "From the seed", "content": "hello"},
                      token=token)
        self.assertEqual(r.status, 201, r)
        post = r.json["post"]
        self.assertEqual(post["user_id"], ada["id"])
        self.assertEqual(post["user"], ada)
        # A valid caller for lookups, even though no such user is stored.
        r = self.auth("GET", "/api/getUser/" + ada["id"], token=token)
        self.assertError(r, 404)
        r = self.auth("POST", "/api/getUsers", [ada["id"]], token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"users": []})
        # The author is not stored here: "user" is null, and that is not a
        # degraded answer (the user does not exist, the service answered).
        r = self.post("GET", "/api/posts/" + post["id"])
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.json["post"]["user"])
        self.assertNotIn("degraded", r.json)
        self.assertIsNone(r.header("Warning"))
        r = self.post("GET", "/api/posts?user_id=" + ada["id"])
        self.assertEqual([p["id"] for p in r.json["posts"]], [post["id"]])
        self.assertIsNone(r.json["posts"][0]["user"])
        self.assertNotIn("degraded", r.json)
        r = self.post("PUT", "/api/posts/" + post["id"], {"title": "Edited"},
                      token=token)
        self.assertEqual(r.status, 200, r)
        r = self.post("DELETE", "/api/posts/" + post["id"], token=token)
        self.assertEqual(r.status, 200, r)

    def test_valid_seed_token_for_a_user_not_stored(self):
        # The token is good, but /api/user answers a stored USER (with
        # timestamps the token does not carry): no such user, 404.
        r = self.auth("GET", "/api/user", token=self.jwt["valid_far_future"])
        self.assertError(r, 404)

    def test_rejected_seed_tokens(self):
        for name, verdict in self.jwt["expect"].items():
            if verdict == "accept":
                continue
            token = self.jwt[name]
            for url, method, path, body in (
                    (self.auth_url, "GET", "/api/user", h._NO_BODY),
                    (self.auth_url, "GET", "/api/getUser/" + self.claims["id"],
                     h._NO_BODY),
                    (self.post_url, "POST", "/api/posts",
                     {"title": "x", "content": "y"})):
                r = h.request(url, method, path, body, token=token)
                self.assertEqual(r.status, 401, (name, path, r))
                self.assertEqual(r.json, UNAUTHORIZED)

    def test_our_tokens_verify_under_the_shared_secret(self):
        u = self.new_user("Both Ways")
        self.assertTrue(h.hs256_valid(u["token"], self.SECRET))
        header, claims, _ = h.jwt_parts(u["token"])
        self.assertEqual(header.get("alg"), "HS256")
        # The seed's claims, plus exactly sid and jti (sessions are on).
        self.assertEqual(set(claims), set(self.claims) | h.SESSION_CLAIM_KEYS)


if __name__ == "__main__":
    unittest.main()
