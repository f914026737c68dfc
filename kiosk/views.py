"""Lobby kiosk (/kiosk). STUB — to be built."""
from flask import Blueprint

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")


@bp.get("")
def start():
    return "kiosk"
