"""A small, cheap load generator: threads, each with one keep-alive ``http.client`` connection.

``requests`` costs about a millisecond of client CPU per call, which on a small machine would be
taken from the server being measured; ``http.client`` with a dict of cookies costs a fraction.
"""
import http.client
import math
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

CSRF_META = re.compile(rb'<meta name="csrf-token" content="([^"]+)"')


class Client:
    """One browser-like client: a keep-alive connection and its cookies."""

    def __init__(self, host, port, timeout=30):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)
        self.cookies = {}
        self.csrf = None

    def request(self, method, path, form=None, headers=None):
        """Returns (status, body bytes). Reconnects once if the server dropped the connection."""
        body = None
        hdrs = {"Accept-Encoding": "identity"}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        if self.csrf and method != "GET":
            hdrs["X-CSRFToken"] = self.csrf
        if headers:
            hdrs.update(headers)
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                if attempt == 2:
                    raise
        for raw in resp.headers.get_all("Set-Cookie") or ():
            name, _, rest = raw.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return resp.status, data

    def fetch_csrf(self, path):
        """GET a page and keep its CSRF token (and the session cookie it belongs to)."""
        status, body = self.request("GET", path)
        match = CSRF_META.search(body)
        if status != 200 or not match:
            raise RuntimeError(f"GET {path}: {status}, no csrf token")
        self.csrf = match.group(1).decode()
        return body

    def close(self):
        self.conn.close()


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list (``p`` in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: list = field(repr=False, default_factory=list)   # seconds, sorted
    statuses: dict = field(default_factory=dict)

    @property
    def rate(self):
        return self.requests / self.seconds if self.seconds else 0.0

    def p(self, q):
        return percentile(self.latencies, q)


def run_load(host, port, clients, call, *, duration=None, total=None, warmup=0.0, prepare=None):
    """Run ``call(client, i)`` from ``clients`` threads released together, until ``duration``
    seconds have passed or ``total`` calls were made (whichever comes first; at least one bound).

    ``call`` returns the HTTP status; 2xx counts as success. ``port`` may be a list of ports (one
    server process each, as behind a proxy with sticky sessions): client ``k`` keeps to
    ``port[k % len(port)]``. ``prepare(client)`` runs per thread before the start (e.g. to fetch a
    CSRF token). ``warmup`` seconds of calls run first and are
    not counted. Latency is measured per call; the rate over the wall time of the counted part.
    """
    assert duration or total, "a load run needs a bound"
    deadline_cap = duration if duration else 600.0
    barrier = threading.Barrier(clients + 1)
    lock = threading.Lock()
    issued = [0]
    state = {"counting": False, "stop_at": None}
    per_thread = [None] * clients
    failures = []

    def take():
        with lock:
            if total is not None and issued[0] >= total:
                return None
            issued[0] += 1
            return issued[0] - 1

    ports = list(port) if isinstance(port, (list, tuple)) else [port]

    def worker(k):
        client = Client(host, ports[k % len(ports)])
        lat, statuses, errors = [], {}, 0
        try:
            if prepare:
                prepare(client)
            barrier.wait()
            warm_i = 0
            while warmup and not state["counting"]:
                call(client, -1 - warm_i - k * 1_000_000)
                warm_i += 1
            barrier.wait()
            while time.perf_counter() < state["stop_at"]:
                i = take()
                if i is None:
                    break
                t0 = time.perf_counter()
                try:
                    status = call(client, i)
                except Exception:  # noqa: BLE001 - counted, the run goes on
                    status = "exception"
                lat.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1
                if not (isinstance(status, int) and 200 <= status < 300):
                    errors += 1
        except Exception as exc:  # noqa: BLE001
            failures.append(exc)
            barrier.abort()
        finally:
            client.close()
            per_thread[k] = (lat, statuses, errors)

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    try:
        barrier.wait(timeout=60)                # everyone prepared
        if warmup:
            time.sleep(warmup)
        state["stop_at"] = time.perf_counter() + deadline_cap + 3600
        state["counting"] = True
        barrier.wait(timeout=60)                # everyone out of the warm-up
        start = time.perf_counter()
        state["stop_at"] = start + deadline_cap
    except threading.BrokenBarrierError:
        for t in threads:
            t.join(5)
        raise RuntimeError(f"load run failed to start: {failures[:1]}") from (failures[0] if failures else None)
    for t in threads:
        t.join(deadline_cap + 120)
    elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"load client failed: {failures[0]!r}") from failures[0]
    lat, statuses, errors = [], {}, 0
    for t_lat, t_statuses, t_errors in per_thread:
        lat.extend(t_lat)
        errors += t_errors
        for k, v in t_statuses.items():
            statuses[k] = statuses.get(k, 0) + v
    lat.sort()
    return LoadResult(requests=len(lat) - errors, errors=errors, seconds=elapsed, latencies=lat,
                      statuses=statuses)
