#!/usr/bin/env python3
"""bench.py - the msvc benchmark: starts the servers of one build on fresh
loopback ports in a temporary directory, seeds them through the HTTP API,
drives them with wrk and prints markdown tables with the goals of issues 2,
3, 4 and 9 marked PASS or FAIL.

Run it through bench/run.sh, which builds the project and the hash timer
first.  Invariants this script keeps:
  - every process it starts is in PROCS and is stopped on any exit path
    (normal end, exception, SIGINT, SIGTERM, SIGHUP); children also get
    SIGTERM from the kernel if this script dies without cleaning up;
  - it talks to 127.0.0.1 only, on ports it has just checked are free;
  - every loop and every request count is bounded, and every wait has a
    deadline;
  - ratios compare figures measured in the same run, because the machine is
    shared and its absolute speed varies from minute to minute.
"""

import argparse
import base64
import concurrent.futures
import ctypes
import datetime
import http.client
import json
import os
import random
import select
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WRK_LUA = os.path.join(HERE, "wrk.lua")

N_USERS = 50
N_POSTS = 1000
BIG_POSTS = 1_000_000
DEEP_PAGE = 500          # page followed with 1M posts
PAGE = 20
JWT_SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
SERVICE_SECRET = "bench-service-0123456789abcdef0123456789abcdef"
N_SESSIONS = 1000        # sessions opened for the refresh row (--quick: 200)
SESSION_CLIENTS = 8      # parallel clients opening them
IDLE_CONNS = 1000
HTTP_TIMEOUT = 10.0      # seconds, every request the harness makes itself
START_TIMEOUT = 30.0     # seconds for a server to answer /healthz
STOP_TIMEOUT = 15.0      # seconds for a graceful stop before SIGKILL

SCENARIOS = ("user", "posts", "login", "memory", "scale", "split",
             "sessions", "tls", "ops", "guard")
# Run only when asked for with --only: the soak takes --soak-seconds (10
# minutes by default), nginx needs nginx installed.
EXTRA_SCENARIOS = ("soak", "nginx")

PROCS = []               # every subprocess.Popen still to be stopped


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes

