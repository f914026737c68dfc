"""``python -m bench [--quick] [--keep] [--port P]``: see the package docstring (``bench/__init__.py``)."""
import argparse
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import __doc__ as PACKAGE_DOC
from . import many_screens, scale
from .load import percentile
from .scenarios import Server, board_dom_latency, board_fanout, checkin_throughput, lobby_latency, status_page
from .setup_db import build

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Plan:
    levels: tuple = (10, 50)
    duration: float = 4.0        # seconds per status-page run
    warmup: float = 1.0
    rounds: int = 2              # best of, per route and level
    checkins: int = 250          # sequential check-ins watched by the lobby client
    echoes: int = 200
    clients: int = 20            # concurrent kiosks in the throughput run
    total: int = 1000            # check-ins in the throughput run (and bare inserts)
    board_changes: int = 100     # changes watched on the wall board in Chromium
    fanout_clients: int = 200    # Socket.IO clients in the board room
    fanout_changes: int = 30     # changes each of them must receive


FULL = Plan()
QUICK = Plan(duration=1.0, warmup=0.3, rounds=1, checkins=40, echoes=40, clients=10, total=150,
             board_changes=20, fanout_clients=50, fanout_changes=20)

TARGET_STATUS_RATIO = 0.60
TARGET_P95_MS = 100.0
TARGET_CHECKINS_PER_S = 200.0
TARGET_BOARD_P95_MS = 100.0      # issue 5: change → board DOM, p95
TARGET_FANOUT_P95_MS = 100.0     # not set by issue 5 (it asks for p95 and losses): the live-view target


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, db_url, port, token, log_path):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICELANE_")}
        env["PYTHONUNBUFFERED"] = "1"
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.server", "--db", db_url, "--port", str(port),
             f"--status-token={token}", "--secret-key", secrets.token_hex(16)],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bench server exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/_bench/info", timeout=1) as resp:
                    return json.load(resp)
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"bench server not ready after {timeout}s:\n{self.tail()}")

    def tail(self):
        self._log.flush()
        return Path(self.log_path).read_text(errors="replace")[-3000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


class DeploymentServers:
    """The README's production setup, for the throughput figure c': one gunicorn process per core,
    each on its own port with threads (``-w 1 --threads 100``), on the same database. The load
    generator keeps each client on one port, as a proxy with sticky sessions would."""

    THREADS = 100

    def __init__(self, db_url, ports, token, log_dir):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICELANE_")}
        env.update(PYTHONUNBUFFERED="1", BENCH_DB=db_url, BENCH_STATUS_TOKEN=token,
                   BENCH_SECRET_KEY=secrets.token_hex(16))   # one secret: any process accepts a session
        self.ports, self.procs, self.logs = list(ports), [], []
        for port in self.ports:
            log_path = Path(log_dir) / f"gunicorn-{port}.log"
            log = open(log_path, "w")
            self.logs.append((log, log_path))
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", str(self.THREADS),
                 "-b", f"127.0.0.1:{port}", "bench.server:deployment_app()"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        for proc, port in zip(self.procs, self.ports):
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"gunicorn on port {port} exited ({proc.returncode}):\n{self.tail()}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_bench/info", timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"gunicorn on port {port} not ready after {timeout}s:\n{self.tail()}")
                    time.sleep(0.2)

    def tail(self):
        out = []
        for log, path in self.logs:
            log.flush()
            out.append(f"[{path.name}]\n" + path.read_text(errors="replace")[-1500:])
        return "\n".join(out)

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        for log, _path in self.logs:
            log.close()


# ---------------------------------------------------------------- report


def ms(seconds):
    return f"{seconds * 1000:.1f}"


def verdict(ok):
    return "PASS" if ok else "MISS"


def table(rows, headers):
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "+".join("-" * (w + 2) for w in widths)
    out = ["+" + line + "+"]
    fmt = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    out += [fmt(headers), "+" + line.replace("-", "=") + "+"]
    out += [fmt(r) for r in rows]
    out.append("+" + line + "+")
    return "\n".join(out)


