"""Gunicorn settings for one ServiceLane web process:
`gunicorn -c deploy/gunicorn.conf.py webapp.wsgi_gevent:app`.

One process per port (systemd: servicelane-web@8001, @8002), nginx in front with sticky routes.
Settings come from the environment (deploy/servicelane.env.example) so the systemd units, the
local stack (deploy/stack.py) and a hand start all use this one file.
"""
import os

bind = os.environ.get("SERVICELANE_BIND", "127.0.0.1:8001")

# ---------------------------------------------------------------- worker settings
# gevent: one greenlet per connection, so a process holds a thousand live screens (Socket.IO over
# WebSocket through simple-websocket) where a threaded worker spends a thread and ~200 KB on each.
# One worker per process: Socket.IO keeps a client's session in the process that answered its
# handshake, and nginx can only stick a client to a port, not to a worker behind it; more
# capacity means another process on another port, joined by the Redis message queue
# (SERVICELANE_REDIS_URL), never workers > 1 in one of them.
worker_class = "gevent"
workers = 1
worker_connections = int(os.environ.get("SERVICELANE_WORKER_CONNECTIONS", "2000"))  # screens and requests at once
# ---------------------------------------------------------------- end of worker settings

# A request that takes longer is stuck (a blocking C call); WebSocket and long-poll requests are
# kept alive by the Socket.IO ping (25 s).
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
