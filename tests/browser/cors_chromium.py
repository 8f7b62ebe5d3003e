#!/usr/bin/env python3
"""cors_chromium.py - a real browser uses the API from another origin.

Headless Chromium (Debian's `chromium`; MSVC_CHROMIUM names another binary)
loads page.html from a Python http.server on one loopback port; the page
calls msvc-server on another port with fetch: register, login, GET /api/user
with the Authorization header, PUT /api/user, a 401 it must be able to read,
create a post, list posts, DELETE a missing post (404).  It posts what it saw
back to its own origin.  Three runs:

  default   no CORS_ORIGINS: every call answers and the page reads it;
  listed    CORS_ORIGINS lists the page's origin (and another): the same;
  blocked   CORS_ORIGINS lists only another origin: every fetch rejects
            (the browser refuses the answers, or the preflight).

Exit codes: 0 passed, 1 failed, 77 Chromium is missing or cannot start
(said loudly; with CI=true that is a failure instead).
"""

import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
os.environ.setdefault("MSVC_DEPLOY", "server")
import harness as h  # noqa: E402

PAGE_FILE = os.path.join(HERE, "page.html")
RUN_TIMEOUT = float(os.environ.get("MSVC_BROWSER_TIMEOUT", "90"))
PROBE_TIMEOUT = 60


def chromium_flags(profile):
    # We run as root (no sandbox then); no GPU and no /dev/shm in
    # containers; nothing that would go to the network on its own.
    return ["--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-sync",
            "--no-proxy-server", "--user-data-dir=" + profile]


def find_chromium():
    names = [os.environ.get("MSVC_CHROMIUM"), "chromium", "chromium-browser"]
    for n in names:
        if n:
            path = shutil.which(n)
            if path:
                return path
    return None


def give_up(why):
    """Chromium is not usable here: skip loudly, or fail under CI."""
    bar = "!" * 72
    ci = os.environ.get("CI") == "true"
    print("%s\ncors_chromium.py: %s: %s\n  (install it with "
          "scripts/deps.sh --test, or point MSVC_CHROMIUM at a Chromium)\n%s"
          % (bar, "FAILED under CI=true" if ci else "SKIPPED", why, bar),
          file=sys.stderr)
    return 1 if ci else 77


