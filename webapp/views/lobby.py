"""Lobby calling display (/lobby). STUB."""
from flask import Blueprint

bp = Blueprint("lobby", __name__)


@bp.get("/lobby")
def display():
    return "lobby"