def _die_with_parent():
    """Runs in the child before exec: SIGTERM it when this script dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def spawn(argv, env=None, stdout=None, stderr=None, cwd=None):
    p = subprocess.Popen(argv, env=env, stdout=stdout, stderr=stderr,
                         cwd=cwd, preexec_fn=_die_with_parent)
    PROCS.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
    if p.poll() is None:
        try:
            p.send_signal(sig)
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            log("pid %d did not stop in %.0f s: SIGKILL" % (p.pid, timeout))
            p.kill()
            p.wait(5)
    if p in PROCS:
        PROCS.remove(p)


def cleanup():
    for p in list(PROCS):
        try:
            stop(p, timeout=5)
        except Exception as e:  # keep stopping the others
            log("cleanup of pid %d: %s" % (p.pid, e))


def _on_signal(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def free_port():
    """A port nobody listens on now: the kernel picks it, and a second bind
    without SO_REUSEADDR confirms no stale SO_REUSEPORT listener holds it."""
    for _ in range(20):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free loopback port found")


# -------------------------------------------------------------------- HTTP

class Client:
    """A keep-alive JSON client for one server; reconnects when needed."""

    def __init__(self, port, tls=False):
        self.port = port
        self.tls = tls  # https:// with the bench's self-signed certificate
        self.conn = None

    def request(self, method, path, body=None, token=None):
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        for attempt in range(2):
            if self.conn is None and self.tls:
                self.conn = http.client.HTTPSConnection(
                    "127.0.0.1", self.port, timeout=HTTP_TIMEOUT,
                    context=ssl._create_unverified_context())
            elif self.conn is None:
                self.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                payload = resp.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt:
                    raise
        try:
            doc = json.loads(payload) if payload else None
        except ValueError:
            doc = {"_raw": payload[:200].decode("latin-1")}
        return resp.status, doc

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def expect(status, doc, want, what):
    if status != want:
        raise RuntimeError("%s: HTTP %d (wanted %d): %s"
                           % (what, status, want, json.dumps(doc)[:300]))
    return doc


# ----------------------------------------------------------------- servers

class Server:
    """One msvc executable on a fresh port, logging to a file in workdir."""

    def __init__(self, ctx, exe, name, args, env_extra=None):
        self.ctx = ctx
        self.exe = exe
        self.name = name
        self.port = free_port()
        self.logpath = os.path.join(ctx.workdir, "%s-%d.log" % (name,
                                                                 self.port))
        env = {k: v for k, v in os.environ.items()
               if k not in ("PORT", "DATABASE_URL", "JWT_SECRET",
                            "AUTH_MICRO_URL", "USER_RESOLVER")}
        env["JWT_SECRET"] = JWT_SECRET
        env.update(env_extra or {})
        # None in env_extra removes a variable (msvc-post under ES256 is
        # started with no JWT secret at all, as it would be deployed).
        env = {k: v for k, v in env.items() if v is not None}
        self.argv = [exe, "--host", "127.0.0.1", "--port", str(self.port)]
        self.argv += args
        self.logfile = open(self.logpath, "ab")
        self.proc = spawn(self.argv, env=env, stdout=self.logfile,
                          stderr=subprocess.STDOUT, cwd=ctx.workdir)
        self.tls = bool(env.get("TLS_CERT"))
        self.client = Client(self.port, self.tls)
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %d at start; log %s:\n%s"
                                   % (self.name, self.proc.returncode,
                                      self.logpath, self.log_tail()))
            try:
                status, _ = self.client.request("GET", "/healthz")
                time.sleep(0.05)
                # Answered by this process, not by a stale one that still
                # holds the port (SO_REUSEPORT) while ours failed to bind.
                if status == 200 and self.proc.poll() is None:
                    return
            except OSError:
                self.client.close()
            time.sleep(0.05)
        raise RuntimeError("%s did not answer /healthz within %.0f s"
                           % (self.name, START_TIMEOUT))

    def last_words(self):
        """The last log line that is not an access-log line."""
        for line in reversed(self.log_tail(200).splitlines()):
            if not line[:4].isdigit():
                return line.strip()[:160]
        return ""

    def log_tail(self, n=15):
        try:
            with open(self.logpath, "rb") as f:
                f.seek(max(0, os.fstat(f.fileno()).st_size - 65536))
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""

    def url(self, path):
        return "%s://127.0.0.1:%d%s" % ("https" if self.tls else "http",
                                        self.port, path)

    def stop(self):
        self.client.close()
        stop(self.proc)
        self.logfile.close()
        return self.proc.returncode


def server_flags(exe):
    """The flags an executable lists in --help, to pass only known ones."""
    try:
        out = subprocess.run([exe, "--help"], capture_output=True,
                             timeout=10, text=True)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout + out.stderr


def has_flag(helptext, flag):
    return (flag + " ") in helptext or (flag + "=") in helptext or \
        (flag + "\n") in helptext or (flag + ",") in helptext


# ------------------------------------------------------------------- seeding

def user_email(i):
    return "bench%02d@example.com" % i


def user_password(i):
    return "bench-password-%02d" % i


def seed_users(client_factory, n):
    """Registers n users (bcrypt cost 10 on the server), logs each in;
    returns [(id, token)]."""
    def one(i):
        c = client_factory()
        try:
            st, doc = c.request("POST", "/api/register", {
                "name": "Bench User %02d" % i, "email": user_email(i),
                "password": user_password(i)})
            expect(st, doc, 201, "register %d" % i)
            uid = doc["user"]["id"]
            st, doc = c.request("POST", "/api/login", {
                "email": user_email(i), "password": user_password(i)})
            expect(st, doc, 200, "login %d" % i)
            token = doc["access_token"]
            if token.startswith("Bearer "):
                token = token[len("Bearer "):]
            return uid, token
        finally:
            c.close()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(n)))


def post_body(i):
    return {"title": "Bench post %d" % i,
            "content": "Post number %d of the msvc benchmark, written "
                       "through the HTTP API like a client would." % i}


def seed_posts(client_factory, users, n):
    """Creates n posts round-robin over users, so the newest PAGE posts
    have PAGE distinct authors.  The last 2*len(users) go in one at a time
    to keep that order exact; the rest in parallel."""
    tail = min(n, 2 * len(users))

    def chunk(indices):
        c = client_factory()
        try:
            for i in indices:
                uid, token = users[i % len(users)]
                st, doc = c.request("POST", "/api/posts", post_body(i),
                                    token=token)
                expect(st, doc, 201, "create post %d" % i)
        finally:
            c.close()
    head = list(range(n - tail))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(chunk, [head[k::4] for k in range(4)]))
    chunk(range(n - tail, n))


def check_page(client, path, want_authors=None):
    st, doc = client.request("GET", path)
    expect(st, doc, 200, "GET " + path)
    posts = doc.get("posts") or []
    if not posts:
        raise RuntimeError("GET %s: no posts" % path)
    if any(p.get("user") is None for p in posts) or doc.get("degraded"):
        raise RuntimeError("GET %s: authors missing (degraded)" % path)
    authors = len({p["user_id"] for p in posts})
    if want_authors and authors < want_authors:
        raise RuntimeError("GET %s: %d distinct authors, wanted %d"
                           % (path, authors, want_authors))
    return doc


def page_path(cursor=None):
    path = "/api/posts?limit=%d" % PAGE
    if cursor:
        path += "&cursor=" + urllib.parse.quote(cursor, safe="")
    return path


def follow_pages(client, max_pages):
    """Follows next_cursor from the first page; returns (path, number) of
    page max_pages, or of the last page with posts if there are fewer."""
    path, last = page_path(), (page_path(), 1)
    for number in range(1, max_pages + 1):
        doc = check_page(client, path)
        last = (path, number)
        cursor = doc.get("next_cursor")
        if not cursor or number == max_pages:
            break
        path = page_path(cursor)
    return last


# ---------------------------------------------------------------------- wrk

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pids):
    """utime + stime of processes (all their threads), in clock ticks."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def thread_ticks(pid, group=True):
    """{thread name: utime + stime ticks}; with `group`, threads whose
    names differ only by a number ("hash-0", "hash-1") are summed."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rpartition(")")[2].split()
        if group:
            name = name.rstrip("0123456789").rstrip("-_") or name
        else:
            name = "%s/%s" % (name, tid)
        out[name] = out.get(name, 0) + int(fields[11]) + int(fields[12])
    return out


def loop_ticks(pid):
    return {k: v for k, v in thread_ticks(pid, group=False).items()
            if k.startswith("loop")}


class WrkRun:
    """One wrk process; result() waits for it and parses BENCH_RESULT.
    The CPU time the processes in `pids` spent meanwhile, divided by the
    requests wrk counted, is the row's server CPU per request: a figure
    that other load on the machine hardly moves."""

    def __init__(self, url, conns, duration, env_extra=None, pids=()):
        env = dict(os.environ)
        for k in ("BENCH_METHOD", "BENCH_TOKEN", "BENCH_BODY",
                  "BENCH_BODIES_FILE", "BENCH_CHAIN"):
            env.pop(k, None)
        env.update(env_extra or {})
        self.duration = duration
        self.pids = list(pids)
        self.argv = ["wrk", "-t1", "-c%d" % conns, "-d%ds" % duration,
                     "--timeout", "5s", "-s", WRK_LUA, url]
        self.proc = spawn(self.argv, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
        self.t0 = time.monotonic()
        self.ticks = cpu_ticks(self.pids)
        self.ticks0 = cpu_ticks(self.pids[:1])
        self.loops = loop_ticks(self.pids[0]) if self.pids else {}

    def _reap(self):
        """Reads wrk's output to the end and reaps it with wait4, for its
        own CPU time; a timer kills a wrk that outlives its run."""
        timer = threading.Timer(self.duration + 30, self.proc.kill)
        timer.start()
        try:
            out = self.proc.stdout.read()
            _, status, usage = os.wait4(self.proc.pid, 0)
        finally:
            timer.cancel()
            self.proc.stdout.close()
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        if self.proc in PROCS:
            PROCS.remove(self.proc)
        return out, usage.ru_utime + usage.ru_stime

    def result(self):
        out, client_cpu = self._reap()
        ticks = cpu_ticks(self.pids) - self.ticks
        ticks0 = cpu_ticks(self.pids[:1]) - self.ticks0
        secs = time.monotonic() - self.t0
        loops = loop_ticks(self.pids[0]) if self.pids else {}
        # Cores each event loop of the (first) server kept busy, busiest
        # first: shows how the connections were spread over the loops.
        busy = sorted(((v - self.loops.get(k, 0)) / CLK_TCK / secs
                       for k, v in loops.items()), reverse=True)
        text = out.decode("utf-8", "replace")
        for line in text.splitlines():
            if line.startswith("BENCH_RESULT "):
                r = json.loads(line[len("BENCH_RESULT "):])
                secs = r["duration_us"] / 1e6
                r["req_s"] = r["requests"] / secs if secs > 0 else 0.0
                r["errors"] = (r["connect_errors"] + r["read_errors"] +
                               r["write_errors"] + r["status_errors"] +
                               r["timeouts"])
                r["cpu_us"] = (ticks * 1e6 / CLK_TCK / r["requests"]
                               if self.pids and r["requests"] else None)
                # The first process's part (msvc-server beside FerretDB).
                r["cpu0_us"] = (ticks0 * 1e6 / CLK_TCK / r["requests"]
                                if self.pids and r["requests"] else None)
                r["client_cpu_us"] = (client_cpu * 1e6 / r["requests"]
                                      if r["requests"] else None)
                r["loops"] = busy
                return r
        raise RuntimeError("wrk gave no result (%s):\n%s"
                           % (" ".join(self.argv), text[-1000:]))


def wrk(url, conns, duration, env_extra=None, pids=()):
    return WrkRun(url, conns, duration, env_extra, pids).result()


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def aggregate(runs):
    """The rounds of one row: medians of the rates, latencies and CPU,
    sums of the counts, and the spread of the rate (max - min) / median."""
    agg = {"runs": runs, "rounds": len(runs)}
    for k in ("req_s", "p50_us", "p99_us", "cpu_us", "cpu0_us",
              "client_cpu_us"):
        vals = [r[k] for r in runs if r.get(k) is not None]
        agg[k] = median(vals) if vals else None
    for k in ("requests", "errors", "chained", "starved"):
        agg[k] = sum(r.get(k, 0) for r in runs)
    rates = [r["req_s"] for r in runs]
    agg["spread"] = ((max(rates) - min(rates)) / agg["req_s"]
                     if len(rates) > 1 and agg["req_s"] else None)
    if all("lookups" in r for r in runs):
        agg["lookups"] = tuple(sum(r["lookups"][i] for r in runs)
                               for i in range(2))
    return agg


def in_rounds(ctx, jobs):
    """Runs each job (name, fn) once per round, in turn, so that drifts in
    the machine's load hit every row alike; fn() returns {row: result}.
    Returns {row: aggregate}.  A job that fails (its server died, wrk
    could not connect) is dropped from later rounds, and its row (named
    like the job) carries "failed" with the reason."""
    runs, failed = {}, {}
    for _ in range(ctx.rounds):
        for name, fn in jobs:
            if name in failed:
                continue
            try:
                for row, r in fn().items():
                    runs.setdefault(row, []).append(r)
            except RuntimeError as e:
                failed[name] = str(e).splitlines()[-1][:120]
                ctx.trouble = True
                log("row %s failed: %s" % (name, e))
    res = {row: aggregate(rs) for row, rs in runs.items()}
    for name, why in failed.items():
        res.setdefault(name, {})["failed"] = why
    return res


def rate(res, key):
    """req/s of a row, or None when it has none (failed, not run)."""
    return (res.get(key) or {}).get("req_s")


def warm_up(ctx, url, conns, env_extra=None):
    if ctx.warm:
        wrk(url, conns, ctx.warm, env_extra)


# ------------------------------------------------------------------- tables

def fmt_us(us):
    if us is None:
        return "-"
    if us >= 10_000:
        return "%.1f ms" % (us / 1000)
    if us >= 1000:
        return "%.2f ms" % (us / 1000)
    return "%d µs" % us


def fmt_cpu(us):
    if us is None:
        return "-"
    if us >= 1000:
        return "%.1f ms" % (us / 1000)
    return "%.1f µs" % us


def fmt_cpus(r):
    if r.get("cpu_us") is None:
        return "-"
    if r.get("client_cpu_us") is None:
        return fmt_cpu(r["cpu_us"])
    return "%s + %s" % (fmt_cpu(r["cpu_us"]), fmt_cpu(r["client_cpu_us"]))


def fmt_rate(r):
    if r is None:
        return "-"
    return "%.0f" % r if r >= 100 else "%.1f" % r


def verdict(ok):
    return "**PASS**" if ok else "**FAIL**"


class Table:
    HEAD = ("#", "scenario", "conns", "req/s", "spread", "p50", "p99",
            "CPU/req server + wrk", "errors", "ratio", "goal", "result")

    def __init__(self, title, targets=True):
        self.title = title
        self.targets = targets  # False: figures only, no PASS/FAIL
        self.rows = []
        self.notes = []

    def add(self, key, scenario, r=None, conns="", ratio="", goal="",
            result=""):
        """r is an aggregate (or None); a row whose wrk runs saw errors on
        more than 1 % of requests FAILs whatever its figures."""
        r = r or {}
        if not self.targets:
            goal = result = ""
        if r.get("failed"):
            result = "**FAIL** (%s)" % r["failed"].replace("|", "/")
        errors = "-"
        if "errors" in r:
            errors = str(r["errors"])
            if (r["errors"] > 0.01 * max(r["requests"], 1) and result and
                    not r.get("failed")):
                result = "**FAIL** (errors)"
        spread = r.get("spread")
        self.rows.append((key, scenario, str(conns), fmt_rate(r.get("req_s")),
                          "-" if spread is None else "%.0f %%" % (100 * spread),
                          fmt_us(r.get("p50_us")), fmt_us(r.get("p99_us")),
                          fmt_cpus(r), errors, ratio or "-",
                          goal or "-", result or "-"))

    def note(self, text):
        self.notes.append(text)

    def render(self):
        out = ["### " + self.title, ""]
        if self.rows:
            out.append("| " + " | ".join(self.HEAD) + " |")
            out.append("|" + "|".join("---" for _ in self.HEAD) + "|")
            for row in self.rows:
                out.append("| " + " | ".join(row) + " |")
            out.append("")
        out += ["- " + n for n in self.notes]
        return "\n".join(out) + "\n"


# ------------------------------------------------------------ the contexts

class Ctx:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.build = args.build_dir
        self.dur = args.duration
        self.rounds = args.rounds
        self.warm = 0 if args.quick else 1
        self.exe = {n: os.path.join(self.build, "msvc-" + n)
                    for n in ("server", "auth", "post")}
        self.help = {}
        self.cold_desc = ""
        self.extra_pids = []  # processes whose CPU counts too (FerretDB)
        self.trouble = False  # a server died or a scenario failed

    def have(self, name):
        return os.access(self.exe[name], os.X_OK)

    def help_of(self, name):
        if name not in self.help:
            self.help[name] = server_flags(self.exe[name])
        return self.help[name]

    def flags(self, name, extra=()):
        """Common flags for executable `name`, only those it knows."""
        h = self.help_of(name)
        out = []
        if has_flag(h, "--workers"):
            out += ["--workers", str(self.args.workers)]
        if self.args.threads and has_flag(h, "--threads"):
            out += ["--threads", str(self.args.threads)]
        if self.args.no_access_log and has_flag(h, "--access-log"):
            out += ["--access-log", "0"]
        return out + list(extra)

    def server(self, name, db_url, extra=(), env_extra=None, label=None):
        args = self.flags(name, extra)
        if db_url and has_flag(self.help_of(name), "--database-url"):
            args += ["--database-url", db_url]
        elif db_url:
            env_extra = dict(env_extra or {}, DATABASE_URL=db_url)
        return Server(self, self.exe[name], label or name, args, env_extra)


def sqlite_url(path):
    return "sqlite:" + path


def read_rss(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads"):
                fields[k] = v.strip()

    def kib(k):
        return int(fields[k].split()[0]) if k in fields else 0
    return kib("VmRSS"), kib("VmHWM"), fields.get("Threads", "?")


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


# -------------------------------------------------------------- scenarios

def run_hash_time(ctx, rounds=9):
    exe = ctx.args.hash_time
    if not exe or not os.access(exe, os.X_OK):
        return None
    out = subprocess.run([exe, "10", str(rounds)], capture_output=True,
                         text=True, timeout=120)
    if out.returncode != 0:
        log("hash_time failed: " + out.stderr.strip())
        return None
    return json.loads(out.stdout)


def es256_server(ctx, db_url):
    """Row 1e's msvc-server: ES256 tokens, on a copy of the seeded SQLite
    file (None on another store, or without --jwt-algorithm)."""
    if not db_url.startswith("sqlite:") or \
            not has_flag(ctx.help_of("server"), "--jwt-algorithm"):
        return None, None
    copy = os.path.join(ctx.workdir, "server-es256-row1e.db")
    sqlite_copy(db_url[len("sqlite:"):], copy)
    s = alg_server(ctx, "server", copy, "ES256", "server-es256-row1e")
    return s, {"BENCH_TOKEN": user_token(s, "ES256")}


def scenario_throughput(ctx, srv, users, only, table, db_url):
    """Rows 0-2: the ceiling and the two ratio goals, in rounds."""
    pids = [srv.proc.pid] + ctx.extra_pids
    token = {"BENCH_TOKEN": users[0][1]}
    jobs = [("0", srv.url("/healthz"), None, pids)]
    es, es_token = None, None
    if "user" in only:
        jobs.append(("1", srv.url("/api/user"), token, pids))
        es, es_token = es256_server(ctx, db_url)
        if es is not None:
            jobs.append(("1e", es.url("/api/user"), es_token,
                         [es.proc.pid]))
    if "posts" in only:
        check_page(srv.client, page_path(), PAGE)
        jobs.append(("2", srv.url(page_path()), None, pids))
        jobs.append(("2c", srv.url("/api/posts?limit=100"), None, pids))
    try:
        for _, url, env, _ in jobs:
            warm_up(ctx, url, 32, env)
        res = in_rounds(ctx, [
            (key, (lambda key=key, url=url, env=env, p=p:
                   {key: wrk(url, 32, ctx.dur, env, p)}))
            for key, url, env, p in jobs])
    finally:
        if es is not None:
            died_note(table, es)
            es.stop()
    ceiling = res.get("0", {})
    table.add("0", "GET /healthz (h2o ceiling)", ceiling, 32, "1.00",
              "reference")
    for key, name, goal in (("1", "GET /api/user (valid token)", 0.50),
                            ("2", "GET /api/posts?limit=20 (users embedded)",
                             0.15)):
        if key not in res:
            continue
        if not (rate(res, key) and rate(res, "0")):
            table.add(key, name, res[key], 32, "", ">= %.2f" % goal,
                      "**FAIL**")
            continue
        ratio = rate(res, key) / rate(res, "0")
        table.add(key, name, res[key], 32, "%.2f (CPU %s)"
                  % (ratio, cpu_ratio(ceiling, res[key])),
                  ">= %.2f" % goal, verdict(ratio >= goal))
        if key == "1" and "1e" in res:
            table.add("1e", "GET /api/user (valid ES256 token, second "
                      "msvc-server)", res["1e"], 32,
                      "%.2f" % (rate(res, "1e") / rate(res, "0"))
                      if rate(res, "1e") else "", "<= 2.4x row 0's CPU")
    if "2c" in res:
        table.add("2c", "GET /api/posts?limit=100 (users embedded)",
                  res["2c"], 32, "%.2f" % (rate(res, "2c") / rate(res, "0"))
                  if rate(res, "2c") and rate(res, "0") else "", "report")
    base_cpu = ceiling.get("cpu_us")
    if base_cpu:
        table.note("server CPU/req as a multiple of row 0's (issue 12's "
                   "goals: row 1 <= 2.0x, row 1e <= 2.4x, row 2 <= 4.5x): "
                   + ", ".join(
                       "row %s %.2fx" % (k, res[k]["cpu_us"] / base_cpu)
                       for k in ("1", "1e", "2", "2c")
                       if k in res and res[k].get("cpu_us")))
    loop_note(table, res, ["0", "1", "1e", "2"])
    if ctx.extra_pids:
        table.note("CPU/req split: %s." % "; ".join(
            "row %s: msvc-server %s, FerretDB %s" % (
                k, fmt_cpu(res[k].get("cpu0_us")),
                fmt_cpu(res[k]["cpu_us"] - res[k]["cpu0_us"])
                if res[k].get("cpu_us") is not None else "-")
            for k in ("0", "1", "2") if k in res))
    table.note("rows 1-2: ratio of req/s (the goal), and in brackets the "
               "ratio the CPU costs predict when the 2 cores are the limit: "
               "(server + wrk CPU/req of row 0) / (the same of the row); "
               "the second moves much less with other load.")


def loop_note(table, res, keys):
    """How busy each event loop was in each round: one busy loop and one
    idle means the connections all landed on one loop."""
    parts = []
    for key in keys:
        if key in res:
            rounds = ["+".join("%.2f" % c for c in r.get("loops", []))
                      for r in res[key].get("runs", [])]
            parts.append("%s: %s" % (key, ", ".join(x or "?"
                                                    for x in rounds)))
    if parts:
        table.note("event-loop threads' CPU in cores, busiest first, per "
                   "round: " + "; ".join(parts) + ".")


def cpu_ratio(ceiling, row, fmt="%.2f"):
    try:
        return fmt % ((ceiling["cpu_us"] + ceiling["client_cpu_us"]) /
                      (row["cpu_us"] + row["client_cpu_us"]))
    except (TypeError, ZeroDivisionError):
        return "?"


def scenario_login(ctx, srv, users, table):
    """Rows 3a-3c: reads during a login storm, the storm's logins, and
    logins alone for comparison."""
    ht = run_hash_time(ctx)
    bodies = os.path.join(ctx.workdir, "logins.txt")
    with open(bodies, "w") as f:
        for i in range(len(users)):
            f.write(json.dumps({"email": user_email(i),
                                "password": user_password(i)}) + "\n")
    login_env = {"BENCH_METHOD": "POST", "BENCH_BODIES_FILE": bodies}
    read_env = {"BENCH_TOKEN": users[0][1]}
    pids = [srv.proc.pid] + ctx.extra_pids

    # Logins still queued when wrk stops would eat into the next run.
    drain = min(5.0, 0.5 + 16 * (ht["verify_ms"] if ht else 60) / 1000.0 /
                ctx.args.workers)

    shares = []

    def storm():
        # Both wrk runs start together and last as long: the reads see the
        # login storm for their whole window, the logins see the readers.
        t0, before = time.monotonic(), thread_ticks(srv.proc.pid)
        login = WrkRun(srv.url("/api/login"), 16, ctx.dur, login_env)
        reads = WrkRun(srv.url("/api/user"), 16, ctx.dur, read_env)
        res = {"3a": reads.result(), "3b": login.result()}
        after, secs = thread_ticks(srv.proc.pid), time.monotonic() - t0
        shares.append({k: (v - before.get(k, 0)) / CLK_TCK / secs
                       for k, v in after.items()})
        time.sleep(drain)
        return res

    def alone():
        res = {"3c": wrk(srv.url("/api/login"), 16, ctx.dur, login_env,
                         pids)}
        time.sleep(drain)
        return res
    res = in_rounds(ctx, [("storm", storm), ("alone", alone)])
    rr = res["3a"]
    table.add("3a", "GET /api/user during the login storm", rr, 16,
              "p99 %s" % fmt_us(rr["p99_us"]), "p99 < 10 ms",
              verdict(rr["p99_us"] < 10_000))
    if ht is None:
        table.add("3b", "POST /api/login during 3a (50 accounts)", res["3b"],
                  16, "", "hash time unknown", "not measured")
        table.add("3c", "POST /api/login alone", res["3c"], 16)
        table.note("3b: bench/hash_time could not run, no login target.")
        return
    per_hash = ht["verify_ms"]
    ceiling = ctx.args.workers * 1000.0 / per_hash
    ratio = res["3b"]["req_s"] / ceiling
    table.add("3b", "POST /api/login during 3a (50 accounts)", res["3b"], 16,
              "%.2f of %.1f/s" % (ratio, ceiling), ">= 0.80",
              verdict(ratio >= 0.80))
    table.add("3c", "POST /api/login alone (no readers)", res["3c"], 16,
              "%.2f of %.1f/s" % (res["3c"]["req_s"] / ceiling, ceiling))
    if shares:
        names = sorted(shares[0], key=lambda k: -shares[0][k])
        table.note("3a/3b: CPU the server's threads got during the storm, "
                   "in cores (median of the rounds): %s; the rest of the 2 "
                   "cores went to the two wrk processes and other load."
                   % ", ".join("%s %.2f" % (k, median([sh.get(k, 0.0)
                                                       for sh in shares]))
                               for k in names
                               if median([sh.get(k, 0.0)
                                          for sh in shares]) >= 0.01))
    table.note("3b: one bcrypt cost-10 check took %.1f ms (median of %d "
               "through msvc_password_verify, min %.1f; a hash %.1f ms) on "
               "one core of the otherwise idle server, so %d workers can do "
               "at most %.1f logins/s.  CPU/req of 3c is the server's CPU "
               "per login."
               % (per_hash, ht["rounds"], ht["verify_min_ms"],
                  ht["hash_ms"], ctx.args.workers, ceiling))


def _recv_response(sock):
    """Reads one HTTP/1.1 response with a Content-Length; False on EOF."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        buf += chunk
        if len(buf) > 65536:
            return False
    head, _, body = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        body += chunk
    return head.startswith(b"HTTP/1.1 200")


