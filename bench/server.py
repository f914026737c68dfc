"""The benchmark's server process: ``python -m bench.server --db URL --port P --status-token T``.

The real app (``webapp.create_app``) served as ``python -m webapp`` serves it (threaded werkzeug,
Flask-SocketIO in threading mode), plus the bench's baseline routes, which exist only here.
``deployment_app()`` is the same app for gunicorn (the README's production setup:
``gunicorn -w 1 --threads 100 -b 127.0.0.1:P 'bench.server:deployment_app()'``, one process per
port), configured from ``BENCH_DB``, ``BENCH_SECRET_KEY`` and ``BENCH_STATUS_TOKEN``. Routes:

- ``GET /_bench/page``   a bare route rendering a template of the status page's byte size;
- ``POST /_bench/insert`` a bare route doing one trivial INSERT + COMMIT;
- ``GET /_bench/info``   readiness, and the two page sizes (JSON);
- ``POST /_bench/board/toggle`` (CSRF-exempt, bench server only) pauses the board site's first job
  for parts, or resumes it, through the real workshop services (``pause``/``resume``: commit,
  change sequence, "board" message); answers the job, visit, new lane and the site's sequence;
- Socket.IO ``bench_ping`` → ``bench_pong`` to the sender (echo baseline).
"""
import argparse
import logging
import os

from flask import jsonify, render_template, request
from flask_socketio import emit
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import select, text

from webapp import create_app
from webapp.extensions import csrf, db, socketio
from webapp.jobs import lane as job_lane
from webapp.models import Job, Site, User
from webapp.services import workshop

from .setup_db import BOARD_TOKEN, board_job

BASELINE_TEMPLATE = "bench/baseline.html"
# Deliberately plain: a loop and a few variables, the work any page template does at least.
BASELINE_SOURCE = """<!doctype html>
<html lang="{{ locale_code }}">
<head><meta charset="utf-8"><title>{{ title }}</title></head>
<body>
<main>
<h1>{{ title }}</h1>
<ul>
{%- for row in rows %}
<li class="row">{{ row.label }}: {{ row.value }}</li>
{%- endfor %}
</ul>
</main>
<!--{{ pad }}-->
</body>
</html>
"""


def _rows(n):
    return [{"label": f"Row {i}", "value": i * 7} for i in range(n)]


def build_app(db_url, secret_key, status_token):
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SECRET_KEY": secret_key,
        "RATELIMIT_ENABLED": False,
        "REDIS_URL": None,
    })
    app.jinja_env.loader = ChoiceLoader([DictLoader({BASELINE_TEMPLATE: BASELINE_SOURCE}),
                                         app.jinja_env.loader])
    with app.app_context():
        db.session.execute(text("CREATE TABLE IF NOT EXISTS bench_insert "
                                "(id INTEGER PRIMARY KEY, note VARCHAR(40) NOT NULL)"))
        db.session.commit()

    shape = {"rows": [], "pad": "", "status_bytes": 0, "baseline_bytes": 0}

    def render_baseline():
        return render_template(BASELINE_TEMPLATE, title="Baseline", rows=shape["rows"], pad=shape["pad"])

    @app.get("/_bench/page")
    def bench_page():
        return render_baseline()

    @app.post("/_bench/insert")
    def bench_insert():
        db.session.execute(text("INSERT INTO bench_insert (note) VALUES (:note)"),
                           {"note": request.form.get("note", "")[:40]})
        db.session.commit()
        return "ok"

    @app.get("/_bench/info")
    def bench_info():
        return jsonify(pid=os.getpid(), board_token=BOARD_TOKEN, status_bytes=shape["status_bytes"],
                       baseline_bytes=shape["baseline_bytes"], baseline_rows=len(shape["rows"]))

    board = {}

    @csrf.exempt
    @app.post("/_bench/board/toggle")
    def bench_board_toggle():
        if not board:
            board["job"], board["tech"], board["visit"] = board_job(db.session)
        tech = db.session.get(User, board["tech"])
        job = db.session.get(Job, board["job"])
        if job.status == "paused":
            job = workshop.resume(tech, job.id)
        else:
            job = workshop.pause(tech, job.id, "waiting_parts")
        lane = job_lane(job.visit.state, job.status, job.pause_reason, False)
        seq = db.session.scalar(select(Site.change_seq).where(Site.board_token == BOARD_TOKEN))
        return jsonify(job=job.id, visit=board["visit"], lane=lane, seq=seq)

    def on_ping(data):
        emit("bench_pong", data)

    socketio.on_event("bench_ping", on_ping)

    # Size the baseline to the status page: rows until just below it, then padding to the byte.
    status_bytes = len(app.test_client().get(f"/t/{status_token}").get_data())
    with app.test_request_context("/_bench/page"):
        n = 0
        while True:
            shape["rows"] = _rows(n + 1)
            if len(render_baseline().encode()) > status_bytes:
                break
            n += 1
        shape["rows"] = _rows(n)
        shape["pad"] = "x" * max(0, status_bytes - len(render_baseline().encode()))
    shape["status_bytes"] = status_bytes
    shape["baseline_bytes"] = len(app.test_client().get("/_bench/page").get_data())
    return app


def deployment_app():
    """For gunicorn: the same app and baseline routes, from the environment (see the docstring)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return build_app(os.environ["BENCH_DB"], os.environ["BENCH_SECRET_KEY"], os.environ["BENCH_STATUS_TOKEN"])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--status-token", required=True)
    parser.add_argument("--secret-key", default="bench-secret")
    args = parser.parse_args()
    app = build_app(args.db, args.secret_key, args.status_token)
    # The access log would cost a formatted line per request on both sides of every comparison.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    socketio.run(app, host="127.0.0.1", port=args.port, use_reloader=False, log_output=False,
                 allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
