"""Many live screens (issue 15 items 2 and 3): ``python -m bench.many_screens [options]``. Not a test.

One server setup per run, on a fresh database built by bench/setup_db.py:

- ``gunicorn -c deploy/gunicorn.conf.py bench.gevent_app:app``: the README's many-screens process
  (webapp.wsgi_gevent) plus the bench's two baseline routes; ``--processes N`` of them on their own
  ports joined by the Redis queue (``--redis``), each client keeping to one port as behind nginx's
  sticky upstream. (The threaded server of ``make run`` is measured by ``make bench``'s fan-out at
  200 screens.)
- ``--clients`` Socket.IO screens (socketio.AsyncClient over WebSocket: one asyncio load process
  holds a thousand sockets, where a thread per client would measure the load generator) join the
  lobby room of the ``lobby`` site, spread over the processes.
- fan-out: ``--changes`` walk-ins checked in over HTTP one after the other, each waited for by
  every screen (3 s at most); delivery = receive time - the message's ``sent_at``; lost = expected -
  received; the servers' RSS (VmRSS, summed over each process group) after the run. Baseline: a
  bare broadcast of the same message to the same screens after each check-in (``/_bench/broadcast``).
- ``--rush R``: then ``--seconds`` of check-ins at R/s across the sites (kiosk form, paced
  open-loop), p50/p95 of the HTTP answer while the screens listen, beside the bare route
  (``/_bench/page``) at the same pace; and ``--burst`` check-ins as fast as 20 client threads go:
  the throughput beside the bare route's (run it with 1 and 2 processes for the ratio).

The load generator shares the 2 CPUs with the servers: the figures include its cost.
"""
import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import socketio

from .setup_db import build, mobile, plate, recreate_pg_database

ROOT = Path(__file__).resolve().parents[1]
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
NUMBER = re.compile(r"\b(W\d{3,})\b")
RUSH_SITES = ("rush", "deploy", "lobby", "board")


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(env, log_dir):
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
           "bench.gevent_app:app"]
    log = open(Path(log_dir) / f"server-{port}.log", "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/start", timeout=1)
            return proc, url
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not start")


def rss_mb(proc):
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.getpgid(int(pid)) != proc.pid:
                continue
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ProcessLookupError):
            continue
    return total / 1024


class Kiosk:
    """One keep-alive HTTP session on the kiosk's walk-in form of a site."""

    def __init__(self, url, site):
        self.url, self.site, self.http = url, site, requests.Session()
        page = self.http.get(f"{url}/kiosk/walkin", params={"site": site}, timeout=10)
        self.csrf = CSRF.search(page.text).group(1)

    def check_in(self, i):
        sent = time.time()
        resp = self.http.post(f"{self.url}/kiosk/walkin", headers={"X-CSRFToken": self.csrf}, timeout=30, data={
            "csrf_token": self.csrf, "plate": plate(i), "mobile": mobile(i), "reason": "repair", "consent": "1",
            "key": str(uuid.uuid4())})
        took = time.time() - sent
        match = NUMBER.search(resp.text) if resp.status_code == 200 else None
        return (match.group(1) if match else None), sent, took

    def bare(self, _i):
        """The baseline of a check-in: the bare route on the same session, answered as check_in is."""
        sent = time.time()
        ok = self.http.get(f"{self.url}/_bench/page", timeout=30).status_code == 200
        return ok, sent, time.time() - sent


async def screens(urls, clients, batch=50, status_tokens=None):
    """Connect ``clients`` lobby screens (or, given ``status_tokens``, customers' status pages of
    those tickets, round-robin) over ``urls``; returns (sockets, records, arrived)."""
    records, arrived = [], {}
    socks = []

    def make():
        sio = socketio.AsyncClient(reconnection=False)

        @sio.on("lobby")
        async def on_lobby(msg):
            at = time.time()
            number = msg.get("number") if isinstance(msg, dict) else None
            if number:
                records.append((number, at - float(msg.get("sent_at", at))))
                arrived[number] = arrived.get(number, 0) + 1
        return sio

    async def connect(sio, url, k):
        auth = ({"channel": "status", "token": status_tokens[k % len(status_tokens)]} if status_tokens
                else {"channel": "lobby", "site": "lobby"})
        try:
            await sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=20)
            return True
        except Exception:  # noqa: BLE001 - counted as not connected
            return False

    for start_at in range(0, clients, batch):
        group = [(make(), urls[k % len(urls)], k) for k in range(start_at, min(clients, start_at + batch))]
        results = await asyncio.gather(*(connect(s, u, k) for s, u, k in group))
        socks.extend(s for (s, _u, _k), ok in zip(group, results) if ok)
    return socks, records, arrived


