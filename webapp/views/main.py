"""The start page: where each screen lives, for whoever sets up the shop's devices."""
from flask import Blueprint, render_template

bp = Blueprint("main", __name__)


@bp.get("/start")
def index():
    return render_template("main/index.html")
