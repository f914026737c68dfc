"""The production stack on one machine: nginx in front of two gunicorn web processes, the task
consumer, PostgreSQL and Redis. Used by `make stack` (runs until Ctrl-C) and by tests/stack/.

    python deploy/stack.py                 # start it; URLs printed; Ctrl-C stops everything
    python deploy/stack.py render-nginx    # print the production site (deploy/nginx/servicelane.conf)

nginx runs unprivileged from its own prefix (config, pid, logs, temp paths) under instance/stack/,
with the site rendered from deploy/nginx/servicelane.conf.template: the tested config is the shipped one.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
TEMPLATE = DEPLOY / "nginx" / "servicelane.conf.template"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
BIN = Path(sys.executable).parent

PRODUCTION = {
    "UPSTREAM_SERVERS": "    server 127.0.0.1:8001 max_fails=1 fail_timeout=10s;\n"
                        "    server 127.0.0.1:8002 max_fails=1 fail_timeout=10s;",
    "REDIRECT_SERVER": "server {\n    listen 80;\n    listen [::]:80;\n    server_name service.example.com;\n"
                       "    # certbot's HTTP-01 challenge: certbot certonly --webroot -w /var/www/certbot -d …\n"
                       "    location /.well-known/acme-challenge/ { root /var/www/certbot; }\n"
                       "    location / { return 301 https://$host$request_uri; }\n}",
    "LISTEN": "    listen 443 ssl http2;\n    listen [::]:443 ssl http2;",
    "SERVER_NAME": "service.example.com",
    "TLS": "    # TLS placeholders: certbot fills these paths (or point them at your own certificate).\n"
           "    ssl_certificate /etc/letsencrypt/live/service.example.com/fullchain.pem;\n"
           "    ssl_certificate_key /etc/letsencrypt/live/service.example.com/privkey.pem;\n"
           "    ssl_protocols TLSv1.2 TLSv1.3;\n"
           "    ssl_session_cache shared:servicelane_tls:10m;",
    "COOKIE_SECURE": "; Secure",
    "ACCESS_LOG": "/var/log/nginx/servicelane.access.log",
    "ERROR_LOG": "/var/log/nginx/servicelane.error.log",
    "STATIC_DIR": "/opt/servicelane/static",
    "LOCAL_HEADERS": "",
}


def render(values):
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    left = re.findall(r"@[A-Z_]+@", text)
    assert not left, f"unfilled placeholders in the nginx template: {left}"
    return text


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, proc=None, timeout=30.0, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited ({proc.returncode})\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s\n{_tail(log)}")


def _tail(path):
    return Path(path).read_text(errors="replace")[-3000:] if path and Path(path).exists() else ""


class Stack:
    """nginx + two web processes + the consumer, on a given PostgreSQL database and Redis."""

    def __init__(self, database_url, redis_url, workdir, port=None, web_ports=None, secret_key=None):
        self.database_url = database_url
        self.redis_url = redis_url
        self.dir = Path(workdir)
        self.port = port or free_port()
        self.web_ports = list(web_ports or (free_port(), free_port()))
        self.secret_key = secret_key or os.urandom(32).hex()
        self.web = {}          # port -> Popen
        self.worker = None
        self.nginx = None
        self.url = f"http://127.0.0.1:{self.port}"

    # ---- environment and database
    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICELANE_")}
        env.update({
            "SERVICELANE_DATABASE_URL": self.database_url, "SERVICELANE_REDIS_URL": self.redis_url,
            "SERVICELANE_SECRET_KEY": self.secret_key, "SERVICELANE_PROXY_HOPS": "1",
            "SERVICELANE_PUBLIC_BASE_URL": self.url, "SERVICELANE_RATELIMIT_ENABLED": "false",
            "SERVICELANE_UPLOAD_DIR": str(self.dir / "uploads"), "PYTHONUNBUFFERED": "1",
        })
        return env

    def flask(self, *args, check=True):
        return subprocess.run([str(BIN / "flask"), "--app", "webapp", *args], cwd=ROOT, env=self.env(),
                              check=check, capture_output=True, text=True)

    def prepare_database(self):
        """Create the database if missing, migrate it, load the demo shop when empty."""
        import psycopg2
        from sqlalchemy.engine import make_url
        url = make_url(self.database_url)
        admin = psycopg2.connect(host=url.host, port=url.port or 5432, user=url.username,
                                 password=url.password, dbname="postgres", connect_timeout=3)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{url.database}"')
        admin.close()
        self.flask("db", "upgrade")
        self.flask("demo-data")   # idempotent: loads the demo shop only into an empty database

    # ---- processes
    def _spawn(self, name, argv, extra_env=None):
        log = self.dir / f"{name}.log"
        env = self.env()
        env.update(extra_env or {})
        # Own session: a kill takes the gunicorn master and its worker together.
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                                start_new_session=True)
        proc.log = log
        return proc

    def start_web(self, port, wait=True):
        proc = self._spawn(f"web-{port}", [str(BIN / "gunicorn"), "-c", str(DEPLOY / "gunicorn.conf.py"),
                                           "webapp.wsgi_gevent:app"], {"SERVICELANE_BIND": f"127.0.0.1:{port}"})
        self.web[port] = proc
        if wait:
            self.wait_web(port)
        return proc

    def wait_web(self, port):
        proc = self.web[port]
        wait_http(f"http://127.0.0.1:{port}/lobby?site=bj01", proc, log=proc.log, timeout=60)

    def kill_web(self, port):
        """SIGKILL, as a crash: no graceful goodbye to its screens."""
        proc = self.web.pop(port)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def start_worker(self):
        self.worker = self._spawn("worker", [str(BIN / "flask"), "--app", "webapp", "worker"])

    def nginx_values(self):
        servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in self.web_ports)
        return {**PRODUCTION, "UPSTREAM_SERVERS": servers, "REDIRECT_SERVER": "",
                "LISTEN": f"    listen 127.0.0.1:{self.port};", "SERVER_NAME": "localhost", "TLS": "",
                "COOKIE_SECURE": "", "ACCESS_LOG": str(self.dir / "nginx" / "access.log"),
                "ERROR_LOG": str(self.dir / "nginx" / "error.log"), "STATIC_DIR": str(ROOT / "static"),
                # Which process answered: the tests use it to place screens on each process.
                "LOCAL_HEADERS": "        add_header X-Upstream $upstream_addr always;"}

    def start_nginx(self):
        if NGINX is None:
            raise RuntimeError("nginx not installed (apt-get install nginx, or run `make stack` as root)")
        prefix = self.dir / "nginx"
        for sub in ("logs", "tmp"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        (prefix / "servicelane.conf").write_text(render(self.nginx_values()))
        mime = "/etc/nginx/mime.types"
        tmp = prefix / "tmp"
        (prefix / "nginx.conf").write_text(
            f"worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            + (f"    include {mime};\n" if Path(mime).exists() else "")
            + f"    client_body_temp_path {tmp}/body;\n    proxy_temp_path {tmp}/proxy;\n"
            f"    fastcgi_temp_path {tmp}/fastcgi;\n    uwsgi_temp_path {tmp}/uwsgi;\n    scgi_temp_path {tmp}/scgi;\n"
            f"    include {prefix}/servicelane.conf;\n}}\n")
        self.nginx = self._spawn("nginx", [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                                           "-e", str(prefix / "error.log"), "-g", "daemon off;"])
        wait_http(self.url + "/lobby?site=bj01", self.nginx, log=prefix / "error.log")

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        self.prepare_database()
        # All at once: each process spends its first seconds importing the app.
        for port in self.web_ports:
            self.start_web(port, wait=False)
        self.start_worker()
        for port in self.web_ports:
            self.wait_web(port)
        self.start_nginx()
        return self

    def stop(self):
        procs = list(self.web.values()) + [p for p in (self.worker, self.nginx) if p is not None]
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.web.clear()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="run", choices=["run", "render-nginx"])
    parser.add_argument("--database-url", default=os.environ.get(
        "STACK_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/servicelane_stack"))
    parser.add_argument("--redis-url", default=os.environ.get("STACK_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("STACK_PORT", "8080")))
    parser.add_argument("--web-ports", default=os.environ.get("STACK_WEB_PORTS", "8001,8002"))
    args = parser.parse_args(argv)
    if args.command == "render-nginx":
        sys.stdout.write(render(PRODUCTION))
        return 0
    stack = Stack(args.database_url, args.redis_url, ROOT / "instance" / "stack", port=args.port,
                  web_ports=[int(p) for p in args.web_ports.split(",")],
                  secret_key=os.environ.get("STACK_SECRET_KEY", "stack-local-only-" + "0" * 16))
    try:
        stack.start()
        boards = stack.flask("board-url", "--base", stack.url).stdout
        print(f"\nServiceLane stack: {stack.url}  (nginx -> web {stack.web_ports[0]}, {stack.web_ports[1]};"
              f" consumer; {args.database_url}; {args.redis_url})")
        print(f"  kiosk {stack.url}/kiosk   lobby {stack.url}/lobby?site=bj01   staff {stack.url}/login")
        print("  " + boards.strip().replace("\n", "\n  "))
        print(f"  logs: {stack.dir}/*.log   Ctrl-C stops everything\n", flush=True)
        while all(p.poll() is None for p in [*stack.web.values(), stack.worker, stack.nginx]):
            time.sleep(1)
        print("a process of the stack exited; stopping (see its log)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