def scenario_memory(ctx, srv, table):
    before, _, _ = read_rss(srv.proc.pid)
    socks = []
    req = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    try:
        for _ in range(IDLE_CONNS):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            socks.append(s)
            s.sendall(req)
            if not _recv_response(s):
                raise RuntimeError("idle connection %d got no 200"
                                   % len(socks))
        time.sleep(0.5)
        rss, hwm, threads = read_rss(srv.proc.pid)
        # A readable idle socket means the server closed it.
        poller = select.poll()
        for s in socks:
            poller.register(s, select.POLLIN)
        closed = len(poller.poll(0))
    finally:
        for s in socks:
            s.close()
    mib = rss / 1024.0
    table.add("4", "RSS with %d idle keep-alive conns" % IDLE_CONNS, None,
              IDLE_CONNS, "%.1f MiB" % mib, "< 64 MiB",
              verdict(mib < 64 and closed == 0))
    table.note("4: msvc-server VmRSS %.1f MiB before opening them (after "
               "the load above), %.1f MiB with them open (peak VmHWM %.1f "
               "MiB, %s threads); %d of %d were closed by the server when "
               "measured." % (before / 1024.0, mib, hwm / 1024.0, threads,
                              closed, IDLE_CONNS))


def sqlite_copy(src, dst):
    """A consistent copy of a live WAL database (the backup API)."""
    s = sqlite3.connect("file:%s?mode=ro" % src, uri=True)
    d = sqlite3.connect(dst)
    try:
        s.backup(d)
    finally:
        d.close()
        s.close()


def _post_table(db):
    names = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table'")]
    for want in ("Post", "post", "posts"):
        if want in names:
            return want
    for n in names:
        if n.lower().startswith("post"):
            return n
    raise RuntimeError("no post table among %s" % names)


def _stamp_maker(kind, sample):
    """A function ms -> a stored timestamp shaped like `sample`."""
    if kind == "integer":
        return (lambda ms: ms) if abs(sample) > 10**11 else \
            (lambda ms: ms // 1000)
    if kind == "real":
        return (lambda ms: float(ms)) if abs(sample) > 10**11 else \
            (lambda ms: ms / 1000.0)

    def iso(ms):
        t = datetime.datetime.fromtimestamp(ms / 1000.0,
                                            datetime.timezone.utc)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)
    return iso


def _to_ms(value):
    if isinstance(value, str):
        return int(datetime.datetime.strptime(
            value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=datetime.timezone.utc).timestamp() * 1000)
    return int(value) if abs(value) > 10**11 else int(value * 1000)


