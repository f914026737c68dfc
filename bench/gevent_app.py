"""The many-screens bench's server: ``gunicorn -c deploy/gunicorn.conf.py bench.gevent_app:app``.

The README's many-screens process (webapp.wsgi_gevent: gevent, cooperative psycopg2, bounded pool)
plus two baseline routes that exist only here, so each figure of bench/many_screens.py stands
beside the bare stack measured in the same run on the same server and sockets:

- ``GET /_bench/page``: a bare route (no database, a constant body): the check-in rush's baseline;
- ``POST /_bench/broadcast?n=N``: one "lobby" message of the app's own shape (number ``B<N>``,
  ``sent_at``) to the lobby room of the ``lobby`` site through the same Socket.IO server and
  message queue, with no request work around it: the fan-out's baseline.
"""
import time

from webapp.wsgi_gevent import app  # first: it patches the standard library, as in production

from flask import request  # noqa: E402
from sqlalchemy import select  # noqa: E402

from webapp.extensions import csrf, db  # noqa: E402
from webapp.models import Site  # noqa: E402
from webapp.realtime import lobby_room  # noqa: E402

_lobby = {}


@app.get("/_bench/page")
def bench_page():
    return "ok"


@csrf.exempt
@app.post("/_bench/broadcast")
def bench_broadcast():
    if "id" not in _lobby:
        _lobby["id"] = db.session.scalar(select(Site.id).where(Site.code == "lobby"))
    app.extensions["servicelane.sio_server"].emit(
        "lobby", {"event": "bench", "number": f"B{int(request.args['n'])}", "sent_at": time.time()},
        to=lobby_room(_lobby["id"]), namespace="/")
    return "ok"
