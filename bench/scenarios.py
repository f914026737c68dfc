"""The measurements, each with its baseline, against one running bench server."""
import json
import os
import re
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from pathlib import Path

import socketio

from .load import Client, run_load
from .setup_db import gaps_and_duplicates, mobile, plate, ticket_numbers

TICKET_NUMBER = re.compile(rb'data-ticket-number="([^"]+)"')


@dataclass
class Server:
    host: str
    port: object            # int, or a list of ports (one process each) for the throughput run
    db_url: str
    status_token: str

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"


HX = {"HX-Request": "true"}


def walkin_form(client, i):
    return {"csrf_token": client.csrf, "plate": plate(i), "mobile": mobile(i), "reason": "repair",
            "description": "异响", "consent": "1", "key": str(uuid.uuid4())}


# ---------------------------------------------------------------- a. status page


def status_page(server, concurrency_levels, duration, warmup, rounds):
    """{clients: (status LoadResult, baseline LoadResult)}, the best of ``rounds`` for each
    (baseline and status alternate, so a slow moment of the machine hits both)."""
    status_path = f"/t/{server.status_token}"

    def get(path):
        def call(client, i):
            return client.request("GET", path)[0]

        def prepare(client):
            status, _ = client.request("GET", path)   # the session cookie a phone already holds
            if status != 200:
                raise RuntimeError(f"GET {path}: {status}")
        return call, prepare

    out = {}
    for clients in concurrency_levels:
        best = {}
        for _round in range(rounds):
            for name, path in (("baseline", "/_bench/page"), ("status", status_path)):
                call, prepare = get(path)
                result = run_load(server.host, server.port, clients, call, duration=duration,
                                  warmup=warmup, prepare=prepare)
                if name not in best or result.rate > best[name].rate:
                    best[name] = result
        out[clients] = (best["status"], best["baseline"])
    return out


# ---------------------------------------------------------------- b. check-in → lobby latency


@dataclass
class LatencyResult:
    delivery: list          # seconds, sorted: POST sent → "lobby" message received
    http: list              # seconds, sorted: POST sent → response read
    echo: list              # seconds, sorted: bench_ping sent → bench_pong received
    lost: int               # check-ins whose message never came (within 2 s)


def lobby_latency(server, checkins, echoes, warmup=5, wait=2.0):
    arrived = threading.Condition()
    lobby, pongs = {}, {}
    sio = socketio.Client(reconnection=False)

    @sio.on("lobby")
    def on_lobby(payload):
        at = time.perf_counter()
        if isinstance(payload, dict) and payload.get("event") == "ticket.issued":
            with arrived:
                lobby.setdefault(payload.get("number"), at)
                arrived.notify_all()

    @sio.on("bench_pong")
    def on_pong(data):
        at = time.perf_counter()
        with arrived:
            pongs[data["i"]] = at
            arrived.notify_all()

    def wait_for(store, key):
        deadline = time.perf_counter() + wait
        with arrived:
            while key not in store:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return None
                arrived.wait(left)
            return store[key]

    sio.connect(server.url, auth={"channel": "lobby", "site": "lobby"}, transports=["websocket"],
                wait_timeout=10)
    client = Client(server.host, server.port)
    try:
        echo = []
        for i in range(-warmup, echoes):
            sent = time.perf_counter()
            sio.emit("bench_ping", {"i": i})
            got = wait_for(pongs, i)
            if got is None:
                raise RuntimeError("the Socket.IO echo did not come back")
            if i >= 0:
                echo.append(got - sent)

        client.fetch_csrf("/kiosk/walkin?site=lobby")
        delivery, http, lost = [], [], 0
        for i in range(-warmup, checkins):
            form = walkin_form(client, 100_000 + i)
            sent = time.perf_counter()
            status, body = client.request("POST", "/kiosk/walkin", form=form, headers=HX)
            answered = time.perf_counter()
            match = TICKET_NUMBER.search(body)
            if status != 200 or not match:
                raise RuntimeError(f"check-in failed: HTTP {status}")
            got = wait_for(lobby, match.group(1).decode())
            if i < 0:
                continue
            http.append(answered - sent)
            if got is None:
                lost += 1
            else:
                delivery.append(got - sent)
    finally:
        client.close()
        sio.disconnect()
    return LatencyResult(sorted(delivery), sorted(http), sorted(echo), lost)