def bulk_insert_posts(path, total):
    """Adds posts to the SQLite file at `path` until it holds `total`,
    older than every existing one, round-robin over its authors, shaped
    like the newest row the server wrote.  Returns (schema, seconds)."""
    t0 = time.monotonic()
    db = sqlite3.connect(path, isolation_level=None)
    try:
        schema = "\n".join(r[0] for r in db.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"))
        table = _post_table(db)
        cols = [r[1] for r in db.execute("PRAGMA table_info(\"%s\")"
                                         % table)]
        for need in ("id", "user_id", "title", "content", "created_at"):
            if need not in cols:
                raise RuntimeError("column %s missing from %s (%s)"
                                   % (need, table, cols))
        row = db.execute("SELECT typeof(created_at), created_at FROM \"%s\" "
                         "ORDER BY created_at DESC LIMIT 1" % table).fetchone()
        stamp = _stamp_maker(row[0], row[1])
        have = db.execute("SELECT count(*) FROM \"%s\"" % table).fetchone()[0]
        authors = [r[0] for r in db.execute(
            "SELECT DISTINCT user_id FROM \"%s\" ORDER BY 1" % table)]
        oldest_ms = _to_ms(db.execute("SELECT min(created_at) FROM \"%s\""
                                      % table).fetchone()[0])
        use = [c for c in cols if c in ("id", "user_id", "title", "content",
                                       "created_at", "updated_at")]
        n = max(0, total - have)
        rnd = "%010x" % random.getrandbits(40)
        content = ("Bulk post of the msvc benchmark, inserted straight into "
                   "the store to reach a large table.")

        def rows():
            for k in range(n):
                ms = oldest_ms - (n - k) * 1000
                rec = {"id": "%08x%s%06x" % (ms // 1000, rnd, k),
                       "user_id": authors[k % len(authors)],
                       "title": "Bulk post %d" % k, "content": content,
                       "created_at": stamp(ms), "updated_at": stamp(ms)}
                yield tuple(rec[c] for c in use)
        db.execute("PRAGMA synchronous=OFF")
        db.execute("BEGIN")
        db.executemany("INSERT INTO \"%s\" (%s) VALUES (%s)"
                       % (table, ", ".join(use), ", ".join("?" * len(use))),
                       rows())
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        count = db.execute("SELECT count(*) FROM \"%s\""
                           % table).fetchone()[0]
    finally:
        db.close()
    if count != total:
        raise RuntimeError("bulk insert left %d posts, wanted %d"
                           % (count, total))
    return schema, time.monotonic() - t0


def scenario_scale(ctx, srv, db_path, table):
    """Rows 5: p50 at -c1 of the first page and a deep page, 1k vs 1M, the
    two servers up side by side and measured in alternation."""
    last_path, last_no = follow_pages(srv.client, N_POSTS // PAGE + 5)
    paths = {"5a-1k": (srv, page_path()), "5b-1k": (srv, last_path)}
    big_srv = None
    if not ctx.args.quick:
        big = os.path.join(ctx.workdir, "big.db")
        sqlite_copy(db_path, big)
        log("inserting %d posts into %s" % (BIG_POSTS - N_POSTS, big))
        schema, secs = bulk_insert_posts(big, BIG_POSTS)
        log("bulk insert took %.1f s" % secs)
        with open(os.path.join(ctx.workdir, "schema.sql"), "w") as f:
            f.write(schema + "\n")
        big_srv = ctx.server("server", sqlite_url(big), label="server-1m")
    try:
        if big_srv is not None:
            deep_path, deep_no = follow_pages(big_srv.client, DEEP_PAGE)
            paths["5a-1M"] = (big_srv, page_path())
            paths["5b-1M"] = (big_srv, deep_path)
        for s, path in paths.values():
            warm_up(ctx, s.url(path), 1)
        res = in_rounds(ctx, [
            (key, (lambda key=key, s=s, path=path:
                   {key: wrk(s.url(path), 1, ctx.dur, None, [s.proc.pid])}))
            for key, (s, path) in sorted(paths.items())])
    finally:
        if big_srv is not None:
            big_srv.stop()
    table.add("5a-1k", "GET /api/posts first page, %d posts" % N_POSTS,
              res["5a-1k"], 1, "1.00", "reference")
    if big_srv is not None:
        scale_row(table, "5a-1M", "first page", res["5a-1M"], res["5a-1k"])
    table.add("5b-1k", "GET /api/posts page %d (the last), %d posts"
              % (last_no, N_POSTS), res["5b-1k"], 1, "1.00", "reference")
    if big_srv is None:
        table.add("5-1M", "GET /api/posts, 1M posts", None, 1, "",
                  "p50 <= 1.50x", "skipped (--quick)")
        return
    scale_row(table, "5b-1M", "page %d" % deep_no, res["5b-1M"],
              res["5b-1k"])
    table.note("5: %d posts bulk-inserted into a copy of the seeded SQLite "
               "file in %.0f s (schema in the work dir's schema.sql), a "
               "second msvc-server on it; wrk -c1, the four URLs in "
               "alternation, p50 the median over the rounds."
               % (BIG_POSTS - N_POSTS, secs))


def scale_row(table, key, what, large, small):
    ratio = large["p50_us"] / max(small["p50_us"], 1)
    table.add(key, "GET /api/posts %s, %d posts" % (what, BIG_POSTS), large,
              1, "p50 %.2fx" % ratio, "p50 <= 1.50x", verdict(ratio <= 1.5))


def count_lookups(server, offset):
    """Lookups msvc-auth logged since byte `offset` of its log, and the
    new offset: (getUser calls, getUsers calls, offset)."""
    time.sleep(0.3)  # the access log is flushed in batches
    with open(server.logpath, "rb") as f:
        f.seek(offset)
        data = f.read()
    return (data.count(b" /api/getUser/"), data.count(b" /api/getUsers "),
            offset + len(data))


def split_plan(ctx):
    """(row, label, strategy, extra flags, warm-up) for each msvc-post."""
    h = ctx.help_of("post")
    plan = [("4.1", "individual", "individual", [], True),
            ("4.2", "batch", "batch", [], True)]
    if has_flag(h, "--cache-size"):
        # A cache of one entry cannot hold a page of 20 authors: every page
        # misses on at least 19 of them.  The flags refuse 0.
        ctx.cold_desc = ("`--cache-size 1` and no warm-up: the cache cannot "
                         "hold a page's 20 authors, so every page misses")
        plan.append(("4.3", "cached, cold", "cached", ["--cache-size", "1"],
                     False))
    else:
        ctx.cold_desc = "not measured: msvc-post has no --cache-size"
    plan.append(("4.4", "cached, warm", "cached", [], True))
    return plan


def scenario_split(ctx, db_path, combined_srv, tables):
    """Issue 4: the three resolvers of msvc-post over one msvc-auth, beside
    the combined process, on copies of the same seeded data; every process
    up at once, the rows measured in alternation."""
    table = Table("Issue 4: split deployment, GET /api/posts?limit=20 with "
                  "20 distinct authors on the page")
    tables.append(table)
    if not (ctx.have("auth") and ctx.have("post")):
        table.note("skipped: not built (msvc-auth / msvc-post missing in %s)"
                   % ctx.build)
        return
    path = page_path()
    auth_db = os.path.join(ctx.workdir, "auth.db")
    post_db = os.path.join(ctx.workdir, "post.db")
    sqlite_copy(db_path, auth_db)
    sqlite_copy(db_path, post_db)
    auth = ctx.server("auth", sqlite_url(auth_db))
    posts = {}
    try:
        base = ["--auth-micro-url", "http://127.0.0.1:%d" % auth.port]
        for key, label, strategy, extra, warm in split_plan(ctx):
            post = ctx.server("post", sqlite_url(post_db),
                              base + ["--user-resolver", strategy] + extra,
                              label="post-" + strategy)
            posts[key] = (label, post, warm)
            check_page(post.client, path, PAGE)
        warm_up(ctx, combined_srv.url(path), 32)
        for label, post, warm in posts.values():
            if warm:
                warm_up(ctx, post.url(path), 32)

        def combined():
            return {"4.0": wrk(combined_srv.url(path), 32, ctx.dur, None,
                               [combined_srv.proc.pid])}

        def measure_post(key, post):
            _, _, offset = count_lookups(auth, 0)
            r = wrk(post.url(path), 32, ctx.dur, None,
                    [post.proc.pid, auth.proc.pid])
            singles, batches, _ = count_lookups(auth, offset)
            r["lookups"] = (singles, batches)
            return {key: r}
        jobs = [("4.0", combined)]
        jobs += [(key, (lambda key=key, post=post: measure_post(key, post)))
                 for key, (_, post, _) in sorted(posts.items())]
        res = in_rounds(ctx, jobs)
    finally:
        for _, post, _ in posts.values():
            died_note(table, post)
            post.stop()
        died_note(table, auth)
        auth.stop()
    split_rows(ctx, table, res, {k: v[0] for k, v in posts.items()})


def died_note(table, server):
    code = server.proc.poll()
    if code is not None:
        server.ctx.trouble = True
        how = ("killed by signal %d" % -code if code < 0
               else "exit status %d" % code)
        table.note("**%s died during the run** (%s); the last line of its "
                   "log that is not an access line: `%s`"
                   % (server.name, how, server.last_words() or "-"))


def split_rows(ctx, table, res, labels):
    comb = res.get("4.0", {})
    table.add("4.0", "msvc-server, local resolver", comb, 32, "1.00",
              "reference")

    def name(key):
        r = res.get(key, {})
        if ctx.args.no_access_log or "lookups" not in r:
            return "msvc-post, " + labels[key]
        one, many = r["lookups"]
        return ("msvc-post, %s (per page: %.2f getUser, %.2f getUsers)"
                % (labels[key], one / max(r["requests"], 1),
                   many / max(r["requests"], 1)))

    def share(key):
        if not (rate(res, key) and rate(res, "4.0")):
            return ""
        return "%.2f (CPU %s)" % (rate(res, key) / rate(res, "4.0"),
                                  cpu_ratio(comb, res[key]))

    def ratio_of(a, b):
        return rate(res, a) / rate(res, b) if rate(res, a) and \
            rate(res, b) else 0.0
    table.add("4.1", name("4.1"), res.get("4.1"), 32, share("4.1"))
    ratio = ratio_of("4.2", "4.1")
    table.add("4.2", name("4.2"), res.get("4.2"), 32,
              "%s (%.1fx individual)" % (share("4.2"), ratio) if ratio
              else "",
              ">= 3x individual", verdict(ratio >= 3.0))
    if "4.3" in labels:
        table.add("4.3", name("4.3"), res.get("4.3"), 32, share("4.3"))
    ratio = ratio_of("4.4", "4.0")
    table.add("4.4", name("4.4"), res.get("4.4"), 32, share("4.4"),
              ">= 1.00 (issue 12; issue 4 asked 1/1.3)",
              verdict(ratio >= 1.0))
    table.note("ratios against row 4.0.  One msvc-auth serves every "
               "msvc-post; all run with the server defaults (threads = "
               "cores) on the same 2 cores as wrk, and the rows are "
               "measured in alternation.  CPU/req of rows 4.1-4.4 is "
               "msvc-post's plus msvc-auth's; (CPU x) is the ratio those "
               "costs predict, as in the issue-2 table.  Lookups per page "
               "are counted in msvc-auth's access log (requests still in "
               "flight when wrk stops add up to 32 pages' worth).")
    table.note("cold: %s." % ctx.cold_desc)
    loop_note(table, res, sorted(res))


# ------------------------------------------------- issue 9: sessions, keys

def bare_token(token):
    return token[len("Bearer "):] if token.startswith("Bearer ") else token


def jose_header(token):
    """The decoded header of a JWT ({} when it does not decode)."""
    try:
        part = token.split(".")[0]
        part += "=" * (-len(part) % 4)
        doc = json.loads(base64.urlsafe_b64decode(part))
        return doc if isinstance(doc, dict) else {}
    except (ValueError, IndexError):
        return {}


def login_doc(client, i, what="login"):
    st, doc = client.request("POST", "/api/login", {
        "email": user_email(i), "password": user_password(i)})
    return expect(st, doc, 200, "%s %d" % (what, i))


def write_login_bodies(ctx, n):
    path = os.path.join(ctx.workdir, "logins.txt")
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"email": user_email(i),
                                "password": user_password(i)}) + "\n")
    return path


def open_sessions(port, n, n_users):
    """n correct logins spread over the seeded accounts, from
    SESSION_CLIENTS parallel clients (the server's hash workers are the
    limit); returns the n refresh tokens, checked distinct."""
    def chunk(k):
        c = Client(port)
        out = []
        try:
            for i in range(k, n, SESSION_CLIENTS):
                doc = login_doc(c, i % n_users, "session login")
                rt = doc.get("refresh_token")
                if not isinstance(rt, str) or not rt:
                    raise RuntimeError("login answered no refresh_token "
                                       "(sessions off?)")
                out.append(rt)
        finally:
            c.close()
        return out
    with concurrent.futures.ThreadPoolExecutor(SESSION_CLIENTS) as pool:
        tokens = [t for part in pool.map(chunk, range(SESSION_CLIENTS))
                  for t in part]
    if len(set(tokens)) != len(tokens):
        raise RuntimeError("logins returned the same refresh token twice")
    return tokens


def alg_server(ctx, name, db_path, alg, label, extra=(), env_extra=None):
    """An msvc executable signing (or verifying) with `alg`, on its own
    copy-of-the-seed database and its own data directory (where ES256
    keys are generated)."""
    args = ["--jwt-algorithm", alg]
    if has_flag(ctx.help_of(name), "--data-dir"):
        args += ["--data-dir", os.path.join(ctx.workdir, "data-" + label)]
    return ctx.server(name, sqlite_url(db_path), args + list(extra),
                      env_extra, label=label)


def user_token(server, alg, i=0):
    """Logs user i in on `server`; the bare access token, checked to be
    signed with `alg`."""
    doc = login_doc(server.client, i)
    token = bare_token(doc["access_token"])
    got = jose_header(token).get("alg")
    if got != alg:
        raise RuntimeError("%s signs %s tokens, wanted %s"
                           % (server.name, got, alg))
    return token


def scenario_sessions(ctx, db_path, srv, users, tables):
    """Issue 9: refresh throughput against logins on msvc-server, then
    ES256 against HS256 on msvc-server and on msvc-post.  Each pair of
    rows runs in alternation; the three parts run one after the other,
    each with only its own servers up."""
    table = Table("Issue 9: sessions and signing keys, msvc-server and "
                  "msvc-auth + msvc-post on SQLite")
    tables.append(table)
    h = ctx.help_of("server")
    if has_flag(h, "--sessions"):
        guarded(table, "refresh",
                lambda: sessions_refresh(ctx, srv, users, table), srv)
    else:
        table.note("9.0-9.1 skipped: msvc-server has no --sessions (no "
                   "refresh tokens in this build)")
    if not has_flag(h, "--jwt-algorithm"):
        table.note("9.2-9.7 skipped: msvc-server has no --jwt-algorithm")
        return
    guarded(table, "es256-user",
            lambda: sessions_user_alg(ctx, db_path, table), None)
    if not (ctx.have("auth") and ctx.have("post")):
        table.note("9.4-9.7 skipped: msvc-auth / msvc-post not built in %s"
                   % ctx.build)
        return
    guarded(table, "es256-post",
            lambda: sessions_post_alg(ctx, db_path, users, table), None)


