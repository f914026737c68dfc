"""Threaded WSGI entry point (``gunicorn -w 1 --threads 100 webapp.wsgi:app``), for a small shop or
debugging; production serves many live screens with gevent (webapp/wsgi_gevent.py, deploy/)."""
from . import create_app

app = create_app()
