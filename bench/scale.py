"""The scale scenario of issue 15: what users meet when the shop holds years of history.

``python -m bench.scale [--scale 10k,100k,1m] [--engine sqlite,postgresql]`` builds each database
with ``bench.scale_data`` (bulk SQL, migrated schema), then measures through the real routes:

- history, exact plate lookup (``/history/?q=<plate>`` as a manager): server time p50 / p95;
- history, fragment search (five digits of a plate): p50 / p95;
- the board with ``ACTIVE_JOBS`` active jobs (``/board/state``), its lanes cache emptied before each
  call so the figure is the rebuild a change causes: median (and the cached answer);
- ``/workshop`` (the dispatcher's page) under 50 concurrent clients on a threaded werkzeug server
  process: p95;
- the queries each of these screens sends, which must not grow with the history.

Each figure stands next to a baseline of the same run: a bare template route rendering a list (the
in-process figures), and the same bare route under the same 50 clients (the ``/workshop`` load), so
a ratio holds on a noisy machine. ``make bench`` runs 10k and 100k; ``make bench-scale`` adds 1M.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from .load import percentile, run_load
from .setup_db import recreate_pg_database

ROOT = Path(__file__).resolve().parent.parent
SCALES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
BUDGET_HISTORY_P95_MS = 10.0        # issue 15, at 1M
BUDGET_BOARD_MEDIAN_MS = 30.0       # issue 15, at 1M
BUDGET_MONTH_REPORT_MS = 500.0      # issue 14, at 1M: the month report's server time (median)
GOAL_WORKSHOP_P95_MS = 1000.0       # issue 15 measured 3.2 s and set no figure: ours, one second
CALLS = 60                          # per in-process figure
LOAD_CLIENTS = 50
LOAD_SECONDS = 6.0
BASELINE_ROUTE = "/_scale/page"


def add_baseline(app):
    """A bare route rendering a 40-row list with the app's Jinja: the least any page costs."""
    from flask import render_template_string
    source = "<ul>{% for i in rows %}<li>Row {{ i }}: {{ i * 7 }}</li>{% endfor %}</ul>"

    @app.get(BASELINE_ROUTE)
    def scale_page():
        return render_template_string(source, rows=range(40))


def app_for(db_url):
    from webapp import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "scale-bench", "RATELIMIT_ENABLED": False,
                      "REDIS_URL": None, "WTF_CSRF_ENABLED": False})
    add_baseline(app)
    return app


class Statements:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def _seen(self, *args):
        self.count += 1

    def __enter__(self):
        from sqlalchemy import event
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event
        event.remove(self.engine, "before_cursor_execute", self._seen)


class Timings(list):
    """Server time of each call in ms, sorted; ``cpu``: the process's CPU time of each call, sorted.

    On a busy machine the wall time mostly measures the wait for a core; the CPU time the work.
    In process on SQLite the CPU time includes the database's; on PostgreSQL the server's is not in it."""
    cpu: list


def timed(client, paths, before=None):
    """Server time of each call (in-process: no network, no client parsing)."""
    for path in paths[:5]:                      # warm the caches the app keeps (templates, plans)
        assert client.get(path).status_code == 200, path
    wall, cpu = Timings(), []
    for path in paths:
        if before:
            before()
        c0, t0 = time.process_time(), time.perf_counter()
        resp = client.get(path)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert resp.status_code == 200, (path, resp.status_code)
    wall.sort()
    wall.cpu = sorted(cpu)
    return wall


def month_report_path(app, built):
    """``/reports`` for the last whole month of the history, or None where the app has no reports."""
    if "reports.index" not in app.view_functions:
        return None
    end = built.last_day.replace(day=1) - timedelta(days=1)
    return f"/reports?range=custom&from={end.replace(day=1).isoformat()}&to={end.isoformat()}"


def in_process(built):
    """History, fragment, board and baseline figures, and each screen's statement count."""
    from webapp.extensions import db
    app = app_for(built.db_url)
    client = app.test_client()
    resp = client.post("/login", data={"username": "big-manager-1", "password": built.password})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    plates = [built.sample_plates[i % len(built.sample_plates)] for i in range(CALLS)]
    fragments = [p[2:] for p in plates]          # 京A12345 -> 12345: every plate with those digits
    clear = lambda: app.extensions.pop("servicelane.board_cache", None)  # noqa: E731
    board = f"/board/state?token={built.board_token}"
    fig = {
        "baseline": timed(client, [BASELINE_ROUTE] * CALLS),
        "history_exact": timed(client, [f"/history/?q={p}" for p in plates]),
        "history_fragment": timed(client, [f"/history/?q={f}" for f in fragments]),
        "board": timed(client, [board] * CALLS, before=clear),
        "board_cached": timed(client, [board] * CALLS),
    }
    report = month_report_path(app, built)
    if report:       # issue 14's /reports, once merged: a whole month of the big site
        fig["month_report"] = timed(client, [report] * 10)
    counts = {}
    with app.app_context():
        engine = db.engine
    screens = {"history_exact": f"/history/?q={plates[0]}", "history_fragment": f"/history/?q={fragments[0]}",
               "board": board}
    for name, path in screens.items():
        clear()
        with Statements(engine) as s:
            assert client.get(path).status_code == 200
        counts[name] = s.count
    client.post("/logout")
    resp = client.post("/login", data={"username": "big-dispatcher-1", "password": built.password})
    assert resp.status_code == 302
    with Statements(engine) as s:
        body = client.get("/workshop").get_data(as_text=True)
    counts["workshop"] = s.count
    fig["workshop_single"] = timed(client, ["/workshop"] * 20)
    fig["workshop_bytes"] = len(body.encode())
    return fig, counts