def sessions_refresh(ctx, srv, users, table):
    """Rows 9.0-9.1: logins (the reference) and refreshes, in
    alternation on the seeded msvc-server."""
    pids = [srv.proc.pid] + ctx.extra_pids
    n = ctx.args.refresh_sessions
    # Each wrk run (the warm-up too) starts on a slice of its own, so no
    # token is presented twice across runs either; the tokens still in
    # flight when a run stops are dropped, never presented again.
    runs = ctx.rounds + (1 if ctx.warm else 0)
    per_run = n // runs
    if per_run < 2 * 32:
        raise RuntimeError("%d sessions are too few for %d runs of 32 "
                           "connections: --refresh-sessions %d or more"
                           % (n, runs, 64 * runs))
    t0 = time.monotonic()
    tokens = open_sessions(srv.port, n, len(users))
    opened = time.monotonic() - t0
    slices = [tokens[k * per_run:(k + 1) * per_run] for k in range(runs)]
    url = srv.url("/api/token/refresh")

    def refresh_run(duration, pids):
        body_file = os.path.join(ctx.workdir, "refresh-%d.txt"
                                 % len(slices))
        with open(body_file, "w") as f:
            for rt in slices.pop():
                f.write(json.dumps({"refresh_token": rt}) + "\n")
        return wrk(url, 32, duration,
                   {"BENCH_METHOD": "POST", "BENCH_BODIES_FILE": body_file,
                    "BENCH_CHAIN": "refresh_token"}, pids)

    login_env = {"BENCH_METHOD": "POST",
                 "BENCH_BODIES_FILE": write_login_bodies(ctx, len(users))}
    # Logins still queued when wrk stops would eat into the next run.
    drain = min(5.0, 0.5 + 16 * 0.06 / ctx.args.workers)
    if ctx.warm:
        refresh_run(ctx.warm, ())

    def logins():
        r = wrk(srv.url("/api/login"), 16, ctx.dur, login_env, pids)
        time.sleep(drain)
        return {"9.0": r}
    res = in_rounds(ctx, [("9.0", logins),
                          ("9.1", lambda: {"9.1": refresh_run(ctx.dur,
                                                              pids)})])
    login, refresh = res.get("9.0", {}), res.get("9.1", {})
    table.add("9.0", "POST /api/login alone (50 accounts), the reference",
              login, 16, "1.00", "reference")
    ok = bool(rate(res, "9.0") and rate(res, "9.1"))
    ratio = rate(res, "9.1") / rate(res, "9.0") if ok else 0.0
    if refresh.get("starved"):
        ok = False
    table.add("9.1", "POST /api/token/refresh, each token presented once",
              refresh, 32,
              "%.1fx login (CPU %sx)" % (ratio, cpu_ratio(login, refresh,
                                                          "%.0f"))
              if ratio else "", ">= 20x login",
              verdict(ok and ratio >= 20.0))
    table.note("9.1: %d sessions opened before timing by %d correct logins "
               "(bcrypt cost 10, the server's default; %d accounts, %d "
               "parallel clients) in %.1f s.  Each wrk run starts on a "
               "slice of %d of their refresh tokens of its own and then "
               "presents, once, the refresh token each 200 answer returned "
               "(as a client keeping its latest token does), so no token is "
               "ever presented twice: a 401 (a reuse, or a session ended) "
               "counts as an error.  Tokens chained: %d; requests sent "
               "with no token left to present: %d."
               % (n, n, len(users), SESSION_CLIENTS, opened, per_run,
                  refresh.get("chained", 0), refresh.get("starved", 0)))
    table.note("9.0-9.1 in alternation on the seeded msvc-server (HS256); "
               "logins on 16 connections as row 3c (each pays a bcrypt "
               "check in the hash pool), refreshes on 32 (a store round "
               "trip in the io pool, no hash).")


def sessions_user_alg(ctx, db_path, table):
    """Rows 9.2-9.3: GET /api/user with an HS256 and an ES256 token, one
    msvc-server per algorithm on copies of the seeded data."""
    servers = {}
    try:
        for key, alg in (("9.2", "HS256"), ("9.3", "ES256")):
            label = "server-" + alg.lower()
            copy = os.path.join(ctx.workdir, label + ".db")
            sqlite_copy(db_path, copy)
            s = alg_server(ctx, "server", copy, alg, label)
            token = user_token(s, alg)
            expect(*s.client.request("GET", "/api/user", token=token),
                   want=200, what="GET /api/user on " + label)
            servers[key] = (s, {"BENCH_TOKEN": token}, alg,
                            jose_header(token).get("kid"))
        for s, env, _, _ in servers.values():
            warm_up(ctx, s.url("/api/user"), 32, env)
        res = in_rounds(ctx, [
            (key, (lambda key=key, s=s, env=env:
                   {key: wrk(s.url("/api/user"), 32, ctx.dur, env,
                             [s.proc.pid])}))
            for key, (s, env, _, _) in sorted(servers.items())])
    finally:
        for s, _, _, _ in servers.values():
            died_note(table, s)
            s.stop()
    ref = res.get("9.2", {})
    table.add("9.2", "GET /api/user, HS256 token (msvc-server)", ref, 32,
              "1.00", "reference")
    ok = bool(rate(res, "9.2") and rate(res, "9.3"))
    ratio = rate(res, "9.3") / rate(res, "9.2") if ok else 0.0
    table.add("9.3", "GET /api/user, ES256 token (msvc-server)",
              res.get("9.3"), 32,
              "%.2f (CPU %s)" % (ratio, cpu_ratio(ref, res["9.3"]))
              if ok else "", ">= 0.80", verdict(ok and ratio >= 0.80))
    table.note("9.2-9.3: two msvc-server processes of this build, "
               "`--jwt-algorithm HS256` and `ES256` (P-256 key generated "
               "into its data directory, kid `%s`), each on a copy of the "
               "seeded database, measured in alternation; every request "
               "carries the same token (as row 1), so a cache of verified "
               "tokens, if the server has one, hits on every request after "
               "the first." % (servers.get("9.3", (0, 0, 0, "?"))[3]))
    loop_note(table, res, ["9.2", "9.3"])


def sessions_post_alg(ctx, db_path, users, table):
    """Rows 9.4-9.7: msvc-post (cached resolver) over its own msvc-auth,
    one pair per algorithm; under ES256 msvc-post has no JWT secret and
    verifies with the keys msvc-auth publishes at /.well-known/jwks.json.
    GET /api/posts (public: the token is sent but not needed) and PUT
    /api/posts/:id (the owner's token, verified on every request)."""
    uid = users[0][0]
    pairs = {}
    procs = []
    try:
        for alg in ("HS256", "ES256"):
            tag = alg.lower()
            env = ({"SERVICE_SECRET": SERVICE_SECRET} if alg != "HS256"
                   else None)
            copies = []
            for role in ("auth", "post"):
                copies.append(os.path.join(ctx.workdir, "%s-%s.db"
                                           % (role, tag)))
                sqlite_copy(db_path, copies[-1])
            auth = alg_server(ctx, "auth", copies[0], alg, "auth-" + tag,
                              env_extra=env)
            procs.append(auth)
            post_env = dict(env, JWT_SECRET=None) if env else None
            post = alg_server(ctx, "post", copies[1], alg, "post-" + tag,
                              ["--auth-micro-url",
                               "http://127.0.0.1:%d" % auth.port,
                               "--user-resolver", "cached"], post_env)
            procs.append(post)
            token = user_token(auth, alg)
            check_page(post.client, page_path(), PAGE)
            st, doc = post.client.request(
                "GET", "/api/posts?limit=1&user_id=" +
                urllib.parse.quote(uid, safe=""))
            mine = (expect(st, doc, 200, "posts of user 0").get("posts")
                    or [None])[0]
            if not mine:
                raise RuntimeError("no post of user 0 on " + post.name)
            put_path = "/api/posts/" + urllib.parse.quote(mine["id"],
                                                          safe="")
            body = {"title": mine["title"]}
            expect(*post.client.request("PUT", put_path, body, token=token),
                   want=200, what="PUT %s on %s" % (put_path, post.name))
            pairs[alg] = (auth, post, token, put_path, json.dumps(body))
        # Under ES256, a token signed by the HS256 msvc-auth must not pass.
        hs_token = pairs["HS256"][2]
        es_post, es_put = pairs["ES256"][1], pairs["ES256"][3]
        st, _ = es_post.client.request("PUT", es_put,
                                       json.loads(pairs["ES256"][4]),
                                       token=hs_token)
        jobs = {}
        for alg, keys in (("HS256", ("9.4", "9.6")),
                          ("ES256", ("9.5", "9.7"))):
            auth, post, token, put_path, body = pairs[alg]
            pids = [post.proc.pid, auth.proc.pid]
            jobs[keys[0]] = (post.url(page_path()), {"BENCH_TOKEN": token},
                             pids)
            jobs[keys[1]] = (post.url(put_path),
                             {"BENCH_TOKEN": token, "BENCH_METHOD": "PUT",
                              "BENCH_BODY": body}, pids)
        for url, env, _ in jobs.values():
            warm_up(ctx, url, 32, env)
        res = in_rounds(ctx, [
            (key, (lambda key=key, url=url, env=env, pids=pids:
                   {key: wrk(url, 32, ctx.dur, env, pids)}))
            for key, (url, env, pids) in sorted(jobs.items())])
        jwks_fetches = None
        if not ctx.args.no_access_log:
            time.sleep(0.3)  # the access log is flushed in batches
            with open(pairs["ES256"][0].logpath, "rb") as f:
                jwks_fetches = f.read().count(b" /.well-known/jwks.json ")
    finally:
        for p in procs:
            died_note(table, p)
        for p in reversed(procs):
            p.stop()
    for ref, key, what in (("9.4", "9.5", "GET /api/posts?limit=20"),
                           ("9.6", "9.7", "PUT /api/posts/:id (owner)")):
        table.add(ref, "msvc-post, %s, HS256 token" % what, res.get(ref),
                  32, "1.00", "reference")
        ok = bool(rate(res, ref) and rate(res, key))
        ratio = rate(res, key) / rate(res, ref) if ok else 0.0
        table.add(key, "msvc-post, %s, ES256 token (keys from JWKS)" % what,
                  res.get(key), 32,
                  "%.2f (CPU %s)" % (ratio, cpu_ratio(res[ref], res[key]))
                  if ok else "", "report", "-")
    table.note("9.4-9.7: one msvc-auth + one msvc-post (`--user-resolver "
               "cached`, its cache filled before timing) per algorithm, "
               "each process on its own copy of the seeded database, the "
               "four rows in alternation; CPU/req is msvc-post's plus "
               "msvc-auth's.  Under ES256 msvc-post runs with no JWT "
               "secret: it verifies user tokens with the keys msvc-auth "
               "publishes (%s), and both use `SERVICE_SECRET` for "
               "msvc-post's lookups; an HS256-signed token sent to it got "
               "HTTP %d."
               % ("msvc-auth served /.well-known/jwks.json %d time%s "
                  "since it started" % (jwks_fetches,
                                        "" if jwks_fetches == 1 else "s")
                  if jwks_fetches is not None
                  else "fetches not counted: access log off", st))
    table.note("9.4/9.5: `GET /api/posts` is public (the contract's auth "
               "column says `-`), so msvc-post ignores the Authorization "
               "header sent with it: these rows show the ES256 deployment "
               "costs nothing on the read path, and do not time a token "
               "check.  9.6/9.7 do: `PUT /api/posts/:id` by its author, "
               "same title every time, verifies the token on every request "
               "(plus a store read and write).")
    loop_note(table, res, ["9.4", "9.5", "9.6", "9.7"])


