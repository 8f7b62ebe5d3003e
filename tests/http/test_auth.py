"""The auth routes: register, login, user, profile update, lookups, aliases."""

import time
import unittest

import harness as h
from harness import DeployedTestCase, PASSWORD, unique_email


class Register(DeployedTestCase):

    def test_register_answers_201_with_the_user(self):
        email = unique_email("reg")
        r = self.auth("POST", "/api/register",
                      {"name": "Ada Lovelace", "email": email,
                       "password": PASSWORD})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(set(r.json), {"message", "user"})
        self.assertEqual(r.json["message"], "Account created successfully!")
        user = r.json["user"]
        self.assertUser(user, name="Ada Lovelace", email=email)
        self.assertTimestamp(user["created_at"])
        self.assertTimestamp(user["updated_at"])

    def test_email_is_lower_cased_and_name_trimmed(self):
        local = unique_email("MiXeD").split("@")[0]
        r = self.auth("POST", "/api/register",
                      {"name": "  \t Grace Hopper  ",
                       "email": local + "@Example.COM",
                       "password": PASSWORD})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["user"]["name"], "Grace Hopper")
        self.assertEqual(r.json["user"]["email"], local.lower() +
                         "@example.com")
        # Logging in with any case of the address works.
        token = self.login(local.upper() + "@EXAMPLE.com")
        r = self.auth("GET", "/api/user", token=token)
        self.assertEqual(r.json["user"]["email"],
                         local.lower() + "@example.com")

    def test_duplicate_email_is_409_whatever_the_case(self):
        email = unique_email("dup")
        self.register(email=email)
        for variant in (email, email.upper(), email.capitalize()):
            r = self.auth("POST", "/api/register",
                          {"name": "Other", "email": variant,
                           "password": PASSWORD})
            self.assertError(r, 409)

    def test_ids_are_distinct(self):
        a = self.register()
        b = self.register()
        self.assertNotEqual(a["id"], b["id"])

    def test_limits_of_name_email_and_password(self):
        ok = [
            {"name": "n" * 100},
            {"name": "\u00e9" * 100},          # 100 characters, 200 bytes
            {"name": "  " + "x" * 100 + "  "},  # 100 after trimming
            {"password": "p" * 8},
            {"password": "p" * 72},
            {"password": "\u00e9" * 36},        # 72 bytes
        ]
        bad = [
            ({"name": "n" * 101}, {"name"}),
            ({"name": "\u00e9" * 101}, {"name"}),
            ({"name": ""}, {"name"}),
            ({"name": "   "}, {"name"}),
            ({"password": "p" * 7}, {"password"}),
            ({"password": "p" * 73}, {"password"}),
            ({"password": "\u00e9" * 37}, {"password"}),  # 74 bytes
            ({"email": "not-an-email"}, {"email"}),
            ({"email": "two words@example.com"}, {"email"}),
            ({"email": "@example.com"}, {"email"}),
            ({"email": "a" * 64 + "@" + "b" * 186 + ".com"}, {"email"}),
        ]
        for extra in ok:
            body = {"name": "Name", "email": unique_email("lim"),
                    "password": PASSWORD}
            body.update(extra)
            r = self.auth("POST", "/api/register", body)
            self.assertEqual(r.status, 201, (extra, r))
        for extra, fields in bad:
            body = {"name": "Name", "email": unique_email("lim"),
                    "password": PASSWORD}
            body.update(extra)
            r = self.auth("POST", "/api/register", body)
            self.assertValidation(r, fields)

    def test_email_of_254_bytes_is_accepted(self):
        tag = unique_email("x").split("@")[0][-10:]
        local = (tag + "a" * 64)[:64]
        domain = "d" * 63 + "." + "e" * 63 + "." + "f" * 57 + ".com"
        email = local + "@" + domain
        self.assertEqual(len(email), 254)
        r = self.auth("POST", "/api/register", {"name": "Long",
                                                "email": email,
                                                "password": PASSWORD})
        self.assertEqual(r.status, 201, r)
        r = self.auth("POST", "/api/register",
                      {"name": "Long", "email": "g" + email,
                       "password": PASSWORD})
        self.assertValidation(r, {"email"})

    def test_every_offending_field_is_named_at_once(self):
        r = self.auth("POST", "/api/register",
                      {"name": 5, "email": ["a@b.c"], "password": True})
        self.assertValidation(r, {"name", "email", "password"})
        r = self.auth("POST", "/api/register", {})
        self.assertValidation(r, {"name", "email", "password"})
        r = self.auth("POST", "/api/register",
                      {"name": None, "email": "ok@example.com",
                       "password": 12345678})
        self.assertValidation(r, {"name", "password"})
        r = self.auth("POST", "/api/register",
                      {"name": "x" * 200, "email": "nope",
                       "password": "short"})
        self.assertValidation(r, {"name", "email", "password"})

    def test_failed_registration_stores_nothing(self):
        email = unique_email("half")
        r = self.auth("POST", "/api/register",
                      {"name": "", "email": email, "password": PASSWORD})
        self.assertValidation(r, {"name"})
        # The email is still free: nothing was half-written.
        self.register(email=email)


