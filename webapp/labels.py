"""Human words for the codes kept in the database, in the request's language.

Registered as Jinja globals so that templates and their HTMX blocks (rendered alone, without
the template's imports) use the same words."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

STATES = {
    "waiting": _l("Waiting"), "called": _l("Called"), "no_show": _l("No-show"), "reception": _l("At the desk"),
    "inspection": _l("Walk-around inspection"), "interview": _l("Interview"), "estimate": _l("Estimate"),
    "authorisation": _l("Awaiting authorisation"), "dispatch": _l("Waiting for technician"),
    "repair": _l("In repair"), "qc": _l("Quality inspection"), "wash": _l("Car wash"),
    "ready": _l("Ready for pickup"), "delivered": _l("Delivered"), "followed_up": _l("Followed up"),
    "cancelled": _l("Cancelled"),
}
REASONS = {
    "maintenance": _l("Maintenance"), "repair": _l("Repair"), "warranty": _l("Warranty"),
    "bodywork": _l("Bodywork"), "other": _l("Other"),
}
KINDS = {"appointment": _l("Appointment"), "walkin": _l("Walk-in")}


def state_label(code):
    return str(STATES.get(code, code))


def reason_label(code):
    return str(REASONS.get(code, code))


def kind_label(code):
    return str(KINDS.get(code, code))


def desk_label(desk):
    """'3' → '3号服务台' / 'Desk 3'; a free-text desk name is shown as it is."""
    if desk and str(desk).isdigit():
        return _("Desk %(n)s", n=desk)
    return desk or ""


def register(app):
    app.jinja_env.globals.update(state_label=state_label, reason_label=reason_label,
                                 kind_label=kind_label, desk_label=desk_label,
                                 format_desk=desk_label)
