"""Socket.IO's message queue over Redis, made to outlive a Redis outage.

With ``SERVICELANE_REDIS_URL`` every process publishes its hints to Redis and hears the others'
there. python-socketio's own RedisManager already swallows publish errors, but it waits without
a timeout on an unreachable host, logs every lost message, backs its listener off to a minute
between retries, and says nothing when Redis is back. This one:

- publishes in one short attempt (``REDIS_TIMEOUT``): a check-in never waits on Redis, and an
  outage is logged once, not once per hint;
- hands each hint to this process's own sockets first (PubSubManager.emit does), so screens
  connected to the process that made the change stay live during the outage;
- retries its subscription every few seconds at most, and once it is back calls
  ``on_recovered(server)``: hints of other processes were lost meanwhile, so realtime.py then
  tells every screen of this process to refetch its state (the same refetch a reconnect does).
"""
import logging
import time

import redis
import socketio
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

CHANNEL = "flask-socketio"   # Flask-SocketIO's default channel: processes of an older release still hear us
RETRY_FIRST = 0.5            # seconds before the first resubscription attempt, doubled up to
RETRY_MAX = 5.0              # at most this between attempts, so screens resync soon after Redis returns


def client_options(timeout: float) -> dict:
    """Redis client options for anything a request waits on: short timeouts and one attempt
    (redis-py otherwise retries a timed-out command ten times)."""
    return {"socket_connect_timeout": timeout, "socket_timeout": timeout, "retry": Retry(NoBackoff(), 0)}


class RedisQueue(socketio.PubSubManager):
    name = "redis"

    def __init__(self, url, timeout=1.0, on_recovered=None, channel=CHANNEL):
        super().__init__(channel=channel)
        self.url = url
        self.timeout = timeout
        self.on_recovered = on_recovered
        self._publisher = redis.Redis.from_url(url, **client_options(timeout))
        self._publishing = True   # False while publishing fails: log the outage once

    def _publish(self, data):
        try:
            self._publisher.publish(self.channel, self.json.dumps(data))
        except Exception as exc:  # noqa: BLE001 - a hint is best-effort; the refetch makes screens right
            if self._publishing:
                self._publishing = False
                log.warning("Redis unreachable, live hints reach only this process's screens: %s", exc)
            return
        if not self._publishing:
            self._publishing = True
            log.info("Redis reachable again, publishing live hints")

    def _listen(self):
        """Yield every message on the channel; never ends. Reconnects after any error."""
        delay, lost = RETRY_FIRST, False
        while True:
            client = pubsub = None
            try:
                # No read timeout here (the subscription is idle most of the time); a stopped
                # Redis closes the connection, which ends listen() with an error at once.
                client = redis.Redis.from_url(self.url, socket_connect_timeout=self.timeout,
                                              socket_keepalive=True, retry=Retry(NoBackoff(), 0))
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                if lost:
                    lost = False
                    log.info("Redis reachable again, live hints from other processes resume")
                    self._recovered()
                delay = RETRY_FIRST
                for message in pubsub.listen():
                    if message.get("type") == "message":
                        yield message["data"]
            except Exception as exc:  # noqa: BLE001
                if not lost:
                    lost = True
                    log.warning("Redis unreachable, retrying the live-hint subscription: %s", exc)
            finally:
                for resource in (pubsub, client):
                    try:
                        if resource is not None:
                            resource.close()
                    except Exception:  # noqa: BLE001 - closing a dead connection
                        pass
            time.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)

    def _recovered(self):
        if self.on_recovered is None:
            return
        try:
            self.on_recovered(self.server)
        except Exception:  # noqa: BLE001 - the listener must keep listening
            log.exception("resync after the Redis outage failed")
