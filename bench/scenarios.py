"""The three measurements, each with its baseline, against one running bench server."""
import re
import threading
import time
import uuid
from dataclasses import dataclass

import socketio

from .load import Client, run_load
from .setup_db import gaps_and_duplicates, mobile, plate, ticket_numbers

TICKET_NUMBER = re.compile(rb'data-ticket-number="([^"]+)"')


@dataclass
class Server:
    host: str
    port: int
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


def checkin_throughput(server, clients, total):
    def prepare(client):
        client.fetch_csrf("/kiosk/walkin?site=rush")

    def insert(client, i):
        return client.request("POST", "/_bench/insert", form={"csrf_token": client.csrf, "note": f"n{i}"})[0]

    def checkin(client, i):
        # As the kiosk sends it: htmx asks for the ticket screen, not the whole page.
        return client.request("POST", "/kiosk/walkin", form=walkin_form(client, i), headers=HX)[0]

    baseline = run_load(server.host, server.port, clients, insert, total=total, prepare=prepare)
    checkins = run_load(server.host, server.port, clients, checkin, total=total, prepare=prepare)
    numbers = ticket_numbers(server.db_url, "rush")
    gaps, duplicates = gaps_and_duplicates(numbers)
    return ThroughputResult(checkins, baseline, len(numbers), gaps, duplicates)
