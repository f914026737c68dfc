"""ServiceLane benchmark: ``make bench`` (or ``.venv/bin/python -m bench``). Not a test.

Run from the repository root::

    make bench                      # full run, about two minutes
    .venv/bin/python -m bench --quick   # fewer iterations, ~30 s: checks that the bench works

Options: ``--quick``; ``--scale`` (see f.); ``--keep`` (keep the temporary directory with the database and the
server log); ``--port P`` (default: a free port).

What it does, in one run (one server setup for everything but c', see there):

- builds a temporary SQLite database (WAL, as deployed small) with three sites, and starts one
  server process (``python -m bench.server``): the real app, served like ``python -m webapp``
  (threaded werkzeug + Flask-SocketIO in threading mode) on 127.0.0.1, with rate limits off
  (``RATELIMIT_ENABLED=False``), no Redis and no access log. The bench adds its baseline routes to
  that app only, never to ``webapp``:

  - ``GET /_bench/page``: a bare route rendering a template of the status page's byte size;
  - ``POST /_bench/insert``: a bare route doing one trivial INSERT + COMMIT (CSRF-checked like
    every POST of the app);
  - Socket.IO event ``bench_ping`` answered by ``bench_pong`` to the sender (echo);
  - ``POST /_bench/board/toggle`` (CSRF-exempt): pauses the board site's first job for parts or
    resumes it, through the real workshop services; answers its visit, new lane and sequence.

  The database also holds a ``board`` site with a board token and 20 cars in the workshop (jobs
  assigned and started through the real services, 3 of them waiting for parts).

- the load generator runs in this process (threads, one keep-alive ``http.client`` connection
  each), so it does not share the server's GIL; everything stays on loopback.

Figures, each next to the baseline measured in the same run:

a. status page ``GET /t/<token>``: req/s and p50/p95 at 10 and 50 concurrent clients, against the
   bare template route (target: ≥ 60 % of its req/s);
b. check-in → lobby message latency (HTTP POST sent → Socket.IO "lobby" message received by a
   client in the lobby room), p50/p95 over ≥ 200 sequential check-ins, next to a bare Socket.IO
   echo round trip (target: p95 ≤ 100 ms);
c. check-ins/s over HTTP (20 clients, 1000 walk-ins through the kiosk form), then the site's
   ticket numbers are checked for gaps and duplicates (target ≥ 200/s, 0 gaps, 0 duplicates),
   next to the bare insert route;
c'. the same run (its own site, ``deploy``) on the README's production setup instead of the one
   werkzeug process: one gunicorn process per CPU core, each on its own port with 100 threads
   (``gunicorn -w 1 --threads 100``), on a fresh PostgreSQL database ``servicelane_bench`` (skipped
   without a server: SQLite serves one process); each client keeps to one port, as
   behind a proxy with sticky sessions. The bare insert baseline runs on that same setup in the
   same run, so the ratio stays fair. The load generator shares the machine's cores with it;
d. change → wall board DOM latency in real Chromium at 1920×1080 (``/board?token=…``): the bench
   toggles the job over HTTP and Playwright waits until the card is visible in its new lane; p50/p95
   over ≥ 100 changes (quick: 20), next to the same page's own rebuild (the "online" event board.js
   listens to: one ``/board/state`` round trip + swap, no message) (target: p95 ≤ 100 ms);
e. fan-out: 200 python-socketio clients (quick: 50) in the board room, 30 changes (quick: 20) each
   waited for by all; delivery = receive time − the message's ``sent_at``, p50/p95 over all
   deliveries, and lost = expected − received (seq-matched), next to the Socket.IO echo of b
   (targets: p95 ≤ 100 ms — ours, the issue asks for the figure —, 0 lost, all connected);
f. the scale scenario (``bench/scale.py``, after the others; ``--scale 10k,100k,1m`` or ``none``):
   years of history built by bulk SQL (``bench/scale_data.py``) at 10k and 100k visits (quick: 10k,
   without the 50-client load), on SQLite and PostgreSQL: history lookups, the board with 200 active
   jobs, ``/workshop`` under 50 clients and the queries per screen. ``make bench-scale`` adds 1M.

Every loop is bounded (a request count and a time cap); a full run takes about two minutes.

Many screens (issue 15 items 2-3) run separately, ``python -m bench.many_screens`` (see its
docstring): fan-out to 1,000 Socket.IO clients on the gevent server (``webapp/wsgi_gevent.py``)
or the threaded one, then a check-in rush at 20/s and a burst across sites on PostgreSQL with the
Redis queue while 1,000 status pages listen, with 1 or 2 processes.
"""