class Login(DeployedTestCase):
    SESSIONS = True  # the login answer carries a refresh token

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.email = unique_email("login")
        r = h.request(cls.auth_url, "POST", "/api/register",
                      {"name": "Login User", "email": cls.email,
                       "password": PASSWORD})
        assert r.status == 201, r
        cls.user = r.json["user"]

    def test_login_answers_a_bearer_token(self):
        before = int(time.time())
        r = self.auth("POST", "/api/login",
                      {"email": self.email, "password": PASSWORD})
        after = int(time.time())
        self.assertEqual(r.status, 200, r)
        self.assertLoginAnswer(r.json, sessions=self.SESSIONS)
        self.assertEqual(r.json["message"], "Logged in successfully!")
        self.assertEqual(r.json["token_type"], "Bearer")
        self.assertIsInstance(r.json["expires_in"], int)
        self.assertGreater(r.json["expires_in"], 0)
        scheme, _, token = r.json["access_token"].partition(" ")
        self.assertEqual(scheme, "Bearer")
        header, claims, _ = h.jwt_parts(token)
        self.assertEqual(header["alg"], "HS256")
        self.assertTrue(h.hs256_valid(token, h.TEST_SECRET))
        self.assertTokenShape(token, sessions=self.SESSIONS)
        self.assertEqual(claims["id"], self.user["id"])
        self.assertEqual(claims["name"], "Login User")
        self.assertEqual(claims["email"], self.email)
        self.assertTrue(before - 2 <= claims["iat"] <= after + 2, claims)
        self.assertLessEqual(abs(claims["exp"] - claims["iat"] -
                                 r.json["expires_in"]), 1, (claims, r.json))

    def test_token_works_on_the_user_route(self):
        token = self.login(self.email)
        r = self.auth("GET", "/api/user", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"user"})
        self.assertEqual(r.json["user"], self.user)

    def test_wrong_password_and_unknown_email_answer_alike(self):
        wrong = self.auth("POST", "/api/login",
                          {"email": self.email, "password": PASSWORD + "x"})
        unknown = self.auth("POST", "/api/login",
                            {"email": unique_email("ghost"),
                             "password": PASSWORD})
        for r in (wrong, unknown):
            self.assertEqual(r.status, 401, r)
            self.assertEqual(r.json, {"status": 401,
                                      "message": "Invalid credentials"})
        self.assertEqual(wrong.body, unknown.body)

    def test_login_validation(self):
        r = self.auth("POST", "/api/login", {})
        self.assertValidation(r, {"email", "password"})
        r = self.auth("POST", "/api/login", {"email": 5, "password": []})
        self.assertValidation(r, {"email", "password"})
        r = self.auth("POST", "/api/login", {"email": self.email})
        self.assertValidation(r, {"password"})

    def test_alias_login_and_user(self):
        r = self.auth("POST", "/api/auth/login",
                      {"email": self.email, "password": PASSWORD})
        self.assertEqual(r.status, 200, r)
        self.assertLoginAnswer(r.json, sessions=self.SESSIONS)
        self.assertEqual(r.json["message"], "Logged in successfully!")
        token = r.json["access_token"].split(" ", 1)[1]
        self.assertTokenShape(token, sessions=self.SESSIONS)
        r = self.auth("GET", "/api/auth/user", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"user": self.user})
        r = self.auth("GET", "/api/auth/user")
        self.assertUnauthorized(r)

    def test_alias_register_answers_200(self):
        email = unique_email("alias")
        r = self.auth("POST", "/api/auth/register",
                      {"name": "Alias", "email": email, "password": PASSWORD})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"message", "user"})
        self.assertEqual(r.json["message"], "Account created successfully!")
        self.assertUser(r.json["user"], name="Alias", email=email)
        r = self.auth("POST", "/api/auth/register",
                      {"name": "Alias", "email": email, "password": PASSWORD})
        self.assertError(r, 409)
        r = self.auth("POST", "/api/auth/register", {"name": 1})
        self.assertValidation(r, {"name", "email", "password"})


class LoginSeedMode(Login):
    """SESSIONS=off: the login answer and the token's claims are exactly the
    seed's, nothing added."""
    ENV = {"SESSIONS": "off"}
    SESSIONS = False

    def test_refresh_and_sessions_answer_404(self):
        r = self.auth("POST", "/api/token/refresh", {"refresh_token": "x" * 43})
        self.assertError(r, 404, "Sessions are disabled")
        token = self.login(self.email)
        r = self.auth("GET", "/api/sessions", token=token)
        self.assertError(r, 404, "Sessions are disabled")
        # Logging out is harmless: there is nothing to end.
        r = self.auth("POST", "/api/logout", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"message": "Logged out"})


