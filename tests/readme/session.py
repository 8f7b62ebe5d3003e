#!/usr/bin/env python3
"""session.py - runs the README's curl session verbatim against a fresh
msvc-server, so that what a newcomer pastes keeps working (the `Bearer`
prefix of access_token included).

    session.py README.md

The block is the ```sh fence right after the line starting with
"<!-- readme-session"; exactly one must exist.  Nothing in it is
substituted: the block reads the server's base URL from MSVC
(`MSVC=${MSVC:-http://127.0.0.1:3000}`), and this script only sets MSVC
to the URL of an msvc-server it starts on a free loopback port with a
temporary data directory (MSVC_SERVER_BIN; the HTTP suite's harness).
The block runs under `bash -euo pipefail`, twice (a second paste must
work too), and each answer it prints is checked.

Exit codes: 0 passed, 1 failed, 77 msvc-server or curl missing (with
CI=true that is a failure).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
import harness as h  # noqa: E402

MARKER = "<!-- readme-session"
DEFAULT_URL = "${MSVC:-http://127.0.0.1:3000}"
TIMEOUT = 120

passed = 0
failed = 0


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAILED: %s%s" % (what, ("\n  " + detail) if detail else ""),
              file=sys.stderr)
    return cond


def extract(readme):
    """The text of the ```sh block after the marker line."""
    lines = readme.splitlines()
    marks = [i for i, line in enumerate(lines) if line.startswith(MARKER)]
    if len(marks) != 1:
        raise SystemExit("session.py: README.md has %d lines starting with "
                         "%r; exactly one must mark the session"
                         % (len(marks), MARKER))
    i = marks[0] + 1
    if i >= len(lines) or lines[i].strip() != "```sh":
        raise SystemExit("session.py: the line after the marker must open "
                         "a ```sh block")
    body = []
    for line in lines[i + 1:]:
        if line.strip() == "```":
            return "\n".join(body) + "\n"
        body.append(line)
    raise SystemExit("session.py: the session block is not closed")


def answers(out):
    """The JSON objects the session printed, one a line, and the rest."""
    objs, other = [], []
    for line in out.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            other.append(line)
            continue
        (objs if isinstance(value, dict) else other).append(value)
    return objs, other


def run_block(block, url, cwd, n):
    env = {k: v for k, v in os.environ.items() if k not in h.CONFIG_VARS}
    env["MSVC"] = url
    script = os.path.join(cwd, "session.sh")
    with open(script, "w") as f:
        f.write(block)
    out = subprocess.run(["bash", "-euo", "pipefail", script], cwd=cwd,
                         env=env, stdin=subprocess.DEVNULL,
                         capture_output=True, timeout=TIMEOUT)
    text = out.stdout.decode("utf-8", "replace")
    print("---- run %d: exit %d, output:\n%s%s" % (
        n, out.returncode, text,
        out.stderr.decode("utf-8", "replace")), file=sys.stderr)
    return out.returncode, text


def check_run(n, rc, out, email, name):
    check(rc == 0, "run %d: the block exits 0 (got %d)" % (n, rc))
    objs, other = answers(out)
    check(len(objs) == 4, "run %d: four JSON answers (register, user, "
          "create, list), got %d" % (n, len(objs)), repr(objs))
    check(other == ["Bearer eyJhbGci"],
          "run %d: the token line shows the Bearer prefix" % n, repr(other))
    if len(objs) != 4:
        return
    reg, user, created, listed = objs
    for what, obj in (("register", reg), ("user", user), ("create", created),
                      ("list", listed)):
        check(not any(m.decode() in json.dumps(obj) for m in h.HASH_MARKERS),
              "run %d: %s answer without a password hash" % (n, what))
    if n == 1:
        check(reg.get("user", {}).get("email") == email,
              "run 1: register answers the new user", repr(reg))
    else:
        check(reg.get("status") == 409,
              "run 2: register answers 409 for the taken email", repr(reg))
    check(user.get("user", {}).get("email") == email and
          user["user"].get("name") == name,
          "run %d: GET /api/user with the token answers the user" % n,
          repr(user))
    post = created.get("post", {})
    check(post.get("title") == "Hello" and
          post.get("user", {}).get("email") == email,
          "run %d: POST /api/posts creates the post" % n, repr(created))
    posts = listed.get("posts")
    check(isinstance(posts, list) and len(posts) == n and
          all(p.get("title") == "Hello" and
              p.get("user", {}).get("name") == name for p in posts),
          "run %d: GET /api/posts lists %d post(s) with their author"
          % (n, n), repr(listed))


def skip(why):
    if os.environ.get("CI") == "true":
        print("session.py: FAILED: %s (CI=true)" % why, file=sys.stderr)
        return 1
    print("session.py: SKIPPED: %s" % why, file=sys.stderr)
    return 77


def main():
    readme_path = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(HERE, "..", "..", "README.md")
    with open(readme_path, encoding="utf-8") as f:
        block = extract(f.read())
    print("---- the README's session block:\n%s" % block, file=sys.stderr)
    if h.missing_binaries("server"):
        return skip("msvc-server is not built (MSVC_SERVER_BIN)")
    if shutil.which("curl") is None:
        return skip("no curl on PATH (scripts/deps.sh installs it)")

    # What the block may assume: MSVC with its default, nothing else.
    check(DEFAULT_URL in block, "the block reads its base URL from MSVC "
          "with the documented default %s" % DEFAULT_URL)
    check(len(re.findall(r"https?://", block)) == 1,
          "the block names an address once, in MSVC's default")
    check("Authorization: $TOKEN" in block and "Bearer $TOKEN" not in block,
          "the header uses access_token as it is, Bearer prefix included")
    m = re.search(r'"email":"([^"]+)"', block)
    n = re.search(r'"name":"([^"]+)"', block)
    email, name = (m.group(1) if m else ""), (n.group(1) if n else "")

    tmp = tempfile.mkdtemp(prefix="msvc-readme-")
    server = h.Proc("msvc-server", h.SERVER_BIN, tmp, {
        "DATA_DIR": os.path.join(tmp, "data"),
        "DATABASE_URL": "sqlite:" + os.path.join(tmp, "data", "msvc.db"),
        # A real deployment's default cost: the session's two hashes are
        # part of what it costs a newcomer.
    })
    keep = False
    try:
        server.start_retrying()
        for run in (1, 2):
            rc, out = run_block(block, server.url, tmp, run)
            check_run(run, rc, out, email, name)
        check(server.stop() == 0, "msvc-server exits 0 on SIGTERM")
    except Exception as e:  # a start that failed, a timeout
        check(False, "the session ran", repr(e))
    finally:
        server.kill()
        if failed:
            keep = True
            print(server.log_tail(), file=sys.stderr)
            print("kept %s for inspection" % tmp, file=sys.stderr)
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print("readme: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
