"""The harness's own checks, without a server: the universal response rules
must reject what they are meant to reject, and forged tokens must be exactly
what the seed's jsonwebtoken makes (the vectors)."""

import socket
import unittest

import harness as h


def resp(status, body, ctype="application/json"):
    return h.Response(status, "x", [("Content-Type", ctype)], body)


class UniversalRules(unittest.TestCase):

    def test_accepts_a_proper_answer(self):
        h.check_universal(resp(200, b'{"user": {"id": "x"}}'))
        h.check_universal(resp(404, b'{"status": 404, '
                               b'"message": "Not found"}'))

    def test_rejects_password_hashes(self):
        for marker in ("$2b$", "$2a$", "$2y$", "$y$"):
            body = ('{"user": {"password": "%s10$abc"}}' % marker).encode()
            with self.assertRaises(AssertionError):
                h.check_universal(resp(200, body))

    def test_rejects_what_is_not_a_json_object(self):
        for body in (b"", b"[]", b"not json", b'"x"', b"\xff"):
            with self.assertRaises(AssertionError):
                h.check_universal(resp(200, body))
        with self.assertRaises(AssertionError):
            h.check_universal(resp(200, b"{}", ctype="text/plain"))

    def test_rejects_errors_without_status_or_message(self):
        for body in (b'{"message": "x"}', b'{"status": 500, "message": "x"}',
                     b'{"status": 404}', b'{"status": 404, "message": ""}'):
            with self.assertRaises(AssertionError):
                h.check_universal(resp(404, body))

    def test_rejects_leaked_internals(self):
        with self.assertRaises(AssertionError):
            h.check_universal(resp(500, b'{"status": 500, "message": '
                                   b'"SQLITE_BUSY: database is locked"}'))


class Tokens(unittest.TestCase):

    def test_forged_tokens_match_the_seed_vectors(self):
        v = h.load_vectors()["jwt"]
        claims, secret = v["claims_of_valid"], v["secret"]
        self.assertEqual(h.mint(claims, secret), v["valid_far_future"])
        self.assertEqual(h.mint(claims, secret, alg="HS512"),
                         v["hs512_same_secret"])
        self.assertEqual(h.mint(claims, alg="none"), v["alg_none"])
        self.assertTrue(h.hs256_valid(v["valid_far_future"], secret))
        self.assertFalse(h.hs256_valid(v["payload_tampered"], secret))
        self.assertFalse(h.hs256_valid(v["signed_with_other_secret"], secret))


class Ports(unittest.TestCase):

    def test_free_ports_are_free_and_never_repeat(self):
        ports = [h.free_port() for _ in range(20)]
        self.assertEqual(len(set(ports)), 20)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", ports[0]))  # still bindable
        finally:
            s.close()


if __name__ == "__main__":
    unittest.main()
