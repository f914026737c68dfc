"""Rate limits of the customer status pages: per ticket, with a flood guard per address.

A shop's lounge Wi-Fi puts fifty phones behind one address, so counting status views and PIN
tries per address refused the eleventh customer. Each ticket (its token in the URL) gets its own
count instead, and the address only a generous guard shared by every status route, which still
stops one machine hammering the server. (PINs are also locked per ticket after a few failures in
the database: services/status_access.py.) Which address is the client's follows PROXY_HOPS.
"""
import hashlib

from flask import current_app, request

from .extensions import limiter


def ticket_key() -> str:
    # Hashed: the token is a capability and must not sit in Redis keys or its logs.
    token = (request.view_args or {}).get("token", "")
    return "ticket:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def _address_limit():
    return current_app.config["RATELIMIT_STATUS_ADDRESS"]


_address_guard = limiter.shared_limit(_address_limit, scope="status-address")


def per_ticket(limit_provider):
    """``@per_ticket(provider)``: ``provider()`` per ticket on this route, plus the address guard."""
    def decorate(view):
        return _address_guard(limiter.limit(limit_provider, key_func=ticket_key)(view))
    return decorate