def throughput_rows(label, rush):
    c, b = rush.checkins, rush.baseline
    rows = [[label, f"{c.rate:.0f}", f"{b.rate:.0f} (bare insert+commit, same setup)",
             f"{c.rate / b.rate:.0%}" if b.rate else "-", f">= {TARGET_CHECKINS_PER_S:.0f}/s",
             verdict(c.rate >= TARGET_CHECKINS_PER_S)]]
    rows.append(["   latency p50 / p95 (ms)", f"{ms(c.p(50))} / {ms(c.p(95))}",
                 f"{ms(b.p(50))} / {ms(b.p(95))}", "", "", ""])
    ok_count = rush.tickets == c.requests and not c.errors
    rows.append(["   tickets / gaps / duplicates", f"{rush.tickets} / {rush.gaps} / {rush.duplicates}",
                 f"{c.requests} answered 200, {c.errors} errors", "",
                 f"{c.requests} / 0 / 0", verdict(ok_count and rush.gaps == 0 and rush.duplicates == 0)])
    return rows


def report(plan, info, status, latency, rush, deploy, board, fanout):
    rows = []
    for clients, (page, base) in status.items():
        ratio = page.rate / base.rate if base.rate else 0
        rows.append([f"a. status page, {clients} clients: req/s",
                     f"{page.rate:.0f}", f"{base.rate:.0f} (bare template)",
                     f"{ratio:.0%}", f">= {TARGET_STATUS_RATIO:.0%} of baseline",
                     verdict(ratio >= TARGET_STATUS_RATIO)])
        rows.append([f"   latency p50 / p95 (ms)",
                     f"{ms(page.p(50))} / {ms(page.p(95))}", f"{ms(base.p(50))} / {ms(base.p(95))}",
                     f"{page.p(95) / base.p(95):.1f}x (p95)", "", ""])
        if page.errors or base.errors:
            rows.append(["   errors (status / baseline)", f"{page.errors}", f"{base.errors}", "", "0", "MISS"])

    d, e = latency.delivery, latency.echo
    d95, e95 = percentile(d, 95), percentile(e, 95)
    rows.append([f"b. check-in -> lobby message, p50 (ms)", ms(percentile(d, 50)),
                 f"{ms(percentile(e, 50))} (Socket.IO echo)", f"{percentile(d, 50) / percentile(e, 50):.1f}x",
                 "", ""])
    rows.append([f"   p95 (ms), {len(d)} check-ins", ms(d95), f"{ms(e95)} (Socket.IO echo)",
                 f"{d95 / e95:.1f}x", f"<= {TARGET_P95_MS:.0f} ms", verdict(d95 * 1000 <= TARGET_P95_MS)])
    rows.append(["   of which HTTP answer p50 / p95 (ms)",
                 f"{ms(percentile(latency.http, 50))} / {ms(percentile(latency.http, 95))}", "", "", "", ""])
    if latency.lost:
        rows.append(["   messages lost", str(latency.lost), "", "", "0", "MISS"])

    rows += throughput_rows(f"c. check-ins/s, {plan.clients} clients x {plan.total}, this server", rush)
    if deploy is not None:
        rows += throughput_rows(f"c'. the same, production setup ({deploy.setup})", deploy)

    ch, rb = board.change, board.rebuild
    b95 = percentile(ch, 95)
    rows.append(["d. change -> board DOM (Chromium 1920x1080), p50 (ms)", ms(percentile(ch, 50)),
                 f"{ms(percentile(rb, 50))} (page's own /board/state rebuild)",
                 f"{percentile(ch, 50) / percentile(rb, 50):.1f}x", "", ""])
    rows.append([f"   p95 (ms), {len(ch) + board.missed} changes", ms(b95),
                 f"{ms(percentile(rb, 95))} (page's own /board/state rebuild)",
                 f"{b95 / percentile(rb, 95):.1f}x", f"<= {TARGET_BOARD_P95_MS:.0f} ms",
                 verdict(b95 * 1000 <= TARGET_BOARD_P95_MS and not board.missed)])
    rows.append(["   of which HTTP answer p50 / p95 (ms)",
                 f"{ms(percentile(board.http, 50))} / {ms(percentile(board.http, 95))}", "", "", "", ""])
    if board.missed:
        rows.append(["   changes not shown within 2 s", str(board.missed), "", "", "0", "MISS"])

    fd = fanout.delivery
    f95 = percentile(fd, 95)
    rows.append([f"e. fan-out, {fanout.connected}/{fanout.clients} board clients x {fanout.changes} changes, p50 (ms)",
                 ms(percentile(fd, 50)), f"{ms(percentile(e, 50))} (Socket.IO echo, round trip)",
                 f"{percentile(fd, 50) / percentile(e, 50):.1f}x", "", ""])
    rows.append([f"   p95 (ms), {len(fd)} deliveries", ms(f95), f"{ms(e95)} (Socket.IO echo, round trip)",
                 # The issue asks for the figure, not a target: reported against our own 100 ms goal.
                 f"{f95 / e95:.1f}x", f"(goal <= {TARGET_FANOUT_P95_MS:.0f} ms)",
                 "ok" if f95 * 1000 <= TARGET_FANOUT_P95_MS else "over"])
    rows.append(["   per change: first / last client p50 (ms)",
                 f"{ms(percentile(fanout.first, 50))} / {ms(percentile(fanout.last, 50))}", "", "", "", ""])
    rows.append(["   lost (expected - received)", f"{fanout.lost} of {fanout.expected}",
                 "", "", "0, all connected",
                 verdict(fanout.lost == 0 and fanout.connected == fanout.clients)])

    print()
    print(table(rows, ["figure", "measured", "baseline (same run)", "ratio", "target", "result"]))
    if deploy is not None:
        print(f"\nc' ran on the README's production setup ({deploy.setup}, each process on its own port, "
              "one PostgreSQL database), each client kept to one port as behind a proxy with sticky sessions; "
              "its bare-insert baseline ran on that same setup in the same run. Everything else ran on the one "
              "threaded werkzeug process on SQLite.")
    print(f"status page {info['status_bytes']} bytes; bare template {info['baseline_bytes']} bytes "
          f"({info['baseline_rows']} rows + padding).")
    print(f"board: {sum(board.lanes.values())} cards on screen in the two lanes toggled at the end "
          f"({board.lanes}); fan-out clients connected in {fanout.connect_seconds:.1f} s, "
          f"closed in {fanout.close_seconds:.1f} s. Delivery = receive time - the message's sent_at "
          "(one host, one clock).")


PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


def production_database():
    """A fresh PostgreSQL database for c' (several processes need PostgreSQL), or None without a server."""
    try:
        import psycopg2
        conn = psycopg2.connect(PG_ADMIN_URL, connect_timeout=3)
    except Exception:  # noqa: BLE001 - no server: c' is skipped with that reason
        return None
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS servicelane_bench")
        cur.execute("CREATE DATABASE servicelane_bench")
    conn.close()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/servicelane_bench"


TARGET_SCREENS_P95_MS = 100.0     # issue 15: 1,000 screens per process
TARGET_RUSH_P95_MS = 150.0        # issue 15: 20 check-ins/s while the screens listen
TARGET_SECOND_PROCESS = 1.6       # issue 15: throughput with a second process
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def redis_up():
    try:
        import redis
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception:  # noqa: BLE001 - no Redis: the runs that need it are skipped with that reason
        return False


def screens_section(quick):
    """g. The README's many-screens mode (gevent, bench/many_screens.py): one process with SQLite,
    then one and two processes on PostgreSQL joined by Redis, each figure beside its bare
    counterpart on the same server in the same run."""
    clients, changes, seconds, burst = (200, 5, 4, 100) if quick else (1000, 30, 15, 400)
    runs = [("one process, SQLite", ["--clients", str(clients), "--changes", str(changes)])]
    if production_database() is None or not redis_up():
        print(f"g. PostgreSQL ({PG_ADMIN_URL}) or Redis ({REDIS_URL}) not reachable: the production runs are "
              "skipped.", flush=True)
    else:
        common = ["--db", "postgresql", "--pg-admin", PG_ADMIN_URL, "--redis", REDIS_URL, "--changes", str(changes),
                  "--rush", "20", "--seconds", str(seconds), "--burst", str(burst)]
        runs += [("one process, PostgreSQL + Redis", ["--clients", str(clients)] + common),
                 ("two processes, PostgreSQL + Redis", ["--processes", "2", "--clients", str(2 * clients)] + common)]
    results = {}
    for label, argv in runs:
        print(f"g. many screens, {label}: {' '.join(argv)}…", flush=True)
        results[label] = many_screens.run(argv)
    rows = []
    for label, r in results.items():
        p95, bare95 = many_screens.pct(r["delivery"], 95), many_screens.pct(r["bare_delivery"], 95)
        rows.append([f"g. {label}: fan-out to {r['screens']} screens, p95 ms", f"{p95:.0f}",
                     f"{bare95:.0f} (bare broadcast)", f"{p95 / bare95:.1f}x" if bare95 else "-",
                     f"<= {TARGET_SCREENS_P95_MS:.0f} ms, 0 lost",
                     verdict(p95 <= TARGET_SCREENS_P95_MS and r["lost"] == 0 and r["screens"] == r["clients"])])
        rows.append(["   lost / server RSS MB", f"{r['lost']} / {r['rss']}", f"{r['bare_lost']} lost", "", "", ""])
        if "rush" in r:
            rush95, bare95 = many_screens.pct(r["rush"], 95), many_screens.pct(r["rush_bare"], 95)
            rows.append([f"   check-ins at 20/s while the screens listen, p95 ms ({len(r['rush'])} ok, "
                         f"{r['rush_failed']} failed)", f"{rush95:.0f}", f"{bare95:.0f} (bare route, same pace)",
                         f"{rush95 / bare95:.1f}x" if bare95 else "-", f"<= {TARGET_RUSH_P95_MS:.0f} ms",
                         verdict(rush95 <= TARGET_RUSH_P95_MS and not r["rush_failed"])])
            rows.append([f"   check-ins as fast as 20 kiosks go, /s", f"{r['burst_rate']:.0f}",
                         f"{r['burst_bare_rate']:.0f} (bare route)", "", "", ""])
    one, two = (results.get("one process, PostgreSQL + Redis"), results.get("two processes, PostgreSQL + Redis"))
    if one and two:
        gain, bare_gain = two["burst_rate"] / one["burst_rate"], two["burst_bare_rate"] / one["burst_bare_rate"]
        rows.append(["g. check-ins/s, two processes / one", f"{gain:.2f}x", f"{bare_gain:.2f}x (bare route)", "",
                     f">= {TARGET_SECOND_PROCESS}x", verdict(gain >= TARGET_SECOND_PROCESS)])
    print()
    print(table(rows, ["figure", "measured", "baseline (same run)", "ratio", "target", "result"]))
    print("g ran gunicorn with the gevent worker (deploy/gunicorn.conf.py, bench.gevent_app: the README's process "
          "plus two baseline routes); the load generator (one asyncio process for the sockets, threads for the "
          "kiosks) shares this machine's CPUs with the servers and is part of every figure.")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=PACKAGE_DOC,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (~30 s), to check the bench")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, server log)")
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--scale", default=None,
                        help="history sizes of the scale scenario (bench/scale.py), e.g. 10k,100k,1m "
                             "(default 10k,100k; --quick 10k); 'none' skips it")
    parser.add_argument("--no-screens", action="store_true", help="skip g. (many screens on the gevent server)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL

    workdir = Path(tempfile.mkdtemp(prefix="servicelane-bench-"))
    db_url = f"sqlite:///{workdir / 'bench.db'}"
    port = args.port or free_port()
    started = time.monotonic()
    print(f"ServiceLane bench{' (quick)' if args.quick else ''}: Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, SQLite (WAL) in {workdir}, one threaded werkzeug server process on "
          f"127.0.0.1:{port} (c' also on gunicorn, one process per core), rate limits off.", flush=True)
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1) / 2:
        print(f"Note: load average {load:.1f} at start; other work on this machine skews the figures "
              "(the ratios less than the absolute numbers).", flush=True)

    token = build(db_url, "bench-setup")
    server = ServerProcess(db_url, port, token, workdir / "server.log")
    try:
        info = server.wait_ready()
        target = Server("127.0.0.1", port, db_url, token)

        print(f"a. status page vs bare template: {', '.join(map(str, plan.levels))} clients, "
              f"{plan.rounds} x {plan.duration:.0f} s each…", flush=True)
        status = status_page(target, plan.levels, plan.duration, plan.warmup, plan.rounds)

        print(f"b. check-in -> lobby latency: {plan.checkins} check-ins, {plan.echoes} echoes…", flush=True)
        latency = lobby_latency(target, plan.checkins, plan.echoes)

        print(f"c. check-in throughput: {plan.clients} clients, {plan.total} check-ins (and bare inserts)…",
              flush=True)
        rush = checkin_throughput(target, plan.clients, plan.total)

        processes = os.cpu_count() or 1
        label = (f"gunicorn, {processes} process{'es' if processes > 1 else ''} x "
                 f"{DeploymentServers.THREADS} threads, one per core, PostgreSQL")
        deploy = None
        pg_url = production_database()
        if pg_url is None:
            print("c'. skipped: PostgreSQL not reachable at "
                  f"{PG_ADMIN_URL} (several server processes need PostgreSQL; SQLite is one process).", flush=True)
        else:
            print(f"c'. the same on the production setup ({label}; the baseline on it too)…", flush=True)
            pg_token = build(pg_url, "bench-setup")
            deployment = DeploymentServers(pg_url, [free_port() for _ in range(processes)], pg_token, workdir)
            try:
                deployment.wait_ready()
                deploy = checkin_throughput(Server("127.0.0.1", deployment.ports, pg_url, pg_token),
                                            plan.clients, plan.total, site="deploy")
            except Exception:
                print(f"\nDeployment servers' log (tail):\n{deployment.tail()}", file=sys.stderr)
                raise
            finally:
                deployment.stop()
            deploy.setup = label

        print(f"d. change -> board DOM latency in Chromium: {plan.board_changes} changes…", flush=True)
        board = board_dom_latency(target, info["board_token"], plan.board_changes)

        print(f"e. board fan-out: {plan.fanout_clients} Socket.IO clients, {plan.fanout_changes} changes…",
              flush=True)
        fanout = board_fanout(target, info["board_token"], plan.fanout_clients, plan.fanout_changes)

        report(plan, info, status, latency, rush, deploy, board, fanout)
    except Exception:
        print(f"\nServer log (tail):\n{server.tail()}", file=sys.stderr)
        raise
    finally:
        server.stop()
        if args.keep:
            print(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if not args.no_screens:
        screens_section(args.quick)
    scales = args.scale or ("10k" if args.quick else "10k,100k")
    status_code = 0
    if scales != "none":
        print(f"\nf. scale: years of history ({scales} visits), SQLite and PostgreSQL…", flush=True)
        status_code = scale.main(["--scale", scales] + (["--no-load"] if args.quick else []))
    print(f"\nTotal {time.monotonic() - started:.0f} s.")
    return status_code


if __name__ == "__main__":
    sys.exit(main())
