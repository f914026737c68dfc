"""Rendered pages kept per (what they show, the site's change sequence).

Status pages are mostly idle: a car in the workshop for hours is looked at and polled again
and again while nothing changes. Each entry's key holds the site's ``change_seq`` (bumped in the
transaction of every change, see webapp/changes.py), so a change anywhere at the site makes
the next request render afresh; nothing is ever invalidated by hand. Per-session parts (the
CSRF token) are rendered as a placeholder and filled in per request.
"""
from collections import OrderedDict
from threading import Lock

from flask_wtf.csrf import generate_csrf

CSRF_PLACEHOLDER = "\x00csrf\x00"


class RenderCache:
    def __init__(self, size: int = 4096):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = Lock()
        self.hits = self.misses = 0

    def get_or_render(self, key, render) -> str:
        with self._lock:
            html = self._items.get(key)
            if html is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return html
        html = render()
        with self._lock:
            self.misses += 1
            self._items[key] = html
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return html

    def clear(self):
        with self._lock:
            self._items.clear()


def placeholder_csrf():
    """Use as ``csrf_token`` in a template context that is rendered for the cache."""
    return CSRF_PLACEHOLDER


def with_csrf(html: str) -> str:
    return html.replace(CSRF_PLACEHOLDER, generate_csrf()) if CSRF_PLACEHOLDER in html else html
