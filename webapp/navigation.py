"""The staff screens menu in every staff page's header: the screens the signed-in role may open.

Only a convenience: every route checks the role itself (security.roles_required)."""
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from .roles import ADVISOR, CASHIER, CSI, DISPATCHER, PARTS, QC, SUPERVISORS, TECHNICIAN

# endpoint, label, roles that may open it (supervisors may open every screen)
SCREENS = (
    ("advisor.console", _l("Reception"), (ADVISOR,)),
    ("appointments.day", _l("Appointments"), (ADVISOR,)),
    ("workshop.dispatch", _l("Workshop dispatch"), (DISPATCHER,)),
    ("workshop.qc_page", _l("Quality inspection"), (QC, DISPATCHER)),
    ("tech.tablet", _l("My jobs"), (TECHNICIAN,)),
    ("cashier.queue", _l("Cashier"), (CASHIER,)),
    ("followup.queue", _l("Follow-up calls"), (CSI,)),
    ("followup.complaints", _l("Complaints"), (CSI,)),
    ("history.search", _l("Service history"), (ADVISOR, CASHIER, CSI)),
    ("parts.desk", _l("Parts to issue"), (PARTS, DISPATCHER)),
    ("catalogue.index", _l("Catalogue and stock"), (PARTS, ADVISOR)),
    ("reports.index", _l("Reports"), ()),
    ("reports.my_day", _l("My day"), (ADVISOR,)),
    ("settings.site", _l("Site settings"), ()),
)


def screens_for(user) -> list[tuple[str, str]]:
    """(url, label) of the screens ``user`` may open, in a fixed order."""
    if not getattr(user, "is_authenticated", False):
        return []
    known = current_app.view_functions
    return [(url_for(endpoint), str(label)) for endpoint, label, roles in SCREENS
            if endpoint in known and (user.role in roles or user.role in SUPERVISORS)]


def register(app):
    app.jinja_env.globals["staff_screens"] = screens_for
