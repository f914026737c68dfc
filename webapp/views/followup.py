"""Follow-up calls (/followup) and complaint cases (/complaints) for the CSI staff and the manager."""
from flask import Blueprint

from ..roles import CSI
from ..security import roles_required

bp = Blueprint("followup", __name__)


@bp.get("/followup")
@roles_required(CSI)
def queue():
    return "followup", 200
