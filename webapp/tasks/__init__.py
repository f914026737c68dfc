"""Side effects off the request: a Huey task queue.

Services commit first and enqueue after (a task never sees a change that was rolled back); a task
runs in an app context of its own (own database session). Where the queue lives follows the
configuration (``TASKS_BACKEND``, "auto" by default):

- SQLite database (the embedded default, ``make run``): an SQLite queue file beside it;
- ``REDIS_URL`` set (the README's production setup): Redis;
- PostgreSQL without Redis: ``instance/tasks.db`` (one host);
- "memory": this process only (tests drain it with ``run_pending``); "immediate": run at enqueue.

Who runs the tasks: ``python -m webapp`` (``make run``) starts a consumer thread beside the server
(``--no-worker`` to leave it out); ``flask --app webapp worker`` (``make worker``) is the
standalone consumer for production. Periodic tasks (webapp/tasks/periodic.py) run every five
minutes in whichever consumer runs; they are idempotent, so two consumers do no harm.

Enqueueing never fails a request: when the queue cannot be reached the error is logged and the
work waits in the database (a ``pending`` notification) for the periodic sweep."""
import functools
import logging
from pathlib import Path

from huey import Huey
from huey.consumer import Consumer
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

log = logging.getLogger("servicelane.tasks")

# One instance for the process: tasks register on it at import. init_app() points its storage
# at the configured queue (tests create many apps in one process: the last one wins).
huey = Huey("servicelane", results=False, utc=True, storage_class=MemoryStorage)
_state = {"app": None}


def _sqlite_queue_path(app) -> str:
    configured = app.config.get("TASKS_SQLITE_PATH")
    if configured:
        return str(configured)
    from sqlalchemy.engine import make_url
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        db_file = Path(url.database)
        return str(db_file.with_name(f"{db_file.stem}-tasks.db"))
    return str(Path(app.instance_path) / "tasks.db")


def backend_name(app) -> str:
    name = (app.config.get("TASKS_BACKEND") or "auto").strip().lower()
    if name == "auto":
        return "redis" if app.config.get("REDIS_URL") else "sqlite"
    if name not in ("sqlite", "redis", "memory", "immediate"):
        raise ValueError(f"TASKS_BACKEND: expected auto, sqlite, redis, memory or immediate, got {name!r}")
    return name


def init_app(app) -> None:
    name = backend_name(app)
    huey.immediate = name == "immediate"      # immediate mode keeps its own in-memory storage
    if name == "redis":
        from redis import ConnectionPool
        timeout = float(app.config.get("REDIS_TIMEOUT") or 1.0)
        # Non-blocking reads: every Redis call answers within REDIS_TIMEOUT, so an enqueue in a
        # request never waits longer on a Redis that hangs; the consumer polls with a backoff.
        pool = ConnectionPool.from_url(app.config["REDIS_URL"], socket_timeout=timeout,
                                       socket_connect_timeout=timeout)
        huey.storage = RedisStorage(huey.name, blocking=False, connection_pool=pool)
    elif name == "sqlite":
        path = _sqlite_queue_path(app)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        huey.storage = SqliteStorage(huey.name, filename=path)
    elif name == "memory":
        huey.storage = MemoryStorage(huey.name)
    app.extensions["servicelane.tasks"] = name
    _state["app"] = app
    from .cli import register
    register(app)


def app_task(**options):
    """``huey.task`` whose body runs in an app context of its own (fresh database session)."""
    def decorate(fn):
        @functools.wraps(fn)
        def inside_app(*args, **kwargs):
            app = _state["app"]
            if app is None:
                raise RuntimeError("webapp.tasks: no app (create_app() was not called in this process)")
            with app.app_context():
                return fn(*args, **kwargs)
        return huey.task(**options)(inside_app)
    return decorate


def app_periodic_task(schedule, **options):
    """``huey.periodic_task`` with the same app context as ``app_task``."""
    def decorate(fn):
        @functools.wraps(fn)
        def inside_app(*args, **kwargs):
            app = _state["app"]
            if app is None:
                raise RuntimeError("webapp.tasks: no app (create_app() was not called in this process)")
            with app.app_context():
                return fn(*args, **kwargs)
        return huey.periodic_task(schedule, **options)(inside_app)
    return decorate


def enqueue(task, *args) -> bool:
    """Queue ``task(*args)``; False (logged) when the queue cannot be reached. Call it after the
    commit: the work it names must already be in the database, where the periodic sweep finds it
    if this fails."""
    try:
        task(*args)
        return True
    except Exception:  # noqa: BLE001 - Redis down, SQLite queue locked, …: the request goes on
        log.exception("could not queue %s%r; the periodic sweep will pick the work up", task.name, args)
        return False


def run_pending(limit: int = 1000) -> int:
    """Run what is queued, in this thread, until the queue is empty (tests, one-off maintenance).
    Returns how many tasks ran."""
    ran = 0
    while ran < limit:
        task = huey.dequeue()
        if task is None:
            break
        huey.execute(task)
        ran += 1
    return ran


class EmbeddedConsumer(Consumer):
    """A consumer inside the web server's process: worker threads and the periodic scheduler,
    without taking over the process's signal handlers (the server keeps Ctrl-C and SIGTERM)."""

    def _set_signal_handlers(self):
        pass


def start_embedded_consumer(workers: int = 1, periodic: bool = True) -> EmbeddedConsumer:
    # An idle consumer polls the queue at most a second apart: a notice leaves within a second.
    consumer = EmbeddedConsumer(huey, workers=workers, worker_type="thread", periodic=periodic, max_delay=1.0)
    consumer.start()
    log.info("task consumer started in this process (%s)", huey.storage.__class__.__name__)
    return consumer


# The task modules register their tasks on ``huey`` when imported: every process that creates the
# app (server, consumer) knows them all.
from . import notices, periodic  # noqa: E402,F401
