"""Sessions: refresh tokens (rotation, reuse detection), logout scopes, the
session list, and revocation by a password change.

Runs on every deployment: msvc-server (SQLite and FerretDB) and the split one,
where these routes are msvc-auth's (auth_url).  Revocation is checked on every
process that reads the user record: msvc-server, and each msvc-auth."""

import threading
import time
import unittest

import harness as h
from harness import DeployedTestCase, PASSWORD, unique_email

INVALID_REFRESH = {"status": 401, "message": "Invalid refresh token"}


class SessionCase(DeployedTestCase):
    """Helpers shared by the session suites."""

    def login_full(self, email, password=PASSWORD, user_agent=None):
        headers = {"User-Agent": user_agent} if user_agent else None
        r = self.auth("POST", "/api/login",
                      {"email": email, "password": password},
                      headers=headers)
        self.assertEqual(r.status, 200, r)
        self.assertLoginAnswer(r.json)
        return r.json

    def access(self, answer):
        scheme, _, token = answer["access_token"].partition(" ")
        self.assertEqual(scheme, "Bearer")
        return token

    def refresh(self, refresh_token, **kw):
        return self.auth("POST", "/api/token/refresh",
                         {"refresh_token": refresh_token}, **kw)

    def assertRefreshRefused(self, r):
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json, INVALID_REFRESH)

    def assertTokenWorks(self, token, urls=None):
        for url in urls or h_urls(self):
            r = h.request(url, "GET", "/api/user", token=token)
            self.assertEqual(r.status, 200, (url, r))

    def assertTokenRefused(self, token, urls=None):
        for url in urls or h_urls(self):
            r = h.request(url, "GET", "/api/user", token=token)
            self.assertUnauthorized(r)

    def sessions_of(self, token):
        r = self.auth("GET", "/api/sessions", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"sessions"})
        for s in r.json["sessions"]:
            self.assertEqual(set(s), h.SESSION_KEYS, s)
            self.assertRegex(s["id"], h.OBJECT_ID)
            self.assertTimestamp(s["created_at"])
            self.assertTimestamp(s["last_used_at"])
            self.assertTimestamp(s["expires_at"], near_now=False)
            self.assertIsInstance(s["current"], bool)
        return r.json["sessions"]


def h_urls(case):
    """Every process that reads the user record: msvc-server, or each
    msvc-auth of the split deployment."""
    return case.dep.auth_urls


class Refresh(SessionCase):

    def setUp(self):
        self.user = self.new_user("Refresher")

    def test_rotation(self):
        first = self.login_full(self.user["email"])
        _, claims = self.assertTokenShape(self.access(first))
        r = self.refresh(first["refresh_token"])
        self.assertEqual(r.status, 200, r)
        self.assertLoginAnswer(r.json)
        self.assertEqual(r.json["message"], "Token refreshed")
        self.assertEqual(r.json["token_type"], "Bearer")
        self.assertNotEqual(r.json["refresh_token"], first["refresh_token"])
        token = self.access(r.json)
        _, new_claims = self.assertTokenShape(token)
        # The same session, a new token.
        self.assertEqual(new_claims["sid"], claims["sid"])
        self.assertNotEqual(new_claims["jti"], claims["jti"])
        self.assertEqual(new_claims["id"], self.user["id"])
        self.assertTokenWorks(token)
        # The successor rotates in turn.
        r2 = self.refresh(r.json["refresh_token"])
        self.assertEqual(r2.status, 200, r2)
        self.assertNotEqual(r2.json["refresh_token"], r.json["refresh_token"])

    def test_reuse_inside_the_grace_window_gets_the_same_successor(self):
        first = self.login_full(self.user["email"])
        a = self.refresh(first["refresh_token"])
        b = self.refresh(first["refresh_token"])
        self.assertEqual(a.status, 200, a)
        self.assertEqual(b.status, 200, b)
        self.assertEqual(a.json["refresh_token"], b.json["refresh_token"])
        # Both answers' access tokens work, and the successor rotates.
        self.assertTokenWorks(self.access(a.json))
        self.assertTokenWorks(self.access(b.json))
        c = self.refresh(a.json["refresh_token"])
        self.assertEqual(c.status, 200, c)

    def test_refresh_validation(self):
        r = self.auth("POST", "/api/token/refresh", {})
        self.assertValidation(r, {"refresh_token"})
        for bad in (5, None, [], {"a": 1}, True):
            r = self.auth("POST", "/api/token/refresh", {"refresh_token": bad})
            self.assertValidation(r, {"refresh_token"})
        r = self.auth("POST", "/api/token/refresh", [])
        self.assertError(r, 400)
        r = self.auth("POST", "/api/token/refresh", body=b"{\"refresh_",
                      content_type="application/json")
        self.assertError(r, 400)
        r = self.auth("POST", "/api/token/refresh", body=b"x=1",
                      content_type="application/x-www-form-urlencoded")
        self.assertError(r, 415)

    def test_bad_refresh_tokens_are_401_never_5xx(self):
        real = self.login_full(self.user["email"])["refresh_token"]
        for bad in ("", "garbage", real[:-4], real[:10], real + "A",
                    real[::-1], "é" * 43, "\u0000" + real, real + "\u0000",
                    "x" * 4096, "%s.%s.%s" % (real, real, real),
                    self.user["token"]):
            r = self.refresh(bad)
            self.assertRefreshRefused(r)
        # 100 KB does not fit the body limit.
        r = self.refresh("A" * 100 * 1024)
        self.assertError(r, 413)
        # None of it hurt the real one.
        r = self.refresh(real)
        self.assertEqual(r.status, 200, r)

    def test_refresh_of_a_logged_out_session(self):
        answer = self.login_full(self.user["email"])
        token = self.access(answer)
        r = self.auth("POST", "/api/logout", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"message": "Logged out"})
        self.assertRefreshRefused(self.refresh(answer["refresh_token"]))
        self.assertTokenRefused(token)
        # Logging out again with the revoked token is refused.
        r = self.auth("POST", "/api/logout", token=token)
        self.assertUnauthorized(r)

    def test_concurrent_refreshes_leave_one_family(self):
        answer = self.login_full(self.user["email"])
        results = [None] * 8
        barrier = threading.Barrier(8)

        def one(i):
            barrier.wait()
            results[i] = self.refresh(answer["refresh_token"])
        h.run_threads(8, one)
        ok = [r for r in results if r.status == 200]
        for r in results:
            self.assertIn(r.status, (200, 401), r)
        self.assertTrue(ok, results)
        self.assertEqual(len({r.json["refresh_token"] for r in ok}), 1,
                         [r.json["refresh_token"] for r in ok])
        successor = ok[0].json["refresh_token"]
        nxt = self.refresh(successor)
        self.assertEqual(nxt.status, 200, nxt)
        token = self.access(nxt.json)
        # Exactly one live session came out of that login.
        sid = h.jwt_parts(token)[1]["sid"]
        sessions = [s for s in self.sessions_of(token) if s["id"] == sid]
        self.assertEqual(len(sessions), 1)
        self.assertEqual(len(self.sessions_of(token)), 2)  # + new_user's


