"""st_hooks.py - schemathesis hooks of tests/openapi (SCHEMATHESIS_HOOKS).

Authenticated operations need a real access token.  This provider
registers a fresh account on the auth service (MSVC_ST_AUTH_URL, else the
API under test) and logs it in.  A fresh account each time, because the
run itself may change the account's email or password (PUT /api/user) or
end its session (POST /api/logout, DELETE /api/sessions/{id}): schemathesis
then sees a 401, drops the token and asks for a new one (its retry_on
default).  The token goes only to operations that declare security.
"""

import json
import os
import urllib.request
import uuid

import schemathesis

PASSWORD = "s3cret-passw0rd"


def _post(base, path, body):
    req = urllib.request.Request(
        base + path, data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def _secured(case):
    return bool(case.operation.definition.raw.get("security"))


@schemathesis.auth()
class FreshAccountToken:
    def get(self, case, context):
        base = os.environ.get("MSVC_ST_AUTH_URL") or \
            case.operation.base_url
        base = base.rstrip("/")
        email = "st-%s@example.com" % uuid.uuid4().hex[:16]
        _post(base, "/api/register",
              {"name": "Schemathesis", "email": email, "password": PASSWORD})
        answer = _post(base, "/api/login",
                       {"email": email, "password": PASSWORD})
        return answer["access_token"].split(" ", 1)[1]

    def set(self, case, data, context):
        if not _secured(case):
            return
        case.headers = case.headers or {}
        case.headers["Authorization"] = "Bearer " + data