# ---------------------------------------------------------------- c. check-in throughput


@dataclass
class ThroughputResult:
    checkins: object        # LoadResult
    baseline: object        # LoadResult
    tickets: int
    gaps: int
    duplicates: int
    setup: str = ""         # the server setup it ran on, for the report


def checkin_throughput(server, clients, total, site="rush"):
    def prepare(client):
        client.fetch_csrf(f"/kiosk/walkin?site={site}")

    def insert(client, i):
        return client.request("POST", "/_bench/insert", form={"csrf_token": client.csrf, "note": f"n{i}"})[0]

    def checkin(client, i):
        # As the kiosk sends it: htmx asks for the ticket screen, not the whole page.
        return client.request("POST", "/kiosk/walkin", form=walkin_form(client, i), headers=HX)[0]

    baseline = run_load(server.host, server.port, clients, insert, total=total, prepare=prepare)
    checkins = run_load(server.host, server.port, clients, checkin, total=total, prepare=prepare)
    numbers = ticket_numbers(server.db_url, site)
    gaps, duplicates = gaps_and_duplicates(numbers)
    return ThroughputResult(checkins, baseline, len(numbers), gaps, duplicates)


# ---------------------------------------------------------------- d. change → wall board DOM


# As tests/conftest.py launches it (not imported: the bench does not depend on pytest).
CHROMIUM = os.environ.get("SERVICELANE_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required",
]


def card_selector(lane, visit):
    return f'#lanes section[data-lane="{lane}"] article[data-visit="{visit}"]'


def toggle(client):
    """One board change through the bench's toggle route: {job, visit, lane, seq}."""
    status, body = client.request("POST", "/_bench/board/toggle")
    if status != 200:
        raise RuntimeError(f"POST /_bench/board/toggle: HTTP {status}")
    return json.loads(body)


@dataclass
class BoardDomResult:
    change: list            # seconds, sorted: toggle POST sent → card visible in its new lane
    http: list              # seconds, sorted: toggle POST sent → response read
    rebuild: list           # seconds, sorted: the page's own rebuild (fetch /board/state + swap)
    missed: int             # changes not on screen within ``wait`` seconds
    lanes: dict             # lane -> cards on screen at the end (a sanity check)


def board_dom_latency(server, board_token, changes, warmup=5, wait=2.0):
    """Real Chromium at 1920×1080 on /board. Each round: (1) a change over HTTP, then Playwright
    waits until the card is visible in its new lane (Socket.IO "board" message → board.js fetches
    /board/state → swaps #lanes); (2) the baseline: the same page's rebuild alone — the bench fires
    the window "online" event board.js listens to (the one page-side call), and waits for
    ``body[data-rebuilds]`` to count the swap: one /board/state round trip + swap, no message."""
    from playwright.sync_api import TimeoutError as PwTimeout
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Chromium not found at {CHROMIUM}")
    client = Client(server.host, server.port)
    change, http, rebuild, missed = [], [], [], 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
            page.goto(f"{server.url}/board?token={board_token}")
            # Connected, and the rebuild every (re)connect makes is done.
            page.wait_for_selector('body[data-live-state="online"][data-rebuilds]', state="attached",
                                   timeout=15_000)
            for i in range(-warmup, changes):
                sent = time.perf_counter()
                moved = toggle(client)
                answered = time.perf_counter()
                selector = card_selector(moved["lane"], moved["visit"])
                try:
                    page.wait_for_selector(selector, timeout=wait * 1000)
                    shown = time.perf_counter()
                except PwTimeout:
                    shown = None
                    page.wait_for_selector(selector, timeout=70_000)   # the page's 60 s safety net
                n = int(page.get_attribute("body", "data-rebuilds") or 0)
                t0 = time.perf_counter()
                page.evaluate("window.dispatchEvent(new Event('online'))")
                page.wait_for_selector(f'body[data-rebuilds="{n + 1}"]', state="attached", timeout=wait * 1000)
                t1 = time.perf_counter()
                if i < 0:
                    continue
                http.append(answered - sent)
                rebuild.append(t1 - t0)
                if shown is None:
                    missed += 1
                else:
                    change.append(shown - sent)
            lanes = {lane: page.locator(f'#lanes section[data-lane="{lane}"] article').count()
                     for lane in ("in_progress", "waiting_parts")}
        finally:
            browser.close()
            client.close()
    return BoardDomResult(sorted(change), sorted(http), sorted(rebuild), missed, lanes)


