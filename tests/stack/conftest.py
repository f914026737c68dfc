"""The production stack (deploy/stack.py) started once per session: nginx, two gunicorn web
processes, the consumer, a PostgreSQL database of its own and a redis-server of its own (stopping
it disturbs nobody else). Skipped, with the reason, when nginx, PostgreSQL or redis-server is missing."""
import os
import shutil

import pytest

from bench.setup_db import recreate_pg_database
from deploy.stack import NGINX, Stack
from tests.stack.services import RedisServer

PG_ADMIN_URL = os.environ.get("SERVICELANE_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
NS = os.environ.get("SERVICELANE_TEST_NS", "0")


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    if NGINX is None:
        pytest.skip("nginx not installed (apt-get install nginx; `make stack-test` installs it as root)")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed (apt-get install redis-server)")
    try:
        database_url = recreate_pg_database(PG_ADMIN_URL, f"servicelane_stack_{NS}")
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no PostgreSQL here"
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    redis_server = RedisServer().start()
    running = Stack(database_url, redis_server.url, tmp_path_factory.mktemp("stack"))
    running.redis = redis_server
    try:
        running.start()
        yield running
    finally:
        running.stop()
        redis_server.stop()
