"""gunicorn settings: ``gunicorn -c deploy/gunicorn.conf.py webapp.wsgi_gevent:app``."""

# ---------------------------------------------------------------- worker settings
# gevent: one greenlet per connection, so a process holds a thousand live screens (Socket.IO over
# WebSocket through simple-websocket) where a threaded worker spends a thread and ~200 KB on each.
# One worker per process: Socket.IO keeps a client's session in the process that answered its
# handshake, so more capacity means more processes behind nginx's sticky upstream, joined by the
# Redis message queue (SERVICELANE_REDIS_URL), never workers > 1 in one of them.
worker_class = "gevent"
workers = 1
worker_connections = 2000      # screens and requests open at once in this process
timeout = 60                   # a stuck worker (blocking C call) is restarted after this long
graceful_timeout = 10
keepalive = 5
# ---------------------------------------------------------------- end of worker settings