# ---------------------------------------------------------------- e. fan-out to board clients


@dataclass
class FanoutResult:
    clients: int            # asked for
    connected: int
    changes: int
    delivery: list          # seconds, sorted: receive time − the message's sent_at, every delivery
    expected: int           # changes × connected clients
    received: int           # distinct (client, seq) of those changes
    connect_seconds: float
    close_seconds: float
    first: list = None      # seconds, sorted: per change, its first client's delivery
    last: list = None       # seconds, sorted: per change, its last client's delivery

    @property
    def lost(self):
        return self.expected - self.received


def board_fanout(server, board_token, clients, changes, batch=25, wait=3.0):
    """``clients`` python-socketio clients (websocket) join the board room, in batches; then
    ``changes`` sequential toggles, each waited for until every client has it (or ``wait`` s). Every
    "board" message is timed on arrival against its ``sent_at``; the toggle route answers the
    sequence number of its change, so a missing (client, seq) is a lost message. The clients are
    threads of this one process (GIL shared with the bench): the figure includes their cost, the
    first client's delivery of each change is closest to the server's own."""
    cond = threading.Condition()
    got = {}                     # seq -> count of clients that received it
    records = []                 # (client index, seq, receive time − sent_at)
    sockets = []

    def make(k):
        sio = socketio.Client(reconnection=False)

        @sio.on("board")
        def on_board(msg):
            at = time.time()
            if not isinstance(msg, dict):
                return
            seq = msg.get("seq")
            with cond:
                records.append((k, seq, at - float(msg.get("sent_at", at))))
                got[seq] = got.get(seq, 0) + 1
                cond.notify_all()
        return sio

    def connect(sio):
        try:
            sio.connect(server.url, auth={"channel": "board", "token": board_token},
                        transports=["websocket"], wait_timeout=10)
            return True
        except Exception:  # noqa: BLE001 - counted as not connected
            return False

    def close(sio):
        try:
            sio.disconnect()
        except Exception:  # noqa: BLE001
            pass

    client = Client(server.host, server.port)
    pool = ThreadPoolExecutor(max_workers=batch)
    started = time.perf_counter()
    connected = []
    try:
        for start in range(0, clients, batch):
            group = [make(k) for k in range(start, min(clients, start + batch))]
            sockets.extend(group)
            for sio, ok in zip(group, pool.map(connect, group, timeout=30)):
                if ok:
                    connected.append(sio)
        connect_seconds = time.perf_counter() - started
        if not connected:
            raise RuntimeError("no board client could connect")
        time.sleep(0.5)          # let the joins settle before the first change
        seqs = []
        for _ in range(changes):
            seq = toggle(client)["seq"]
            seqs.append(seq)
            deadline = time.perf_counter() + wait
            with cond:
                while got.get(seq, 0) < len(connected):
                    left = deadline - time.perf_counter()
                    if left <= 0:
                        break
                    cond.wait(left)
        time.sleep(0.2)          # stragglers of the last change
    finally:
        client.close()
        pool.shutdown(wait=False, cancel_futures=True)
        # A clean close (close frames both ways) takes websocket-client up to its 3 s close
        # timeout per socket: close them all at once, bounded.
        closing = time.perf_counter()
        closer = ThreadPoolExecutor(max_workers=max(1, min(len(sockets), 200)))
        wait_futures([closer.submit(close, sio) for sio in sockets], timeout=30)
        closer.shutdown(wait=False, cancel_futures=True)
        close_seconds = time.perf_counter() - closing
    wanted = set(seqs)
    with cond:
        mine = [(k, s, d) for k, s, d in records if s in wanted]
    received = len({(k, s) for k, s, _d in mine})
    per_change = {}
    for _k, s, d in mine:
        per_change.setdefault(s, []).append(d)
    return FanoutResult(clients, len(connected), len(seqs), sorted(d for _k, _s, d in mine),
                        len(seqs) * len(connected), received, connect_seconds, close_seconds,
                        sorted(min(v) for v in per_change.values()), sorted(max(v) for v in per_change.values()))
