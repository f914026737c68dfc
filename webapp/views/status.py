"""Customer status page (/t/<token>). STUB — to be built."""
from flask import Blueprint

bp = Blueprint("status", __name__)


@bp.get("/t/<token>")
def page(token):
    return "status"
