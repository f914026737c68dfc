"""Delivery on the advisor's visit page (/advisor/visits/<id>/delivery…): the handover checklist
and the customer's signature; ready-for-pickup notices go out through webapp/notify."""
from flask import Blueprint

bp = Blueprint("delivery", __name__, url_prefix="/advisor")
