"""The service history (顾客服务档案, /history): search, a vehicle's and a customer's timeline, exports."""
from flask import Blueprint

from ..roles import ADVISOR
from ..security import roles_required

bp = Blueprint("history", __name__, url_prefix="/history")


@bp.get("/")
@roles_required(ADVISOR)
def search():
    return "history", 200
