"""A throw-away redis-server and a fresh PostgreSQL database for the stack tests."""
import shutil
import subprocess
import time

import psycopg2
import redis
from sqlalchemy.engine import make_url

from tests.support import free_port


def recreate_pg_database(admin_url, name):
    """Drop and create ``name`` on the server of ``admin_url``; return its URL."""
    conn = psycopg2.connect(admin_url, connect_timeout=3)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


class RedisServer:
    """redis-server on a free port of its own, stopped and started again at will (same port)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return self
            except redis.RedisError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