# ---------------------------------------------------------------- the run

# ------------------------------------------------------- issue 10: TLS, HTTP/2

def self_signed(workdir):
    """A P-256 certificate for 127.0.0.1 made with the openssl command;
    (cert, key).  The clients do not check it."""
    cert = os.path.join(workdir, "tls-cert.pem")
    key = os.path.join(workdir, "tls-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class H2loadRun:
    """One h2load run (nghttp2-client), reported like a WrkRun result:
    req/s, CPU per request of the server and of h2load, errors; h2load
    gives no percentiles, so p50/p99 stay empty."""

    def __init__(self, url, conns, streams, duration, token, pids=(),
                 h1=False):
        self.pids = list(pids)
        self.duration = duration
        self.argv = ["h2load", "-t1", "-c%d" % conns, "-m%d" % streams,
                     "-D", str(duration), "-H",
                     "Authorization: Bearer " + token] + \
            (["--h1"] if h1 else []) + [url]
        self.proc = spawn(self.argv, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
        self.ticks = cpu_ticks(self.pids)

    def result(self):
        timer = threading.Timer(self.duration + 30, self.proc.kill)
        timer.start()
        try:
            out = self.proc.stdout.read().decode("utf-8", "replace")
            _, status, usage = os.wait4(self.proc.pid, 0)
        finally:
            timer.cancel()
            self.proc.stdout.close()
        if self.proc in PROCS:
            PROCS.remove(self.proc)
        ticks = cpu_ticks(self.pids) - self.ticks
        secs = reqs = None
        errors = 0
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("finished in "):
                secs = float(line.split()[2].rstrip("s,"))
            elif line.startswith("requests: "):
                f = line[len("requests: "):].split(", ")
                counts = {x.split()[1]: int(x.split()[0]) for x in f}
                reqs = counts.get("succeeded", 0)
                errors += counts.get("failed", 0) + counts.get("errored", 0) \
                    + counts.get("timeout", 0)
            elif line.startswith("status codes: "):
                f = line[len("status codes: "):].split(", ")
                errors += sum(int(x.split()[0]) for x in f
                              if not x.split()[1].startswith("2"))
        if not secs or not reqs:
            raise RuntimeError("h2load gave no result (%s):\n%s"
                               % (" ".join(self.argv), out[-1000:]))
        cpu = usage.ru_utime + usage.ru_stime
        return {"req_s": reqs / secs, "requests": reqs, "errors": errors,
                "p50_us": None, "p99_us": None,
                "cpu_us": ticks * 1e6 / CLK_TCK / reqs if self.pids else None,
                "cpu0_us": None, "client_cpu_us": cpu * 1e6 / reqs,
                "loops": []}


def scenario_tls(ctx, db_path, srv, users, tables):
    """Issue 10: GET /api/user over TLS, HTTP/1.1 (wrk) and HTTP/2
    (h2load), as ratios of the same build's cleartext row, in rounds."""
    table = Table("Issue 10: TLS and HTTP/2 on the listener, "
                  "GET /api/user", targets=False)
    tables.append(table)
    if not has_flag(ctx.help_of("server"), "--tls-cert"):
        table.note("skipped: this msvc-server has no --tls-cert")
        return
    cert, key = self_signed(ctx.workdir)
    tsrv = ctx.server("server", sqlite_url(db_path),
                      env_extra={"TLS_CERT": cert, "TLS_KEY": key},
                      label="msvc-server-tls")
    try:
        token = users[0][1]
        env = {"BENCH_TOKEN": token}
        plain, tls = srv.url("/api/user"), tsrv.url("/api/user")
        h2 = shutil.which("h2load")
        jobs = [("10a", lambda: wrk(plain, 32, ctx.dur, env,
                                    [srv.proc.pid])),
                ("10b", lambda: wrk(tls, 32, ctx.dur, env,
                                    [tsrv.proc.pid]))]
        if h2:
            jobs += [
                ("10c", lambda: H2loadRun(tls, 1, 32, ctx.dur, token,
                                          [tsrv.proc.pid]).result()),
                ("10d", lambda: H2loadRun(tls, 32, 1, ctx.dur, token,
                                          [tsrv.proc.pid]).result()),
                ("10e", lambda: H2loadRun(tls, 32, 1, ctx.dur, token,
                                          [tsrv.proc.pid], h1=True).result())]
        warm_up(ctx, plain, 32, env)
        warm_up(ctx, tls, 32, env)
        res = in_rounds(ctx, [(k, (lambda k=k, fn=fn: {k: fn()}))
                              for k, fn in jobs])
        base = rate(res, "10a")
        rows = (("10a", "cleartext HTTP/1.1 (wrk)", 32),
                ("10b", "TLS HTTP/1.1 (wrk https)", 32),
                ("10c", "TLS HTTP/2 (h2load, 1 conn x 32 streams)", "1x32"),
                ("10d", "TLS HTTP/2 (h2load, 32 conns x 1 stream)", "32x1"),
                ("10e", "TLS HTTP/1.1 (h2load --h1, 32 conns)", 32))
        for key_, name, conns in rows:
            if key_ not in res:
                continue
            r = rate(res, key_)
            ratio = "%.2f" % (r / base) if r and base else ""
            if key_ != "10a" and r and base:
                ratio += " (CPU %s)" % cpu_ratio(res["10a"], res[key_])
            table.add(key_, name, res[key_], conns, ratio)
        if not h2:
            table.note("rows 10c-10e not run: h2load is missing "
                       "(Debian's nghttp2-client: scripts/deps.sh --bench)")
        table.note("ratio: req/s of the row over row 10a's (cleartext, "
                   "same build, same rounds); in brackets the ratio the CPU "
                   "costs (server + client per request) predict.  h2load and "
                   "wrk are different clients: row 10e (h2load speaking "
                   "HTTP/1.1 over TLS) separates the client's cost from "
                   "the protocol's.  h2load reports no percentiles.  "
                   "Certificate: self-signed P-256.")
    finally:
        tsrv.stop()


def ops_pair(ctx, db_path, users, table, rows, goal):
    """Two msvc-servers on the seeded database, differing only in the
    settings of `rows` ((key, name, env) twice); GET /api/user on both in
    alternating rounds; the second row's ratio is to the first."""
    (ka, na, ea), (kb, nb, eb) = rows
    env = {"BENCH_TOKEN": users[0][1]}
    a = ctx.server("server", sqlite_url(db_path), env_extra=ea,
                   label="msvc-server-" + ka)
    try:
        b = ctx.server("server", sqlite_url(db_path), env_extra=eb,
                       label="msvc-server-" + kb)
        try:
            ua, ub = a.url("/api/user"), b.url("/api/user")
            warm_up(ctx, ua, 32, env)
            warm_up(ctx, ub, 32, env)
            res = in_rounds(ctx, [
                (ka, lambda: {ka: wrk(ua, 32, ctx.dur, env, [a.proc.pid])}),
                (kb, lambda: {kb: wrk(ub, 32, ctx.dur, env, [b.proc.pid])})])
        finally:
            b.stop()
    finally:
        a.stop()
    base, other = rate(res, ka), rate(res, kb)
    table.add(ka, na, res.get(ka, {}), 32, "1.00", "reference")
    ratio = other / base if base and other else 0.0
    table.add(kb, nb, res.get(kb, {}), 32,
              "%.2f (CPU %s)" % (ratio, cpu_ratio(res[ka], res[kb]))
              if ratio else "", goal[0] if goal else "",
              verdict(ratio >= goal[1]) if goal and ratio else "")


def scenario_ops(ctx, db_path, srv, users, tables):
    """Issue 10: what the counters and the JSON access log cost on the
    hottest route.  Rows 10f-10g: /metrics on against off (the counting
    on the request path is what differs); rows 10h-10i: the access log
    as text against JSON."""
    table = Table("Issue 10: metrics and log format, GET /api/user on "
                  "msvc-server (SQLite)")
    tables.append(table)
    h = ctx.help_of("server")
    if not (has_flag(h, "--metrics") and has_flag(h, "--log-format")):
        table.note("skipped: this msvc-server has no --metrics / "
                   "--log-format")
        return
    log_on = {"ACCESS_LOG": "1"}
    ops_pair(ctx, db_path, users, table,
             (("10f", "metrics off", {"METRICS": "off"}),
              ("10g", "metrics on (counted per loop)", {"METRICS": "on"})),
             (">= 0.97", 0.97))
    ops_pair(ctx, db_path, users, table,
             (("10h", "access log, text", dict(log_on, LOG_FORMAT="text")),
              ("10i", "access log, JSON", dict(log_on, LOG_FORMAT="json"))),
             None)
    table.note("10f-10i: each pair runs on two msvc-servers of the same "
               "build on the seeded database, in alternating rounds; "
               "ratio: req/s over the pair's first row, in brackets the "
               "ratio the CPU per request predicts.  10f-10g take the "
               "access log setting of the run (%s); 10h-10i have it on, "
               "written to a file." % ("off" if ctx.args.no_access_log
                                       else "on"))


def scenario_guard(ctx, db_path, srv, users, tables):
    """Issue 11: what the store-backed login throttle adds to a failed
    login.  Two msvc-servers on the seeded database in alternating rounds,
    both answering wrong passwords for the 50 accounts: 11a with the
    throttle off (--login-max-failures 0), 11b with it on and limits too
    high to refuse anyone, so every attempt pays its store work (three
    events added and counted; failures are kept)."""
    table = Table("Issue 11: the login throttle in the store, failed logins "
                  "on msvc-server (SQLite)")
    tables.append(table)
    h = ctx.help_of("server")
    if not has_flag(h, "--login-client-max-failures"):
        table.note("skipped: this msvc-server has no store-backed throttle")
        return
    bodies = os.path.join(ctx.workdir, "bad-logins.txt")
    with open(bodies, "w") as f:
        for i in range(len(users)):
            f.write(json.dumps({"email": user_email(i),
                                "password": "not-the-password"}) + "\n")
    env = {"BENCH_METHOD": "POST", "BENCH_BODIES_FILE": bodies}
    high = {"LOGIN_MAX_FAILURES": "1000", "LOGIN_WINDOW": "60",
            "LOGIN_ACCOUNT_MAX_FAILURES": "0", "LOGIN_CLIENT_MAX_FAILURES": "0"}
    off = ctx.server("server", sqlite_url(db_path),
                     env_extra={"LOGIN_MAX_FAILURES": "0"},
                     label="msvc-server-throttle-off")
    try:
        on = ctx.server("server", sqlite_url(db_path), env_extra=high,
                        label="msvc-server-throttle-on")
        try:
            uo, un = off.url("/api/login"), on.url("/api/login")
            res = in_rounds(ctx, [
                ("11e", lambda: {"11e": wrk(uo, 16, ctx.dur, env,
                                            [off.proc.pid])}),
                ("11f", lambda: {"11f": wrk(un, 16, ctx.dur, env,
                                            [on.proc.pid])})])
        finally:
            on.stop()
    finally:
        off.stop()
    for row in res.values():  # a 401 is this row's answer, not an error
        row["errors"] = sum(r.get("connect_errors", 0) + r.get("read_errors", 0)
                            + r.get("write_errors", 0) + r.get("timeouts", 0)
                            for r in row.get("runs", []))
    a, b = res.get("11e", {}), res.get("11f", {})
    table.add("11e", "POST /api/login, wrong password, throttle off", a, 16,
              "reference")
    added = None
    if a.get("p50_us") is not None and b.get("p50_us") is not None:
        added = (b["p50_us"] - a["p50_us"]) / 1000.0
    table.add("11f", "POST /api/login, wrong password, throttle in the store",
              b, 16, "%+.2f ms p50" % added if added is not None else "",
              "< +1 ms p50", verdict(added is not None and added < 1.0))
    table.note("11e-11f: 16 connections of wrong passwords for the 50 "
               "seeded accounts (bcrypt cost 10: the hash pool is the "
               "limit); each 401 counts as expected, not as an error.  The "
               "throttle's limits in 11f are set so that nobody is refused "
               "(--login-max-failures 1000, account and address limits off, "
               "a 60 s window), which is its most expensive path: every "
               "attempt adds three events and counts them.")
# ------------------------------------------------- issue 11: soak, nginx

def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


class SoakClient(threading.Thread):
    """One paced client of the soak: `step(client)` every `interval`
    seconds until stop is set; counts requests and the failed ones."""

    def __init__(self, port, name, interval, step, stop_event):
        super().__init__(daemon=True, name="soak-" + name)
        self.client = Client(port)
        self.interval = interval
        self.step = step
        self.stop_event = stop_event
        self.requests = 0
        self.errors = []
        self.state = {}

    def run(self):
        next_t = time.monotonic()
        while not self.stop_event.is_set():
            self.requests += 1
            try:
                self.step(self.client, self.state)
            except (RuntimeError, OSError, http.client.HTTPException) as e:
                self.errors.append(str(e)[:160])
                self.client.close()
            next_t += self.interval
            self.stop_event.wait(max(0.0, next_t - time.monotonic()))
        self.client.close()


def scenario_soak(ctx, db_path, users, tables):
    """Issue 11: --soak-seconds of mixed load on one msvc-server (SQLite):
    wrk reads GET /api/user and GET /api/posts the whole time while paced
    clients create posts, log in and refresh; RSS and open descriptors of
    the server sampled every 10 s.  Goals: RSS growth under 5 % after the
    first minute, descriptors flat, no errors."""
    secs = ctx.args.soak_seconds
    table = Table("Issue 11: soak, %d s of mixed load on msvc-server "
                  "(SQLite)" % secs)
    tables.append(table)
    srv = ctx.server("server", sqlite_url(db_path), label="msvc-server-soak")
    stop_event = threading.Event()
    try:
        pid = srv.proc.pid
        st, doc = srv.client.request("POST", "/api/login", {
            "email": user_email(0), "password": user_password(0)})
        expect(st, doc, 200, "soak login")
        refresh = {"token": doc.get("refresh_token")}
        if not refresh["token"]:
            raise RuntimeError("no refresh_token: sessions off?")
        post_n = [0]

        def post_step(c, state):
            post_n[0] += 1
            uid, token = users[post_n[0] % len(users)]
            st, doc = c.request("POST", "/api/posts",
                                post_body(10_000_000 + post_n[0]),
                                token=token)
            expect(st, doc, 201, "soak post")

        def login_step(c, state):
            i = state.get("i", 0) % len(users)
            state["i"] = i + 1
            login_doc(c, i, "soak login")

        def refresh_step(c, state):
            st, doc = c.request("POST", "/api/token/refresh",
                                {"refresh_token": refresh["token"]})
            expect(st, doc, 200, "soak refresh")
            refresh["token"] = doc["refresh_token"]

        paced = [SoakClient(srv.port, "posts", 0.05, post_step, stop_event),
                 SoakClient(srv.port, "logins", 0.5, login_step, stop_event),
                 SoakClient(srv.port, "refresh", 0.5, refresh_step,
                            stop_event)]
        token_env = {"BENCH_TOKEN": users[0][1]}
        reads = [WrkRun(srv.url("/api/user"), 4, secs, token_env, [pid]),
                 WrkRun(srv.url(page_path()), 4, secs)]
        for c in paced:
            c.start()
        t0 = time.monotonic()
        samples = []
        while True:
            t = time.monotonic() - t0
            rss, _, threads = read_rss(pid)
            samples.append((t, rss, fd_count(pid), threads,
                            sum(c.requests for c in paced),
                            sum(len(c.errors) for c in paced)))
            if t >= secs or srv.proc.poll() is not None:
                break
            time.sleep(min(10.0, max(0.1, secs - t)))
        res = [r.result() for r in reads]
        stop_event.set()
        for c in paced:
            c.join(HTTP_TIMEOUT + 5)
        if srv.proc.poll() is not None:
            died_note(table, srv)
            return
    finally:
        stop_event.set()
        srv.stop()
    base_t = min(60.0, secs / 2.0)
    after = [s for s in samples if s[0] >= base_t - 0.5]
    base = after[0]
    growth = (max(s[1] for s in after) - base[1]) / base[1]
    fds = [s[2] for s in after]
    wrk_err = sum(r["errors"] for r in res)
    paced_err = sum(len(c.errors) for c in paced)
    labels = ("GET /api/user (wrk, 4 conns)",
              "GET /api/posts page 1 (wrk, 4 conns)")
    for key, label, r in zip(("11s.1", "11s.2"), labels, res):
        table.add(key, label, aggregate([r]), 4)
    for key, c, what in (("11s.3", paced[0], "POST /api/posts, 20/s"),
                         ("11s.4", paced[1], "POST /api/login, 2/s"),
                         ("11s.5", paced[2],
                          "POST /api/token/refresh, 2/s (one chain)")):
        table.add(key, what, {"req_s": c.requests / secs,
                              "errors": len(c.errors),
                              "requests": c.requests}, 1)
    table.add("11s.6", "RSS growth after %.0f s (%d → %d KiB max)"
              % (base_t, base[1], max(s[1] for s in after)), None, "",
              "%+.1f %%" % (100 * growth), "< 5 %", verdict(growth < 0.05))
    table.add("11s.7", "open descriptors after %.0f s (min..max)" % base_t,
              None, "", "%d..%d" % (min(fds), max(fds)), "flat (± 2)",
              verdict(max(fds) - min(fds) <= 2))
    table.add("11s.8", "errors (wrk + paced clients)", None, "",
              str(wrk_err + paced_err), "0",
              verdict(wrk_err + paced_err == 0))
    table.note("11s: samples (s, RSS KiB, descriptors, threads, paced "
               "requests, paced errors): " + "; ".join(
                   "%.0f %d %d %s %d %d" % s for s in samples))
    for c in paced:
        if c.errors:
            table.note("11s: %s: %d errors, first: %s"
                       % (c.name, len(c.errors), c.errors[0]))
    table.note("11s: a fresh msvc-server on the seeded database; wrk reads "
               "for the whole run while three paced Python clients write "
               "posts, log in (bcrypt cost 10) and refresh one session's "
               "token chain; RSS (VmRSS) and /proc/PID/fd every 10 s.  "
               "Growth: the largest RSS after %.0f s over the RSS then."
               % base_t)


NGINX_TEMPLATE = os.path.join(ROOT, "deploy", "nginx",
                              "msvc.conf.template")


def start_nginx(ctx, auth, post):
    """nginx from deploy/nginx/msvc.conf.template in workdir/nginx, in
    front of two msvc-auth and two msvc-post; returns (process, port)."""
    prefix = os.path.join(ctx.workdir, "nginx")
    os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
    port = free_port()
    with open(NGINX_TEMPLATE) as f:
        text = f.read()
    for key, value in (("@PREFIX@", prefix),
                       ("@LISTEN@", "127.0.0.1:%d" % port),
                       ("@AUTH_1@", "127.0.0.1:%d" % auth[0].port),
                       ("@AUTH_2@", "127.0.0.1:%d" % auth[1].port),
                       ("@POST_1@", "127.0.0.1:%d" % post[0].port),
                       ("@POST_2@", "127.0.0.1:%d" % post[1].port)):
        text = text.replace(key, value)
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(text)
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    g = "daemon off; pid %s/nginx.pid; error_log %s/error.log;" % (prefix,
                                                                   prefix)
    with open(os.path.join(prefix, "nginx.out"), "ab") as out:
        proc = spawn([exe, "-p", prefix, "-c", conf, "-g", g], stdout=out,
                     stderr=subprocess.STDOUT)
    client = Client(port)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("nginx exited with %d (see %s)"
                               % (proc.returncode, prefix))
        try:
            if client.request("GET", "/healthz")[0] == 200:
                client.close()
                return proc, port
        except OSError:
            client.close()
        time.sleep(0.05)
    raise RuntimeError("nginx did not answer within %.0f s" % START_TIMEOUT)


def child_pids(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def scenario_nginx(ctx, db_path, users, tables):
    """Issue 11: GET /api/user and logins through nginx balancing two
    msvc-auth against one msvc-auth addressed directly, all on the seeded
    SQLite file (instances on one host may share it)."""
    table = Table("Issue 11: through nginx (2 msvc-auth) vs direct (1 "
                  "msvc-auth), SQLite")
    tables.append(table)
    if not (shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)):
        table.note("skipped: nginx is not installed")
        return
    if not (ctx.have("auth") and ctx.have("post")):
        table.note("skipped: msvc-auth or msvc-post not built")
        return
    trust = {"TRUSTED_PROXIES": "127.0.0.1"}
    db = sqlite_url(db_path)
    auth = [ctx.server("auth", db, env_extra=trust, label="msvc-auth-%d" % i)
            for i in (1, 2)]
    auth_url = ",".join("http://127.0.0.1:%d" % a.port for a in auth)
    post = [ctx.server("post", db, env_extra=dict(trust,
                                                  AUTH_MICRO_URL=auth_url),
                       label="msvc-post-%d" % i) for i in (1, 2)]
    nginx = None
    try:
        nginx, nport = start_nginx(ctx, auth, post)
        front = "http://127.0.0.1:%d" % nport
        direct = "http://127.0.0.1:%d" % auth[0].port
        npids = [nginx.pid] + child_pids(nginx.pid)
        both = [a.proc.pid for a in auth] + npids
        one = [auth[0].proc.pid]
        token = {"BENCH_TOKEN": users[0][1]}
        login = {"BENCH_METHOD": "POST",
                 "BENCH_BODIES_FILE": write_login_bodies(ctx, len(users))}
        def drained(res):
            # Logins still queued when wrk stops would eat into the next
            # run (16 connections, ~60 ms of bcrypt each).
            time.sleep(2.0)
            return res
        warm_up(ctx, direct + "/api/user", 32, token)
        warm_up(ctx, front + "/api/user", 32, token)
        res = in_rounds(ctx, [
            ("11a", lambda: {"11a": wrk(direct + "/api/user", 32, ctx.dur,
                                        token, one)}),
            ("11b", lambda: {"11b": wrk(front + "/api/user", 32, ctx.dur,
                                        token, both)}),
            ("11c", lambda: drained({"11c": wrk(direct + "/api/login", 16,
                                                ctx.dur, login, one)})),
            ("11d", lambda: drained({"11d": wrk(front + "/api/login", 16,
                                                ctx.dur, login, both)}))])
    finally:
        if nginx is not None:
            stop(nginx, signal.SIGQUIT)
        for s in post + auth:
            s.stop()
    for direct_key, front_key, what, conns in (
            ("11a", "11b", "GET /api/user", 32),
            ("11c", "11d", "POST /api/login (50 accounts)", 16)):
        base, other = rate(res, direct_key), rate(res, front_key)
        table.add(direct_key, what + ", direct to one msvc-auth",
                  res.get(direct_key, {}), conns, "1.00", "reference")
        ratio = other / base if base and other else 0.0
        table.add(front_key, what + ", nginx → 2 msvc-auth",
                  res.get(front_key, {}), conns,
                  "%.2f (CPU %s)" % (ratio, cpu_ratio(res[direct_key],
                                                      res[front_key]))
                  if ratio else "", "≤ 1 on 2 cores (figure only)")
    table.note("11a-11d: two msvc-auth and two msvc-post (idle here) on the "
               "seeded SQLite file, nginx (deploy/nginx/msvc.conf.template: "
               "one worker, keep-alive upstream pools) in front, in "
               "alternating rounds with the same wrk load addressed to one "
               "msvc-auth directly.  CPU/req of 11b/11d counts both "
               "msvc-auth and nginx.  On 2 cores a second instance adds no "
               "core, and nginx takes CPU of its own, so the ratio is "
               "expected at or below 1; with more cores than one instance "
               "uses, or instances on several hosts, it is the way to "
               "scale out.")


def run_issue2(ctx, db_url, title, only, tables, targets=True):
    """Starts msvc-server on db_url, seeds it, runs the issue-2 scenarios
    but the 1M one; returns (table, server, users)."""
    table = Table(title, targets)
    tables.append(table)
    if not ctx.have("server"):
        table.note("skipped: msvc-server not built in %s" % ctx.build)
        return table, None, None
    srv = ctx.server("server", db_url)
    t0 = time.monotonic()
    users = seed_users(lambda: Client(srv.port), N_USERS)
    seed_posts(lambda: Client(srv.port), users, N_POSTS)
    table.note("seeded %d users (bcrypt cost 10) and %d posts through the "
               "HTTP API in %.1f s." % (N_USERS, N_POSTS,
                                        time.monotonic() - t0))
    steps = [("throughput", bool(only & {"user", "posts"}),
              lambda: scenario_throughput(ctx, srv, users, only, table,
                                          db_url)),
             ("login", "login" in only,
              lambda: scenario_login(ctx, srv, users, table)),
             ("memory", "memory" in only,
              lambda: scenario_memory(ctx, srv, table))]
    for name, wanted, step in steps:
        if wanted and not guarded(table, name, step, srv):
            break
    return table, srv, users


def guarded(table, name, step, server):
    """Runs one scenario; a failure (typically a server that died) becomes
    a note in the table instead of ending the whole benchmark.  False when
    the server is gone and nothing more can be measured on it."""
    try:
        step()
    except Exception as e:  # reported, and the other tables still print
        log("scenario %s failed: %r" % (name, e))
        if server is not None:
            server.ctx.trouble = True
        table.note("**scenario %s could not finish**: %s"
                   % (name, str(e).splitlines()[-1][:160]))
    if server is not None and server.proc.poll() is not None:
        died_note(table, server)
        return False
    return True


def source_of(build):
    """The source tree a CMake build directory was configured from (so that
    a build of another commit, in a worktree, is named by its own commit),
    else this checkout."""
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("CMAKE_HOME_DIRECTORY:"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return ROOT


def header(ctx):
    src = source_of(ctx.build)
    try:
        commit = subprocess.run(["git", "-C", src, "rev-parse", "--short",
                                 "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", src, "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True,
                               text=True, timeout=10).stdout.strip()
        if commit and dirty:
            commit += " + uncommitted changes"
    except (OSError, subprocess.TimeoutExpired):
        commit = "?"
    wrkv = subprocess.run(["wrk", "--version"], capture_output=True,
                          text=True).stdout.splitlines()
    return "\n".join([
        "## msvc benchmark, %s" % time.strftime("%Y-%m-%d %H:%M:%S"),
        "",
        "- build: `%s` (commit %s), %d cores, load average "
        "%s at start" % (ctx.build, commit or "?", os.cpu_count(),
                         loadavg()),
        "- servers: their defaults (threads = cores) plus `%s`; access log "
        "%s; data and logs in a temporary directory"
        % (" ".join(ctx.flags("server")) or "no flags",
           "off" if ctx.args.no_access_log else
           "on (the default: batched writes to a file)"),
        "- client: %s, one thread (`wrk -t1`), on the same 2 cores over "
        "loopback; %d s per run, %d round%s per row in alternation with the "
        "rows it is compared with%s; req/s, p50, p99 and CPU/req are "
        "medians over the rounds, spread = (max - min) / median of req/s" % (
            (wrkv[0].split(" [")[0] if wrkv else "wrk"), ctx.dur,
            ctx.rounds, "" if ctx.rounds == 1 else "s",
            ", after a 1 s warm-up" if ctx.warm else ""),
        "- CPU/req: CPU time of the server process(es) during the run over "
        "the requests wrk counted; other load moves it much less than "
        "req/s.  Ratios compare runs of this one invocation; absolute req/s "
        "move with the machine's load.",
        ""])


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="bench/run.sh", description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--hash-time", default=None,
                    help="the hash timer built by run.sh")
    ap.add_argument("--duration", type=int, default=5,
                    help="seconds per wrk run (default 5)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="runs per row, in alternation (default 3)")
    ap.add_argument("--quick", action="store_true",
                    help="1 s runs, 1 round, no warm-up, no 1M-post case")
    ap.add_argument("--only", action="append",
                    choices=SCENARIOS + EXTRA_SCENARIOS,
                    help="run only this scenario (repeatable); soak and "
                    "nginx run only\nwhen named")
    ap.add_argument("--soak-seconds", type=int, default=600,
                    help="length of the soak scenario (default 600)")
    ap.add_argument("--mongo", action="store_true",
                    help="also run the issue-2 table on FerretDB")
    ap.add_argument("--workers", type=int, default=2,
                    help="--workers passed to the servers (default 2)")
    ap.add_argument("--threads", type=int, default=0,
                    help="--threads passed to the servers (default: theirs)")
    ap.add_argument("--no-access-log", action="store_true",
                    help="turn the servers' access log off (also hides "
                    "the lookup counts of the split rows)")
    ap.add_argument("--refresh-sessions", type=int, default=None,
                    help="sessions opened (one bcrypt login each) for the "
                    "refresh row\n(default %d, %d with --quick)"
                    % (N_SESSIONS, N_SESSIONS // 5))
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (logs, databases)")
    a = ap.parse_args(argv)
    if a.quick:
        a.duration, a.rounds = 1, 1
    if a.refresh_sessions is None:
        a.refresh_sessions = N_SESSIONS // 5 if a.quick else N_SESSIONS
    if not 1 <= a.duration <= 600:
        ap.error("--duration must be 1..600")
    if not 30 <= a.soak_seconds <= 86400:
        ap.error("--soak-seconds must be 30..86400")
    if not 1 <= a.rounds <= 20:
        ap.error("--rounds must be 1..20")
    if not 1 <= a.workers <= 64:
        ap.error("--workers must be 1..64")
    if not 100 <= a.refresh_sessions <= 100_000:
        ap.error("--refresh-sessions must be 100..100000")
    return a


def main(argv):
    args = parse_args(argv)
    only = set(args.only or SCENARIOS)
    if shutil.which("wrk") is None:
        sys.exit("bench: wrk is missing (scripts/deps.sh --bench)")
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)
    workdir = tempfile.mkdtemp(prefix="msvc-bench-")
    ctx = Ctx(args, workdir)
    tables = []
    status = 0
    print(header(ctx), flush=True)
    try:
        load1 = float(loadavg().split()[0])
    except ValueError:
        load1 = 0.0
    if load1 > 1.5:
        log("warning: load average %.2f: other work shares these cores, "
            "figures will be noisy" % load1)
    try:
        run_all(ctx, only, tables)
    except KeyboardInterrupt:
        log("interrupted")
        status = 130
    except Exception:
        status = 1
        raise
    finally:
        cleanup()
        for t in tables:
            print(t.render(), flush=True)
        print("load average at the end: %s\n" % loadavg(), flush=True)
        if args.keep or status == 1 or ctx.trouble:
            log("work directory kept: " + workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return status


def run_all(ctx, only, tables):
    db = os.path.join(ctx.workdir, "msvc.db")
    title = ("Issue 2: msvc-server on SQLite, %d users, %d posts"
             % (N_USERS, N_POSTS))
    table, srv, users = run_issue2(ctx, sqlite_url(db), title, only,
                                   tables)
    if srv is not None:
        try:
            if "split" in only and srv.proc.poll() is None:
                guarded(table, "split",
                        lambda: scenario_split(ctx, db, srv, tables), srv)
            if "sessions" in only and srv.proc.poll() is None:
                guarded(table, "sessions",
                        lambda: scenario_sessions(ctx, db, srv, users,
                                                  tables), srv)
            if "tls" in only and srv.proc.poll() is None:
                guarded(table, "tls",
                        lambda: scenario_tls(ctx, db, srv, users, tables),
                        srv)
            if "ops" in only and srv.proc.poll() is None:
                guarded(table, "ops",
                        lambda: scenario_ops(ctx, db, srv, users, tables),
                        srv)
            if "guard" in only and srv.proc.poll() is None:
                guarded(table, "guard",
                        lambda: scenario_guard(ctx, db, srv, users, tables),
                        srv)
            if "nginx" in only and srv.proc.poll() is None:
                guarded(table, "nginx",
                        lambda: scenario_nginx(ctx, db, users, tables), srv)
            if "soak" in only and srv.proc.poll() is None:
                guarded(table, "soak",
                        lambda: scenario_soak(ctx, db, users, tables), srv)
            if "scale" in only and srv.proc.poll() is None:
                guarded(table, "scale",
                        lambda: scenario_scale(ctx, srv, db, table), srv)
        finally:
            srv.stop()
    if ctx.args.mongo:
        run_mongo(ctx, only, tables)


def ferretdb_binary(ctx):
    """The msvc-ferretdb launcher (tests/ferretdb/main.go): $MSVC_FERRETDB,
    one already built under the build dir or on PATH, else built now with
    go into the build dir (slow the first time: minutes on 2 cores)."""
    env = os.environ.get("MSVC_FERRETDB")
    if env and os.access(env, os.X_OK):
        return env
    for base, dirs, files in os.walk(ctx.build):
        if base.count(os.sep) - ctx.build.count(os.sep) >= 3:
            dirs[:] = []
        if "msvc-ferretdb" in files:
            return os.path.join(base, "msvc-ferretdb")
    found = shutil.which("msvc-ferretdb")
    if found:
        return found
    src = os.path.join(ROOT, "tests", "ferretdb")
    if not (os.path.exists(os.path.join(src, "main.go")) and
            shutil.which("go")):
        return None
    out = os.path.join(ctx.build, "bench", "msvc-ferretdb")
    log("building the FerretDB launcher with go (slow the first time)")
    r = subprocess.run(["go", "build", "-o", out, "."], cwd=src,
                       timeout=3600)
    return out if r.returncode == 0 else None


def start_ferretdb(ctx, exe):
    """Starts FerretDB on a fresh port; returns (process, mongodb URL)."""
    port = free_port()
    fdir = os.path.join(ctx.workdir, "ferretdb")
    url_file = os.path.join(ctx.workdir, "ferretdb.url")
    with open(os.path.join(ctx.workdir, "ferretdb.log"), "ab") as flog:
        proc = spawn([exe, "-listen", "127.0.0.1:%d" % port, "-dir", fdir,
                      "-url-file", url_file], stdout=flog,
                     stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not os.path.exists(url_file):
        if proc.poll() is not None:
            raise RuntimeError("msvc-ferretdb exited with %d"
                               % proc.returncode)
        if time.monotonic() > deadline:
            raise RuntimeError("msvc-ferretdb did not start within 60 s")
        time.sleep(0.1)
    return proc, "mongodb://127.0.0.1:%d/msvcbench" % port


def run_mongo(ctx, only, tables):
    title = ("Issue 3: msvc-server on MongoDB (FerretDB v1.24.2, SQLite "
             "handler), %d users, %d posts" % (N_USERS, N_POSTS))
    exe = ferretdb_binary(ctx)
    if exe is None:
        t = Table(title)
        t.note("skipped: no FerretDB launcher (tests/ferretdb/main.go "
               "and go, or MSVC_FERRETDB)")
        tables.append(t)
        return
    fproc, url = start_ferretdb(ctx, exe)
    ctx.extra_pids = [fproc.pid]
    try:
        table, srv, _ = run_issue2(ctx, url, title,
                                   only - {"scale", "split"}, tables,
                                   targets=False)
        if srv is not None:
            srv.stop()
            table.note("no targets on FerretDB: the figures show what the "
                       "MongoDB path costs; ratios against row 0 as on "
                       "SQLite.  FerretDB runs on the same 2 cores, and "
                       "CPU/req counts msvc-server plus FerretDB.  No "
                       "1M-post case.")
    finally:
        ctx.extra_pids = []
        stop(fproc)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
