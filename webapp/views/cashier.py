"""Settlement at the cashier's desk (/cashier): bills to settle, payments, invoices, credit notes."""
from flask import Blueprint

from ..roles import CASHIER
from ..security import roles_required

bp = Blueprint("cashier", __name__, url_prefix="/cashier")


@bp.get("/")
@roles_required(CASHIER)
def queue():
    return "cashier", 200