class ReuseAfterGrace(SessionCase):
    """REFRESH_GRACE=1: a retired token presented later ends the session."""
    ENV = {"REFRESH_GRACE": "1"}

    def test_reuse_after_the_window_revokes_the_family(self):
        user = self.new_user("Reuse")
        first = self.login_full(user["email"])
        r = self.refresh(first["refresh_token"])
        self.assertEqual(r.status, 200, r)
        successor = r.json["refresh_token"]
        token = self.access(r.json)
        self.assertTokenWorks(token)
        time.sleep(2.2)
        self.assertRefreshRefused(self.refresh(first["refresh_token"]))
        # The whole family is gone: the successor and its access token too.
        self.assertRefreshRefused(self.refresh(successor))
        self.assertTokenRefused(token)
        # Another session of the user is untouched.
        self.assertTokenWorks(user["token"])


class Logout(SessionCase):

    def three_sessions(self):
        user = self.register(name="Three Devices")
        return user, [self.login_full(user["email"]) for _ in range(3)]

    def test_local_is_the_default_and_ends_only_this_session(self):
        _, (a, b, c) = self.three_sessions()
        r = self.auth("POST", "/api/logout", token=self.access(a))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"message": "Logged out"})
        self.assertTokenRefused(self.access(a))
        self.assertRefreshRefused(self.refresh(a["refresh_token"]))
        for other in (b, c):
            self.assertTokenWorks(self.access(other))
        r = self.auth("POST", "/api/logout", {"scope": "local"},
                      token=self.access(b))
        self.assertEqual(r.status, 200, r)
        self.assertTokenRefused(self.access(b))
        self.assertTokenWorks(self.access(c))

    def test_others(self):
        _, (a, b, c) = self.three_sessions()
        r = self.auth("POST", "/api/logout", {"scope": "others"},
                      token=self.access(b))
        self.assertEqual(r.status, 200, r)
        for gone in (a, c):
            self.assertTokenRefused(self.access(gone))
            self.assertRefreshRefused(self.refresh(gone["refresh_token"]))
        self.assertTokenWorks(self.access(b))
        r = self.refresh(b["refresh_token"])
        self.assertEqual(r.status, 200, r)

    def test_global(self):
        _, (a, b, c) = self.three_sessions()
        r = self.auth("POST", "/api/logout", {"scope": "global"},
                      token=self.access(c))
        self.assertEqual(r.status, 200, r)
        for gone in (a, b, c):
            self.assertTokenRefused(self.access(gone))
            self.assertRefreshRefused(self.refresh(gone["refresh_token"]))

    def test_scope_validation_and_auth(self):
        _, (a, _b, _c) = self.three_sessions()
        token = self.access(a)
        for bad in ("everything", "", "LOCAL", 1, None, ["local"]):
            r = self.auth("POST", "/api/logout", {"scope": bad}, token=token)
            self.assertValidation(r, {"scope"})
        r = self.auth("POST", "/api/logout", [], token=token)
        self.assertError(r, 400)
        r = self.auth("POST", "/api/logout")
        self.assertUnauthorized(r)
        r = self.auth("POST", "/api/logout", auth="Bearer not.a.token")
        self.assertUnauthorized(r)
        # Nothing above ended the session.
        self.assertTokenWorks(token)