def kill_group(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def probe(chromium, tmp):
    """None when Chromium starts and renders a page, else why not."""
    profile = tempfile.mkdtemp(prefix="probe-", dir=tmp)
    cmd = [chromium] + chromium_flags(profile) + [
        "--dump-dom", "data:text/html,<title>msvc-probe-ok</title>"]
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                             start_new_session=True)
    except OSError as e:
        return "%s does not run: %s" % (chromium, e)
    try:
        out, err = p.communicate(timeout=PROBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        kill_group(p)
        return "%s did not render a page within %d s" % (chromium,
                                                         PROBE_TIMEOUT)
    finally:
        kill_group(p)
    if b"msvc-probe-ok" not in out:
        return ("%s exited %s without rendering a page; its stderr:\n%s"
                % (chromium, p.returncode,
                   err.decode("utf-8", "replace")[-2000:]))
    return None


class PageServer:
    """The page's origin: serves page.html and takes the page's report."""

    def __init__(self):
        self.reports = {}
        self.cond = threading.Condition()
        with open(PAGE_FILE, "rb") as f:
            page = f.read()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                path = urllib.parse.urlsplit(self.path).path
                if path == "/page.html":
                    self.answer(200, page, "text/html; charset=utf-8")
                else:
                    self.answer(404, b"not here", "text/plain")

            def do_POST(self):
                u = urllib.parse.urlsplit(self.path)
                run = urllib.parse.parse_qs(u.query).get("run", [""])[0]
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                if u.path != "/report" or not run:
                    self.answer(404, b"not here", "text/plain")
                    return
                try:
                    report = json.loads(body)
                except ValueError:
                    report = {"unreadable": body[:2000].decode("latin-1")}
                with outer.cond:
                    outer.reports[run] = report
                    outer.cond.notify_all()
                self.answer(204, b"", None)

            def answer(self, status, body, ctype):
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                if status != 204:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 204:
                    self.wfile.write(body)

            def log_message(self, fmt, *args):
                pass

        self.port = h.free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port),
                                                     Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def origin(self):
        return "http://127.0.0.1:%d" % self.port

    def wait_report(self, run, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while run not in self.reports:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)
            return self.reports[run]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def browse(chromium, tmp, pages, api_url, run):
    """Loads the page against api_url; returns its report, or raises."""
    profile = tempfile.mkdtemp(prefix="profile-%s-" % run, dir=tmp)
    url = "%s/page.html?%s" % (pages.origin, urllib.parse.urlencode(
        {"api": api_url, "run": run}))
    log_path = os.path.join(tmp, "chromium-%s.log" % run)
    with open(log_path, "wb") as log:
        p = subprocess.Popen([chromium] + chromium_flags(profile) + [url],
                             stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        report = pages.wait_report(run, RUN_TIMEOUT)
    finally:
        kill_group(p)
    if report is None:
        with open(log_path, "rb") as f:
            tail = f.read()[-3000:].decode("utf-8", "replace")
        raise AssertionError("%s: no report from the page within %.0f s "
                             "(chromium exit %s); chromium's log:\n%s"
                             % (run, RUN_TIMEOUT, p.returncode, tail))
    return report


# What the page must have read when the API lets it: step -> status.
WANT = {"register": 201, "login": 200, "user": 200, "update_user": 200,
        "user_without_token": 401, "create_post": 201, "list_posts": 200,
        "delete_missing": 404}


def check_allowed(run, report, page_origin):
    problems = []
    if report.get("origin") != page_origin:
        problems.append("page origin %r, expected %r"
                        % (report.get("origin"), page_origin))
    steps = {s.get("step"): s for s in report.get("results", [])}
    for step, status in WANT.items():
        s = steps.get(step)
        if s is None:
            problems.append("%s: the page never got to it" % step)
            continue
        if not s.get("ok"):
            problems.append("%s: fetch rejected: %s" % (step, s.get("error")))
            continue
        if s.get("status") != status:
            problems.append("%s: status %r, expected %d: %r"
                            % (step, s.get("status"), status, s.get("json")))
        if not isinstance(s.get("json"), dict):
            problems.append("%s: the page could not read the JSON body"
                            % step)
    def body(step):
        return steps.get(step, {}).get("json") or {}
    email = report.get("email")
    if body("register").get("user", {}).get("email") != email:
        problems.append("register: user %r" % body("register"))
    if not str(body("login").get("access_token", "")).startswith("Bearer "):
        problems.append("login: no Bearer access_token: %r" % body("login"))
    if body("user").get("user", {}).get("email") != email:
        problems.append("user: %r" % body("user"))
    if body("update_user").get("user", {}).get("name") != \
            "Browser User Renamed":
        problems.append("update_user: %r" % body("update_user"))
    if body("user_without_token").get("status") != 401:
        problems.append("user_without_token: %r" % body("user_without_token"))
    title = report.get("title")
    if body("create_post").get("post", {}).get("title") != title:
        problems.append("create_post: %r" % body("create_post"))
    listed = [p.get("title") for p in body("list_posts").get("posts", [])]
    if title not in listed:
        problems.append("list_posts: %r not among %r" % (title, listed))
    return problems


def check_blocked(run, report):
    problems = []
    results = report.get("results", [])
    if {s.get("step") for s in results} != set(WANT):
        problems.append("steps run: %r" % [s.get("step") for s in results])
    for s in results:
        if s.get("ok"):
            problems.append("%s: the page read an answer (status %r) from an "
                            "origin that is not allowed"
                            % (s.get("step"), s.get("status")))
        elif "TypeError" not in str(s.get("error")):
            problems.append("%s: rejected with %r, not the TypeError of a "
                            "CORS refusal" % (s.get("step"), s.get("error")))
    return problems


def show(run, report):
    for s in report.get("results", []):
        if s.get("ok"):
            print("  %-8s %-19s %s" % (run, s.get("step"), s.get("status")))
        else:
            print("  %-8s %-19s fetch rejected: %s"
                  % (run, s.get("step"), s.get("error")))


def main():
    missing = h.missing_binaries("server")
    if missing:
        why = "executables not built: " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            print("cors_chromium.py: FAILED: " + why, file=sys.stderr)
            return 1
        print("cors_chromium.py: SKIPPED: " + why, file=sys.stderr)
        return 77
    chromium = find_chromium()
    if chromium is None:
        return give_up("no chromium on PATH")
    tmp = tempfile.mkdtemp(prefix="msvc-browser-")
    keep = False
    pages = None
    try:
        why = probe(chromium, tmp)
        if why is not None:
            return give_up("Chromium cannot start: " + why)
        pages = PageServer()
        other = "http://127.0.0.1:%d" % h.free_port()  # nobody's page
        runs = [("default", {}, True),
                ("listed", {"CORS_ORIGINS": "%s,%s" % (other, pages.origin)},
                 True),
                ("blocked", {"CORS_ORIGINS": other}, False)]
        failures = []
        print("cors_chromium.py: %s; page origin %s"
              % (chromium, pages.origin))
        for run, env, allowed in runs:
            work = os.path.join(tmp, run)
            os.makedirs(work)
            dep = h.Deployment(work, mode="server", env=env)
            dep.start()
            try:
                report = browse(chromium, tmp, pages, dep.auth_url, run)
                show(run, report)
                problems = (check_allowed(run, report, pages.origin)
                            if allowed else check_blocked(run, report))
            except AssertionError as e:
                problems = [str(e)]
            finally:
                try:
                    dep.stop()
                except h.ProcError as e:
                    problems.append(str(e))
            if problems:
                dep.dump_logs(sys.stdout)
                failures += ["%s: %s" % (run, p) for p in problems]
        if failures:
            keep = True
            print("cors_chromium.py: FAILED\n  " + "\n  ".join(failures) +
                  "\n  (kept %s)" % tmp)
            return 1
        print("cors_chromium.py: passed: the page used the API from %s, "
              "and the browser blocked it for an origin not listed"
              % pages.origin)
        return 0
    finally:
        if pages is not None:
            pages.close()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
