"""WSGI entry point for gunicorn: ``gunicorn -w 1 --threads 100 webapp.wsgi:app``."""
from . import create_app

app = create_app()