class SessionList(SessionCase):

    def test_list_shows_each_device(self):
        user = self.register(name="Lister")
        a = self.login_full(user["email"], user_agent="DeviceA/1.0")
        b = self.login_full(user["email"], user_agent="DeviceB/2.0")
        sessions = self.sessions_of(self.access(b))
        self.assertEqual(len(sessions), 2, sessions)
        sid_a = h.jwt_parts(self.access(a))[1]["sid"]
        sid_b = h.jwt_parts(self.access(b))[1]["sid"]
        by_id = {s["id"]: s for s in sessions}
        self.assertEqual(set(by_id), {sid_a, sid_b})
        self.assertEqual(by_id[sid_a]["user_agent"], "DeviceA/1.0")
        self.assertEqual(by_id[sid_b]["user_agent"], "DeviceB/2.0")
        self.assertEqual(by_id[sid_a]["ip"], "127.0.0.1")
        self.assertIs(by_id[sid_b]["current"], True)
        self.assertIs(by_id[sid_a]["current"], False)
        # Newest first.
        self.assertEqual(sessions[0]["id"], sid_b)
        self.assertGreater(h.time_from_iso(by_id[sid_a]["expires_at"]),
                           time.time() + 86400)

    def test_delete_one(self):
        user = self.register(name="Deleter")
        a = self.login_full(user["email"])
        b = self.login_full(user["email"])
        sid_a = h.jwt_parts(self.access(a))[1]["sid"]
        r = self.auth("DELETE", "/api/sessions/" + sid_a,
                      token=self.access(b))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"message": "Session ended"})
        self.assertTokenRefused(self.access(a))
        self.assertRefreshRefused(self.refresh(a["refresh_token"]))
        ids = [s["id"] for s in self.sessions_of(self.access(b))]
        self.assertNotIn(sid_a, ids)
        r = self.auth("DELETE", "/api/sessions/" + sid_a,
                      token=self.access(b))
        self.assertError(r, 404)

    def test_another_users_or_unknown_session_is_404(self):
        mine = self.new_user("Mine")
        theirs = self.new_user("Theirs")
        their_sid = h.jwt_parts(theirs["token"])[1]["sid"]
        for sid in (their_sid, "0" * 24, "f" * 24, "not-an-id",
                    their_sid.upper()):
            r = self.auth("DELETE", "/api/sessions/" + sid,
                          token=mine["token"])
            self.assertError(r, 404)
        # Their session is alive.
        self.assertTokenWorks(theirs["token"])
        r = self.auth("DELETE", "/api/sessions/" + their_sid)
        self.assertUnauthorized(r)
        r = self.auth("GET", "/api/sessions")
        self.assertUnauthorized(r)


class PasswordChange(SessionCase):

    def test_ends_the_other_sessions_and_old_tokens(self):
        user = self.register(name="Changer")
        old = self.login_full(user["email"])
        mine = self.login_full(user["email"])
        new_password = "n3w-" + PASSWORD
        r = self.auth("PUT", "/api/user",
                      {"password": new_password, "current_password": PASSWORD},
                      token=self.access(mine))
        self.assertEqual(r.status, 200, r)
        # The other session is over, everywhere the user record is read.
        self.assertTokenRefused(self.access(old))
        self.assertRefreshRefused(self.refresh(old["refresh_token"]))
        # The session that changed it goes on through its refresh token.
        r = self.refresh(mine["refresh_token"])
        self.assertEqual(r.status, 200, r)
        self.assertTokenWorks(self.access(r.json))
        # The old password is dead, the new one logs in.
        r = self.auth("POST", "/api/login",
                      {"email": user["email"], "password": PASSWORD})
        self.assertError(r, 401)
        fresh = self.login_full(user["email"], new_password)
        self.assertTokenWorks(self.access(fresh))

    def test_a_name_change_ends_nothing(self):
        user = self.register(name="Renamer")
        other = self.login_full(user["email"])
        mine = self.login_full(user["email"])
        r = self.auth("PUT", "/api/user", {"name": "Renamed"},
                      token=self.access(mine))
        self.assertEqual(r.status, 200, r)
        self.assertTokenWorks(self.access(other))
        r = self.refresh(other["refresh_token"])
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    unittest.main()