def serve(db_url, port):
    """``python -m bench.scale --serve URL PORT``: the app threaded, as ``python -m webapp`` serves it."""
    from werkzeug.serving import make_server
    import logging
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    make_server("127.0.0.1", port, app_for(db_url), threaded=True).serve_forever()


def under_load(built):
    """/workshop and the bare route under LOAD_CLIENTS concurrent logged-in clients, in a server process."""
    import socket
    import urllib.request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICELANE_")}
    proc = subprocess.Popen([sys.executable, "-m", "bench.scale", "--serve", built.db_url, str(port)], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{BASELINE_ROUTE}", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"scale server did not start: {proc.stderr.read().decode()[-2000:]}")
                time.sleep(0.2)

        def login(client):
            client.request("POST", "/login", form={"username": "big-dispatcher-1", "password": built.password})

        get = lambda path: (lambda client, i: client.request("GET", path)[0])  # noqa: E731
        page = run_load("127.0.0.1", port, LOAD_CLIENTS, get("/workshop"), duration=LOAD_SECONDS, warmup=1.0,
                        prepare=login)
        base = run_load("127.0.0.1", port, LOAD_CLIENTS, get(BASELINE_ROUTE), duration=LOAD_SECONDS, warmup=1.0,
                        prepare=login)
        return page, base
    finally:
        proc.terminate()
        proc.wait(10)


def database(engine, scale, workdir):
    if engine == "sqlite":
        return f"sqlite:///{workdir / f'scale-{scale}.db'}"
    return recreate_pg_database(PG_ADMIN_URL, f"servicelane_scale_{scale}")


def drop(engine, url):
    if engine == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    import psycopg2
    conn = psycopg2.connect(PG_ADMIN_URL, connect_timeout=3)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
    conn.close()


def run_one(engine, scale, workdir, load=True, keep=False):
    from . import scale_data
    import logging
    logging.getLogger("alembic").setLevel(logging.WARNING)
    url = database(engine, scale, workdir)
    print(f"[{engine} {scale}] building {SCALES[scale]:,} visits…", flush=True)
    built = scale_data.build(url, SCALES[scale], log=lambda m: print(f"[{engine} {scale}] {m}", flush=True))
    try:
        return measure(engine, scale, built, load)
    finally:
        if not keep:
            drop(engine, url)


def measure(engine, scale, built, load=True):
    fig, counts = in_process(built)
    page = base = None
    if load:
        print(f"[{engine} {scale}] /workshop under {LOAD_CLIENTS} clients…", flush=True)
        page, base = under_load(built)
    return {"build_s": built.seconds, "fig": fig, "counts": counts, "load": (page, base)}


def ms(v):
    return f"{v:.1f}"


def report(results):
    from .__main__ import table
    rows = []
    for (engine, scale), r in results.items():
        f, c = r["fig"], r["counts"]
        b50 = statistics.median(f["baseline"])
        tag = f"{engine} {scale}"
        he, hf, bd = f["history_exact"], f["history_fragment"], f["board"]
        rows.append([f"{tag}: build", f"{r['build_s']:.0f} s", "", "", "", ""])
        # The verdict on CPU time on SQLite (the wall time on a shared machine is mostly the wait for a
        # core), on wall time on PostgreSQL (whose own work is not in this process's CPU time).
        judge = (lambda t: t.cpu) if engine == "sqlite" else (lambda t: t)  # noqa: E731
        rows.append([f"{tag}: CPU ms p50 / p95: bare, exact, fragment, board",
                     " | ".join(f"{ms(percentile(t.cpu, 50))} / {ms(percentile(t.cpu, 95))}"
                                for t in (f["baseline"], he, hf, bd)), "", "", "", ""])
        ok = percentile(judge(he), 95) <= BUDGET_HISTORY_P95_MS
        rows.append([f"{tag}: history exact plate p50 / p95 ms", f"{ms(percentile(he, 50))} / {ms(percentile(he, 95))}",
                     f"{ms(b50)} / {ms(percentile(f['baseline'], 95))} (bare route)",
                     f"{percentile(he, 95) / percentile(f['baseline'], 95):.1f}x",
                     f"p95 <= {BUDGET_HISTORY_P95_MS:.0f} ms at 1M", verdict(ok, scale)])
        rows.append([f"{tag}: history fragment p50 / p95 ms", f"{ms(percentile(hf, 50))} / {ms(percentile(hf, 95))}",
                     "", f"{percentile(hf, 95) / percentile(f['baseline'], 95):.1f}x", "", ""])
        ok = statistics.median(judge(bd)) <= BUDGET_BOARD_MEDIAN_MS
        rows.append([f"{tag}: board, {200} active jobs, rebuilt, median ms", ms(statistics.median(bd)),
                     f"{ms(b50)} (bare route)", f"{statistics.median(bd) / b50:.1f}x",
                     f"<= {BUDGET_BOARD_MEDIAN_MS:.0f} ms at 1M", verdict(ok, scale)])
        rows.append([f"{tag}: board from its lanes cache, median ms", ms(statistics.median(f["board_cached"])),
                     "", "", "", ""])
        if "month_report" in f:
            ok = statistics.median(judge(f["month_report"])) <= BUDGET_MONTH_REPORT_MS
            rows.append([f"{tag}: /reports, a month of the big site, median ms (CPU {ms(statistics.median(f['month_report'].cpu))})",
                         ms(statistics.median(f["month_report"])),
                         f"{ms(b50)} (bare route)", f"{statistics.median(f['month_report']) / b50:.1f}x",
                         f"<= {BUDGET_MONTH_REPORT_MS:.0f} ms at 1M", verdict(ok, scale)])
        rows.append([f"{tag}: /workshop alone, median ms, wall / CPU ({f['workshop_bytes'] // 1024} KB)",
                     f"{ms(statistics.median(f['workshop_single']))} / {ms(statistics.median(f['workshop_single'].cpu))}",
                     "", "", "", ""])
        page, base = r["load"]
        if page is not None:
            p95, b95 = page.p(95) * 1000, base.p(95) * 1000
            rows.append([f"{tag}: /workshop, {LOAD_CLIENTS} clients, p95 ms ({page.rate:.0f} req/s)", ms(p95),
                         f"{ms(b95)} (bare route, {base.rate:.0f} req/s)", f"{p95 / b95:.1f}x",
                         f"(goal <= {GOAL_WORKSHOP_P95_MS:.0f} ms)",
                         ("ok" if p95 <= GOAL_WORKSHOP_P95_MS else "over") + (f", {page.errors} errors" if page.errors else "")])
        rows.append([f"{tag}: queries per screen", ", ".join(f"{k} {v}" for k, v in c.items()), "", "", "", ""])
    print()
    print(table(rows, ["figure", "measured", "baseline (same run)", "ratio", "budget", "result"]))
    by_engine = {}
    for (engine, scale), r in results.items():
        by_engine.setdefault(engine, []).append((scale, r["counts"]))
    for engine, seen in by_engine.items():
        same = all(c == seen[0][1] for _s, c in seen)
        print(f"{engine}: queries per screen {'the same' if same else 'DIFFER'} at "
              f"{', '.join(s for s, _c in seen)}" + ("" if same else f": {seen}"))
    return all(all(c == seen[0][1] for _s, c in seen) for seen in by_engine.values())


def verdict(ok, scale):
    if scale != "1m":
        return "ok" if ok else "over"       # the budgets are set at 1M; smaller scales are shown for the trend
    return "PASS" if ok else "MISS"


def pg_reachable():
    try:
        import psycopg2
        psycopg2.connect(PG_ADMIN_URL, connect_timeout=3).close()
        return True
    except Exception:  # noqa: BLE001 - no server: PostgreSQL figures are skipped, said so
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="10k,100k", help="comma-separated of 10k, 100k, 1m (default 10k,100k)")
    parser.add_argument("--engine", default="sqlite,postgresql", help="sqlite, postgresql or both")
    parser.add_argument("--no-load", action="store_true", help="skip /workshop under 50 clients")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--existing", nargs=2, metavar=("DB_URL", "VISITS"),
                        help="measure a database built earlier by bench.scale_data (kept with --keep)")
    parser.add_argument("--serve", nargs=2, metavar=("DB_URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return 0
    if args.existing:
        from . import scale_data
        url, visits = args.existing[0], int(args.existing[1])
        engine = "postgresql" if url.startswith("postgresql") else "sqlite"
        label = next((k for k, v in SCALES.items() if v == visits), str(visits))
        results = {(engine, label): measure(engine, label, scale_data.built(url, visits), load=not args.no_load)}
        return 0 if report(results) else 1
    scales = [s.strip().lower() for s in args.scale.split(",")]
    engines = [e.strip() for e in args.engine.split(",")]
    if "postgresql" in engines and not pg_reachable():
        print(f"PostgreSQL not reachable at {PG_ADMIN_URL}: its figures are skipped.")
        engines.remove("postgresql")
    workdir = Path(tempfile.mkdtemp(prefix="servicelane-scale-"))
    started = time.monotonic()
    results = {}
    for engine in engines:
        for scale in scales:
            results[(engine, scale)] = run_one(engine, scale, workdir, load=not args.no_load, keep=args.keep)
    same = report(results)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)   # and the app's task-queue files beside the databases
    print(f"\nScale bench: {time.monotonic() - started:.0f} s" + (f"; kept {workdir}" if args.keep else ""))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