def bare_broadcast(url):
    """The fan-out's baseline trigger: one lobby message through the same server, no request work."""
    http = requests.Session()

    def send(n):
        sent = time.time()
        http.post(f"{url}/_bench/broadcast", params={"n": n}, timeout=30).raise_for_status()
        return f"B{n}", sent, time.time() - sent
    return send


async def fanout(urls, socks, arrived, changes, loop_pool):
    """``changes`` check-ins, each followed by a bare broadcast (alternating, so a slow moment of
    the machine hits both), each waited for by every screen (3 s at most). Returns the app's
    numbers and the baseline's."""
    loop = asyncio.get_running_loop()
    kiosk = await loop.run_in_executor(loop_pool, Kiosk, urls[0], "lobby")
    bare = bare_broadcast(urls[0])
    numbers, baseline = [], []
    for i in range(changes):
        for trigger, into in ((kiosk.check_in, numbers), (bare, baseline)):
            number, _sent, _took = await loop.run_in_executor(loop_pool, trigger, 500_000 + i)
            into.append(number)
            deadline = time.monotonic() + 3
            while arrived.get(number, 0) < len(socks) and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
    await asyncio.sleep(0.3)
    return numbers, baseline


def delivered(records, arrived, numbers, screens_connected):
    """(delivery delays of ``numbers``, messages lost)."""
    wanted = set(numbers)
    delays = [d for n, d in records if n in wanted]
    return delays, len(numbers) * screens_connected - sum(arrived.get(n, 0) for n in wanted)


def rush(urls, rate, seconds, offset, bare=False):
    """Open-loop: one check-in every 1/rate s across the sites, each on its own thread; with
    ``bare``, the same pace of GETs of the bare route on the same ports (the baseline)."""
    kiosks = [Kiosk(urls[k % len(urls)], site) for k, site in enumerate(RUSH_SITES)]
    took, failed = [], 0
    lock = threading.Lock()

    def one(i):
        nonlocal failed
        kiosk = kiosks[i % len(kiosks)]
        number, _sent, t = (kiosk.bare if bare else kiosk.check_in)(offset + i)
        with lock:
            if number:
                took.append(t)
            else:
                failed += 1
    total = int(rate * seconds)
    with ThreadPoolExecutor(max_workers=64) as pool:
        begin = time.monotonic()
        for i in range(total):
            delay = begin + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, i)
    return took, failed


def burst(urls, total, threads, offset, bare=False):
    """Closed loop: ``threads`` kiosks (sites and ports round-robin) check in ``total`` walk-ins;
    with ``bare``, as many GETs of the bare route (the baseline of the process count's gain)."""
    kiosks = [Kiosk(urls[k % len(urls)], RUSH_SITES[k % len(RUSH_SITES)]) for k in range(threads)]
    counter = iter(range(total))
    lock = threading.Lock()
    done = []

    def work(kiosk):
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            number, _s, t = (kiosk.bare if bare else kiosk.check_in)(offset + i)
            if number:
                done.append(t)
    begin = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(work, kiosks))
    return len(done) / (time.monotonic() - begin), done


async def close_all(socks):
    async def close(sio):
        try:
            await asyncio.wait_for(sio.disconnect(), 2)
        except Exception:  # noqa: BLE001
            pass
    await asyncio.gather(*(close(s) for s in socks))


def status_tokens(db_url):
    from sqlalchemy import create_engine, text
    engine = create_engine(db_url)
    with engine.connect() as conn:
        tokens = list(conn.execute(text(
            "SELECT t.token FROM ticket t JOIN site s ON s.id = t.site_id WHERE s.code = 'status'")).scalars())
    engine.dispose()
    return tokens


