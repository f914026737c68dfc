"""Advisor console (/advisor). STUB."""
from flask import Blueprint

bp = Blueprint("advisor", __name__, url_prefix="/advisor")


@bp.get("")
def console():
    return "advisor"
