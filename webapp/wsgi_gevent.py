"""WSGI entry point for many live screens: ``gunicorn -c deploy/gunicorn.conf.py webapp.wsgi_gevent:app``
(gevent worker, one greenlet per connection; WebSocket through simple-websocket, which
python-engineio drives with gevent's own event and selector classes).

The patching below must run before anything imports socket, ssl, threading or psycopg2, so it
comes first and only here: ``make run`` (webapp/__main__.py), webapp/wsgi.py and the tests stay
threaded and unpatched. gunicorn's gevent worker has already patched the standard library when it
imports this module; ``patch_all`` is then a no-op, and keeps ``python -c 'import
webapp.wsgi_gevent'`` honest. psycopg2 is a C driver: psycogreen makes it wait on gevent's hub
instead of blocking the whole process during a query. SQLite stays a local file read in C (short,
and serialised by webapp/sqlite_writer.py)."""
from gevent import monkey

monkey.patch_all()

from psycogreen.gevent import patch_psycopg  # noqa: E402

patch_psycopg()

from . import create_app  # noqa: E402

# A thousand greenlets must not mean a thousand database connections: requests borrow from a
# bounded pool and wait (at most POOL_TIMEOUT s, then fail) when it is empty; sockets hold none
# (realtime._on_connect gives its session back before returning).
POOL_SIZE = 10
POOL_OVERFLOW = 10
POOL_TIMEOUT = 10


def gevent_config(base: dict | None = None) -> dict:
    config = dict(base or {})
    config["SOCKETIO_ASYNC_MODE"] = "gevent"
    config["DB_POOL"] = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, "pool_timeout": POOL_TIMEOUT}
    return config


app = create_app(gevent_config())
