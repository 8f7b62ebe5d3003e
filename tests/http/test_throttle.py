"""Login throttling: repeated failures for one account get 429 with
Retry-After, for existing and unknown emails alike."""

import time
import unittest

import harness as h
from harness import DeployedTestCase, PASSWORD

MAX_FAILURES = 3
LOCKOUT = 120


class Throttle(DeployedTestCase):
    ENV = {"LOGIN_MAX_FAILURES": str(MAX_FAILURES),
           "LOGIN_LOCKOUT": str(LOCKOUT)}

    def attempt(self, email, password):
        return self.auth("POST", "/api/login", {"email": email,
                                                "password": password})

    def assertThrottled(self, r):
        self.assertError(r, 429)
        retry = r.header("Retry-After")
        self.assertIsNotNone(retry, r.headers)
        self.assertRegex(retry, r"^[0-9]+$")
        self.assertTrue(1 <= int(retry) <= LOCKOUT, retry)

    def test_repeated_failures_are_throttled(self):
        u = self.register(name="Victim")
        for _ in range(MAX_FAILURES):
            r = self.attempt(u["email"], "wrong-password-1")
            self.assertEqual(r.json, {"status": 401,
                                      "message": "Invalid credentials"})
        r = self.attempt(u["email"], "wrong-password-1")
        self.assertThrottled(r)
        # The right password is refused too while the lockout lasts, and
        # the email is matched case-insensitively.
        self.assertThrottled(self.attempt(u["email"], PASSWORD))
        self.assertThrottled(self.attempt(u["email"].upper(), PASSWORD))
        self.assertThrottled(self.auth("POST", "/api/auth/login",
                                       {"email": u["email"],
                                        "password": PASSWORD}))

    def test_other_accounts_and_earlier_tokens_are_not_affected(self):
        """Locking one account out leaves another free to log in, and the
        locked account's token, issued before the lockout began (its iat
        is no later than the first 429), keeps working: the throttle is
        on logins, not on sessions."""
        a = self.register(name="Locked")
        b = self.register(name="Free")
        earlier = self.login(a["email"])
        for _ in range(MAX_FAILURES):
            self.assertEqual(self.attempt(a["email"], "wrong-password-1")
                             .status, 401)
        self.assertThrottled(self.attempt(a["email"], "wrong-password-1"))
        locked_at = time.time()
        self.assertThrottled(self.attempt(a["email"], PASSWORD))
        self.assertLessEqual(h.jwt_parts(earlier)[1]["iat"], locked_at)
        r = self.auth("GET", "/api/user", token=earlier)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"]["id"], a["id"])
        r = self.auth("GET", "/api/user", token=self.login(b["email"]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"]["id"], b["id"])

    def test_unknown_emails_are_throttled_alike(self):
        # Otherwise the throttle would tell which accounts exist.
        ghost = h.unique_email("ghost")
        for _ in range(MAX_FAILURES):
            r = self.attempt(ghost, "wrong-password-1")
            self.assertEqual(r.json, {"status": 401,
                                      "message": "Invalid credentials"})
        self.assertThrottled(self.attempt(ghost, "wrong-password-1"))

    def test_successes_do_not_count(self):
        u = self.register(name="Careful")
        for _ in range(MAX_FAILURES * 2):
            self.login(u["email"])
        r = self.attempt(u["email"], "wrong-password-1")
        self.assertEqual(r.status, 401)
        self.login(u["email"])


if __name__ == "__main__":
    unittest.main()