async def main_async(args):
    tmp = Path(tempfile.mkdtemp(prefix="many-screens-"))
    if args.db == "postgresql":
        db_url = recreate_pg_database(args.pg_admin, "servicelane_screens").replace(
            "postgresql://", "postgresql+psycopg2://")   # the driver the project ships
    else:
        db_url = f"sqlite:///{tmp / 'screens.db'}"
    secret = uuid.uuid4().hex
    build(db_url, secret)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICELANE_")}
    env.update({"SERVICELANE_DATABASE_URL": db_url, "SERVICELANE_SECRET_KEY": secret,
                "SERVICELANE_RATELIMIT_ENABLED": "false", "SERVICELANE_TASKS_BACKEND": "memory"})
    if args.redis:
        env["SERVICELANE_REDIS_URL"] = args.redis
    procs = [start(env, tmp) for _ in range(args.processes)]
    urls = [u for _p, u in procs]
    pool = ThreadPoolExecutor(max_workers=4)
    setup = f"gevent x{args.processes} ({args.db}{', redis' if args.redis else ''})"
    out = {"setup": setup, "clients": args.clients}
    try:
        began = time.monotonic()
        socks, records, arrived = await screens(urls, args.clients)
        connect_s = time.monotonic() - began
        numbers, baseline = await fanout(urls, socks, arrived, args.changes, pool)
        delivery, lost = delivered(records, arrived, numbers, len(socks))
        bare, bare_lost = delivered(records, arrived, baseline, len(socks))
        rss = [round(rss_mb(p)) for p, _u in procs]
        out.update(screens=len(socks), connect_s=connect_s, delivery=delivery, lost=lost, bare_delivery=bare,
                   bare_lost=bare_lost, rss=rss)
        print(f"fan-out {setup}: {len(socks)}/{args.clients} screens connected in {connect_s:.1f} s, "
              f"{len(numbers)} changes; delivery p50 {pct(delivery, 50):.0f} ms, p95 {pct(delivery, 95):.0f} ms, "
              f"lost {lost}; bare broadcast (baseline) p50 {pct(bare, 50):.0f} ms, p95 {pct(bare, 95):.0f} ms, "
              f"lost {bare_lost}; server RSS {rss} MB", flush=True)
        await close_all(socks)
        # The rush runs while customers' status pages listen (the site's 20 waiting tickets, 50
        # pages each): they hear a queue message only when a place ahead of them moves.
        began = time.monotonic()
        socks, _records, _arrived = await screens(urls, args.clients, status_tokens=status_tokens(db_url))
        print(f"{len(socks)}/{args.clients} status pages connected in {time.monotonic() - began:.1f} s", flush=True)
        loop = asyncio.get_running_loop()
        if args.rush:
            bare, bare_failed = await loop.run_in_executor(None, rush, urls, args.rush, args.seconds, 0, True)
            took, failed = await loop.run_in_executor(None, rush, urls, args.rush, args.seconds, 600_000)
            out.update(rush=took, rush_failed=failed, rush_bare=bare)
            print(f"rush {args.rush}/s for {args.seconds} s while {len(socks)} screens listen: "
                  f"{len(took)} ok, {failed} failed, p50 {pct(took, 50):.0f} ms, p95 {pct(took, 95):.0f} ms; "
                  f"bare route at the same pace (baseline) p50 {pct(bare, 50):.0f} ms, p95 {pct(bare, 95):.0f} ms, "
                  f"{bare_failed} failed", flush=True)
        if args.burst:
            bare_rate, _ = await loop.run_in_executor(None, burst, urls, args.burst, 20, 0, True)
            rate, took = await loop.run_in_executor(None, burst, urls, args.burst, 20, 700_000)
            out.update(burst_rate=rate, burst=took, burst_bare_rate=bare_rate)
            print(f"burst {args.burst} check-ins, 20 kiosks, {args.processes} process(es): {rate:.0f}/s, "
                  f"p95 {pct(took, 95):.0f} ms; bare route (baseline) {bare_rate:.0f}/s", flush=True)
        return out
    finally:
        await close_all(socks if "socks" in dir() else [])
        for proc, _u in procs:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)


def parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default=None, help="Redis URL of the message queue (2+ processes need it)")
    parser.add_argument("--rush", type=float, default=0, help="check-ins per second after the fan-out")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--burst", type=int, default=0, help="check-ins as fast as 20 kiosks go")
    return parser


def run(argv):
    """One setup measured (``argv`` as on the command line); the figures as a dict (make bench)."""
    return asyncio.run(main_async(parser().parse_args(argv)))


def main():
    run(sys.argv[1:])


if __name__ == "__main__":
    main()
