"""Gunicorn settings for one ServiceLane web process: `gunicorn -c deploy/gunicorn.conf.py webapp.wsgi:app`.

One process per port (systemd: servicelane-web@8001, @8002), nginx in front with sticky routes.
Settings come from the environment (deploy/servicelane.env.example) so the systemd units, the
local stack (deploy/stack.py) and a hand start all use this one file.
"""
import os

bind = os.environ.get("SERVICELANE_BIND", "127.0.0.1:8001")

# ---- worker model -------------------------------------------------------------------------------
# ONE worker per process: a Socket.IO session lives in the process that accepted it, and nginx can
# only stick a client to a port, not to a worker behind it. Concurrency comes from threads (every
# live screen holds one); more capacity = another process on another port, not more workers.
# (The gevent mode for many live screens replaces this block.)
workers = 1
worker_class = "gthread"
threads = int(os.environ.get("SERVICELANE_THREADS", "100"))
# --------------------------------------------------------------------------------------------------

# A request that takes longer is stuck; WebSocket and long-poll requests are kept alive by the
# Socket.IO ping (25 s) and do not count against it in the threaded worker.
timeout = int(os.environ.get("SERVICELANE_WORKER_TIMEOUT", "60"))
# On stop (systemd's SIGTERM) finish the requests in flight for up to this long, then exit.
graceful_timeout = int(os.environ.get("SERVICELANE_GRACEFUL_TIMEOUT", "20"))
keepalive = 5

# nginx on the same host is the only proxy (SERVICELANE_PROXY_HOPS=1 in the app): gunicorn itself
# believes forwarded headers only from there. The app's ProxyFix reads them.
forwarded_allow_ips = os.environ.get("SERVICELANE_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = os.environ.get("SERVICELANE_ACCESS_LOG", "-")
errorlog = "-"
# Client address as nginx reported it, request, status, bytes, duration in ms.
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
proc_name = f"servicelane-web-{bind.rsplit(':', 1)[-1]}"
