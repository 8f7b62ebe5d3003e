"""The post routes: create, get, list and paging, update, delete, aliases."""

import time
import unittest
import urllib.parse

import harness as h
from harness import DeployedTestCase


class Posts(DeployedTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.make_user("Alice")
        cls.bob = cls.make_user("Bob")

    def test_create_answers_201_with_the_author_embedded(self):
        r = self.post("POST", "/api/posts",
                      {"title": "Hello", "content": "First post"},
                      token=self.alice["token"])
        self.assertEqual(r.status, 201, r)
        self.assertEqual(set(r.json), {"message", "post"})
        self.assertEqual(r.json["message"], "Post created successfully!")
        post = r.json["post"]
        self.assertPost(post, author=self.alice, title="Hello",
                        content="First post")
        self.assertTimestamp(post["created_at"])

    def test_get_one(self):
        created = self.create_post(self.alice["token"], "Get me", "body")
        r = self.post("GET", "/api/posts/" + created["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"post"})
        self.assertEqual(r.json["post"], created)

    def test_get_unknown_is_404(self):
        r = self.post("GET", "/api/posts/" + "0" * 24)
        self.assertError(r, 404)
        for bad in ("nope", "0" * 23, "z" * 24):
            r = self.post("GET", "/api/posts/" + bad)
            self.assertIn(r.status, (404, 422), (bad, r))

    def test_writes_need_a_token(self):
        p = self.create_post(self.alice["token"])
        self.assertUnauthorized(self.post("POST", "/api/posts",
                                          {"title": "t", "content": "c"}))
        self.assertUnauthorized(self.post("PUT", "/api/posts/" + p["id"],
                                          {"title": "t"}))
        self.assertUnauthorized(self.post("DELETE", "/api/posts/" + p["id"]))
        self.assertUnauthorized(self.post("POST", "/api/post",
                                          {"title": "t", "content": "c"}))
        r = self.post("GET", "/api/posts/" + p["id"])
        self.assertEqual(r.json["post"], p)

    def test_validation(self):
        t = self.alice["token"]
        r = self.post("POST", "/api/posts", {}, token=t)
        self.assertValidation(r, {"title", "content"})
        r = self.post("POST", "/api/posts", {"title": 5, "content": ["x"]},
                      token=t)
        self.assertValidation(r, {"title", "content"})
        r = self.post("POST", "/api/posts", {"title": "", "content": ""},
                      token=t)
        self.assertValidation(r, {"title", "content"})
        r = self.post("POST", "/api/posts",
                      {"title": "t" * 192, "content": "ok"}, token=t)
        self.assertValidation(r, {"title"})
        r = self.post("POST", "/api/posts",
                      {"title": "\u00e9" * 192, "content": "ok"}, token=t)
        self.assertValidation(r, {"title"})
        r = self.post("POST", "/api/posts",
                      {"title": None, "content": "ok"}, token=t)
        self.assertValidation(r, {"title"})
        for title in ("t" * 191, "\u00e9" * 191, "x"):
            r = self.post("POST", "/api/posts",
                          {"title": title, "content": "ok"}, token=t)
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json["post"]["title"], title)
        big = "c" * 60000
        r = self.post("POST", "/api/posts", {"title": "big", "content": big},
                      token=t)
        self.assertEqual(r.status, 201, r)
        r = self.post("GET", "/api/posts/" + r.json["post"]["id"])
        self.assertEqual(r.json["post"]["content"], big)

    def test_update_by_the_owner(self):
        p = self.create_post(self.alice["token"], "Before", "Old content")
        time.sleep(0.01)
        r = self.post("PUT", "/api/posts/" + p["id"], {"title": "After"},
                      token=self.alice["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"message", "post"})
        self.assertEqual(r.json["message"], "Post updated")
        u = r.json["post"]
        self.assertPost(u, author=self.alice, title="After",
                        content="Old content")
        self.assertEqual(u["id"], p["id"])
        self.assertEqual(u["created_at"], p["created_at"])
        self.assertGreater(u["updated_at"], p["updated_at"])
        r = self.post("PUT", "/api/posts/" + p["id"],
                      {"content": "New content"}, token=self.alice["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["post"]["title"], "After")
        self.assertEqual(r.json["post"]["content"], "New content")
        r = self.post("GET", "/api/posts/" + p["id"])
        self.assertEqual(r.json["post"]["title"], "After")
        self.assertEqual(r.json["post"]["content"], "New content")

    def test_update_validation(self):
        p = self.create_post(self.alice["token"], "Keep", "Keep")
        r = self.post("PUT", "/api/posts/" + p["id"],
                      {"title": "", "content": 7}, token=self.alice["token"])
        self.assertValidation(r, {"title", "content"})
        r = self.post("GET", "/api/posts/" + p["id"])
        self.assertEqual(r.json["post"]["title"], "Keep")
        self.assertEqual(r.json["post"]["content"], "Keep")

    def test_others_cannot_update_or_delete(self):
        p = self.create_post(self.alice["token"], "Mine", "Mine")
        r = self.post("PUT", "/api/posts/" + p["id"], {"title": "Stolen"},
                      token=self.bob["token"])
        self.assertError(r, 403)
        r = self.post("DELETE", "/api/posts/" + p["id"],
                      token=self.bob["token"])
        self.assertError(r, 403)
        r = self.post("GET", "/api/posts/" + p["id"])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["post"], p)

    def test_update_or_delete_unknown_is_404(self):
        for method, body in (("PUT", {"title": "x"}), ("DELETE", h._NO_BODY)):
            r = self.post(method, "/api/posts/" + "0" * 24, body,
                          token=self.alice["token"])
            self.assertError(r, 404)

    def test_delete_by_the_owner(self):
        p = self.create_post(self.bob["token"], "Doomed", "Doomed")
        r = self.post("DELETE", "/api/posts/" + p["id"],
                      token=self.bob["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"message": "Post deleted"})
        self.assertError(self.post("GET", "/api/posts/" + p["id"]), 404)
        r = self.post("DELETE", "/api/posts/" + p["id"],
                      token=self.bob["token"])
        self.assertError(r, 404)
        ids = [x["id"] for x in self.list_all("user_id=" + self.bob["id"])]
        self.assertNotIn(p["id"], ids)

    def test_aliases(self):
        r = self.post("POST", "/api/post", {"title": "Alias", "content": "c"},
                      token=self.alice["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"message", "post"})
        self.assertEqual(r.json["message"], "Post created successfully!")
        self.assertPost(r.json["post"], author=self.alice, title="Alias",
                        content="c")
        r1 = self.post("GET", "/api/posts?limit=5")
        r2 = self.post("GET", "/api/post?limit=5")
        self.assertEqual(r2.status, 200, r2)
        self.assertIn("postWithUsers", r2.json)
        self.assertNotIn("posts", r2.json)
        self.assertEqual(r2.json["postWithUsers"], r1.json["posts"])
        self.assertEqual(r2.json["postWithUsers"][0]["id"],
                         r.json["post"]["id"])
        r = self.post("POST", "/api/post", {"title": ""},
                      token=self.alice["token"])
        self.assertValidation(r, {"title", "content"})


class Listing(DeployedTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.author = cls.make_user("Lister")
        cls.other = cls.make_user("Other")
        cls.created = []
        for i in range(25):
            tok = cls.author["token"] if i % 5 else cls.other["token"]
            r = h.request(cls.post_url, "POST", "/api/posts",
                          {"title": "post %d" % i, "content": "c%d" % i},
                          token=tok)
            assert r.status == 201, r
            cls.created.append(r.json["post"])

    def test_list_shape_and_default_limit(self):
        r = self.post("GET", "/api/posts")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"posts", "next_cursor"})
        self.assertEqual(len(r.json["posts"]), 20)
        self.assertIsInstance(r.json["next_cursor"], str)
        self.assertTrue(r.json["next_cursor"])
        for p in r.json["posts"]:
            self.assertPost(p)

    def test_newest_first_with_authors(self):
        r = self.post("GET", "/api/posts?limit=25")
        got = r.json["posts"]
        want = list(reversed(self.created))
        self.assertEqual([p["id"] for p in got], [p["id"] for p in want])
        self.assertEqual(got, want)
        for p in got:
            self.assertIsNotNone(p["user"])
            self.assertEqual(p["user"]["id"], p["user_id"])

    def test_limits(self):
        for limit in ("1", "100", "50"):
            r = self.post("GET", "/api/posts?limit=" + limit)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(len(r.json["posts"]),
                             min(int(limit), len(self.created)))
        for bad in ("0", "101", "-1", "abc", "1.5", "", "1e2", "20x",
                    "99999999999999999999"):
            r = self.post("GET", "/api/posts?limit=" +
                          urllib.parse.quote(bad))
            if bad == "":
                # An empty value may mean "default" or be refused.
                self.assertIn(r.status, (200, 422), r)
                if r.status == 422:
                    self.assertValidation(r, {"limit"})
                continue
            self.assertValidation(r, {"limit"})

    def test_paging_returns_every_post_once(self):
        for limit in (1, 3, 7, 20):
            got = self.list_all(limit=limit)
            ids = [p["id"] for p in got]
            self.assertEqual(len(ids), len(set(ids)))
            self.assertEqual(ids, [p["id"] for p in reversed(self.created)])

    def test_user_id_filter(self):
        got = self.list_all("user_id=" + self.author["id"], limit=6)
        want = [p["id"] for p in reversed(self.created)
                if p["user_id"] == self.author["id"]]
        self.assertEqual(len(want), 20)
        self.assertEqual([p["id"] for p in got], want)
        for p in got:
            self.assertPublicUser(p["user"], of=self.author)
        r = self.post("GET", "/api/posts?user_id=" + "0" * 24)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"posts": [], "next_cursor": None})

    def test_bad_cursor_and_user_id_are_422(self):
        for bad in ("garbage", "AAAA", "%00", "-", "x" * 500):
            r = self.post("GET", "/api/posts?cursor=" + bad)
            self.assertValidation(r, {"cursor"})
        for bad in ("xyz", "0" * 23, "g" * 24):
            r = self.post("GET", "/api/posts?user_id=" + bad)
            self.assertValidation(r, {"user_id"})
        r = self.post("GET", "/api/posts?limit=0&cursor=bad&user_id=x")
        self.assertValidation(r, {"limit", "cursor", "user_id"})

    def test_cursor_of_the_filtered_listing_pages_on(self):
        r = self.post("GET", "/api/posts?limit=2&user_id=" + self.other["id"])
        self.assertEqual(len(r.json["posts"]), 2)
        cur = r.json["next_cursor"]
        r2 = self.post("GET", "/api/posts?limit=10&user_id=%s&cursor=%s"
                       % (self.other["id"], urllib.parse.quote(cur)))
        self.assertEqual(r2.status, 200, r2)
        ids = [p["id"] for p in r.json["posts"] + r2.json["posts"]]
        want = [p["id"] for p in reversed(self.created)
                if p["user_id"] == self.other["id"]]
        self.assertEqual(ids, want)
        self.assertIsNone(r2.json["next_cursor"])


if __name__ == "__main__":
    unittest.main()