class Profile(DeployedTestCase):

    def test_get_user_needs_a_token(self):
        self.assertUnauthorized(self.auth("GET", "/api/user"))
        self.assertUnauthorized(self.auth("PUT", "/api/user",
                                          {"name": "x"}))

    def test_change_name(self):
        u = self.new_user()
        r = self.auth("PUT", "/api/user", {"name": "  Renamed  "},
                      token=u["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"message", "user"})
        self.assertEqual(r.json["message"], "Profile updated")
        user = r.json["user"]
        self.assertUser(user, name="Renamed", email=u["email"])
        self.assertEqual(user["id"], u["id"])
        self.assertEqual(user["created_at"], u["created_at"])
        self.assertGreaterEqual(user["updated_at"], u["updated_at"])
        r = self.auth("GET", "/api/user", token=u["token"])
        self.assertEqual(r.json["user"], user)

    def test_change_email(self):
        u = self.new_user()
        new = unique_email("NEW").upper()
        r = self.auth("PUT", "/api/user", {"email": new}, token=u["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"]["email"], new.lower())
        self.login(new.lower())
        r = self.auth("POST", "/api/login", {"email": u["email"],
                                             "password": PASSWORD})
        self.assertError(r, 401, "Invalid credentials")
        # The old address is free again.
        self.register(email=u["email"])

    def test_taken_email_is_409_and_changes_nothing(self):
        a = self.new_user()
        b = self.new_user()
        r = self.auth("PUT", "/api/user", {"email": a["email"].upper(),
                                           "name": "Thief"},
                      token=b["token"])
        self.assertError(r, 409)
        r = self.auth("GET", "/api/user", token=b["token"])
        self.assertEqual(r.json["user"]["email"], b["email"])
        self.assertEqual(r.json["user"]["name"], b["name"])

    def test_password_change_needs_the_current_password(self):
        u = self.new_user()
        new = "brand-new-passw0rd"
        r = self.auth("PUT", "/api/user", {"password": new}, token=u["token"])
        self.assertValidation(r, {"current_password"})
        r = self.auth("PUT", "/api/user",
                      {"password": new, "current_password": "wrong-one-1"},
                      token=u["token"])
        self.assertValidation(r, {"current_password"})
        r = self.auth("PUT", "/api/user",
                      {"password": new, "current_password": 12345678},
                      token=u["token"])
        self.assertValidation(r, {"current_password"})
        self.login(u["email"], PASSWORD)  # unchanged so far
        r = self.auth("PUT", "/api/user",
                      {"password": "short", "current_password": PASSWORD},
                      token=u["token"])
        self.assertValidation(r, {"password"})
        r = self.auth("PUT", "/api/user",
                      {"password": new, "current_password": PASSWORD},
                      token=u["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["message"], "Profile updated")
        self.assertUser(r.json["user"], email=u["email"])
        r = self.auth("POST", "/api/login", {"email": u["email"],
                                             "password": PASSWORD})
        self.assertError(r, 401, "Invalid credentials")
        self.login(u["email"], new)

    def test_invalid_updates_name_every_field_and_change_nothing(self):
        u = self.new_user()
        r = self.auth("PUT", "/api/user",
                      {"name": "", "email": "bad", "password": 5,
                       "current_password": PASSWORD}, token=u["token"])
        self.assertValidation(r, {"name", "email", "password"})
        r = self.auth("PUT", "/api/user", {"name": ["x"], "email": None},
                      token=u["token"])
        self.assertValidation(r, {"name", "email"})
        r = self.auth("GET", "/api/user", token=u["token"])
        self.assertEqual(r.json["user"]["name"], u["name"])
        self.assertEqual(r.json["user"]["email"], u["email"])


class Lookups(DeployedTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.users = []
        for i in range(3):
            r = h.request(cls.auth_url, "POST", "/api/register",
                          {"name": "Lookup %d" % i,
                           "email": unique_email("look"),
                           "password": PASSWORD})
            assert r.status == 201, r
            cls.users.append(r.json["user"])
        r = h.request(cls.auth_url, "POST", "/api/login",
                      {"email": cls.users[0]["email"], "password": PASSWORD})
        cls.token = r.json["access_token"].split(" ", 1)[1]

    def public(self, u):
        return {"id": u["id"], "name": u["name"], "email": u["email"]}

    def test_get_user_by_id(self):
        u = self.users[1]
        r = self.auth("GET", "/api/getUser/" + u["id"], token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"user": self.public(u)})

    def test_unknown_id_is_404(self):
        r = self.auth("GET", "/api/getUser/" + "0" * 24, token=self.token)
        self.assertError(r, 404)

    def test_malformed_id_is_refused(self):
        for bad in ("xyz", "0" * 23, "0" * 25, "g" * 24, "%20" * 8):
            r = self.auth("GET", "/api/getUser/" + bad, token=self.token)
            self.assertIn(r.status, (404, 422), (bad, r))

    def test_anonymous_lookups_are_401(self):
        r = self.auth("GET", "/api/getUser/" + self.users[0]["id"])
        self.assertUnauthorized(r)
        r = self.auth("POST", "/api/getUsers",
                      {"userIds": [self.users[0]["id"]]})
        self.assertUnauthorized(r)
        r = self.auth("GET", "/api/getUser/" + self.users[0]["id"],
                      token=h.mint({"id": "x"}, secret="other"))
        self.assertUnauthorized(r)

    def test_service_credential_is_accepted(self):
        # A service token as token.h describes it: {"svc","iat","exp"}.
        now = int(time.time())
        svc = h.mint({"svc": "post", "iat": now, "exp": now + 300})
        r = self.auth("GET", "/api/getUser/" + self.users[2]["id"], token=svc)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"user": self.public(self.users[2])})
        r = self.auth("POST", "/api/getUsers", [self.users[2]["id"]],
                      token=svc)
        self.assertEqual(r.status, 200, r)
        # ...but never where a user is required.
        self.assertUnauthorized(self.auth("GET", "/api/user", token=svc))
        self.assertUnauthorized(self.post("POST", "/api/posts",
                                          {"title": "t", "content": "c"},
                                          token=svc))

    def test_get_users_object_and_bare_array_forms(self):
        ids = [u["id"] for u in self.users]
        want = sorted([self.public(u) for u in self.users],
                      key=lambda u: u["id"])
        for body in ({"userIds": ids}, ids):
            r = self.auth("POST", "/api/getUsers", body, token=self.token)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(set(r.json), {"users"})
            for u in r.json["users"]:
                self.assertPublicUser(u)
            self.assertEqual(sorted(r.json["users"], key=lambda u: u["id"]),
                             want)

    def test_get_users_leaves_unknown_ids_out(self):
        ids = ["0" * 24, self.users[0]["id"], "f" * 24]
        r = self.auth("POST", "/api/getUsers", {"userIds": ids},
                      token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"users": [self.public(self.users[0])]})
        r = self.auth("POST", "/api/getUsers", {"userIds": []},
                      token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"users": []})

    def test_get_users_limits(self):
        ids = ["%024x" % i for i in range(999)] + [self.users[1]["id"]]
        r = self.auth("POST", "/api/getUsers", {"userIds": ids},
                      token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"users": [self.public(self.users[1])]})
        ids.append("%024x" % 5000)
        r = self.auth("POST", "/api/getUsers", {"userIds": ids},
                      token=self.token)
        self.assertError(r, 413)
        r = self.auth("POST", "/api/getUsers", ids, token=self.token)
        self.assertError(r, 413)

    def test_get_users_malformed_ids_are_422(self):
        for ids in (["xyz"], [self.users[0]["id"], "0" * 23], [5], [None],
                    [["0" * 24]]):
            r = self.auth("POST", "/api/getUsers", {"userIds": ids},
                          token=self.token)
            self.assertEqual(r.status, 422, (ids, r))
        r = self.auth("POST", "/api/getUsers", {"userIds": "0" * 24},
                      token=self.token)
        self.assertValidation(r, {"userIds"})
        r = self.auth("POST", "/api/getUsers", {}, token=self.token)
        self.assertValidation(r, {"userIds"})
        r = self.auth("POST", "/api/getUsers", body=b"5", token=self.token)
        self.assertIn(r.status, (400, 422), r)


class AnonymousLookups(DeployedTestCase):
    """ALLOW_ANONYMOUS_LOOKUPS=1 lets an unmodified seed post service in."""
    ENV = {"ALLOW_ANONYMOUS_LOOKUPS": "1"}

    def test_anonymous_lookups_work_when_allowed(self):
        u = self.register(name="Anon Target")
        pub = {"id": u["id"], "name": "Anon Target", "email": u["email"]}
        r = self.auth("GET", "/api/getUser/" + u["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"user": pub})
        r = self.auth("POST", "/api/getUsers", {"userIds": [u["id"]]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"users": [pub]})
        r = self.auth("GET", "/api/getUser/" + "0" * 24)
        self.assertError(r, 404)
        # A bad token is still a bad token, and /api/user still needs one.
        self.assertUnauthorized(self.auth("GET", "/api/user"))


if __name__ == "__main__":
    unittest.main()
