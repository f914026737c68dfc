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
LIGHTS = {
    "engine": _l("Engine"), "abs": _l("ABS"), "airbag": _l("Airbag"), "oil": _l("Oil pressure"),
    "battery": _l("Battery"), "brake": _l("Brake"), "tpms": _l("Tyre pressure"), "coolant": _l("Coolant"),
    "other": _l("Other"),
}
ACCESSORIES = {
    "spare_tyre": _l("Spare tyre"), "jack_tools": _l("Jack and tools"), "warning_triangle": _l("Warning triangle"),
    "fire_extinguisher": _l("Fire extinguisher"), "first_aid": _l("First-aid kit"),
    "charging_cable": _l("Charging cable"), "floor_mats": _l("Floor mats"), "sd_card": _l("Navigation SD card"),
}
DAMAGE_KINDS = {"scratch": _l("Scratch"), "dent": _l("Dent"), "crack": _l("Crack"), "chip": _l("Chip"),
                "other": _l("Other")}
ZONES = {
    "front_bumper": _l("Front bumper"), "bonnet": _l("Bonnet"), "windscreen": _l("Windscreen"), "roof": _l("Roof"),
    "rear_window": _l("Rear window"), "boot": _l("Boot lid"), "rear_bumper": _l("Rear bumper"),
    "left_front_wing": _l("Left front wing"), "left_front_door": _l("Left front door"),
    "left_rear_door": _l("Left rear door"), "left_rear_wing": _l("Left rear wing"), "left_mirror": _l("Left mirror"),
    "right_front_wing": _l("Right front wing"), "right_front_door": _l("Right front door"),
    "right_rear_door": _l("Right rear door"), "right_rear_wing": _l("Right rear wing"),
    "right_mirror": _l("Right mirror"), "left_front_wheel": _l("Left front wheel"),
    "left_rear_wheel": _l("Left rear wheel"), "right_front_wheel": _l("Right front wheel"),
    "right_rear_wheel": _l("Right rear wheel"),
}
WARRANTY = {"covered": _l("Covered by warranty"), "not_covered": _l("Not covered"),
            "undetermined": _l("Undetermined")}
DIAGNOSIS = {"clear": _l("Clear now"), "needs_diagnosis": _l("Needs diagnosis")}
REQUEST_STATUS = {"pending": _l("Waiting for the manufacturer"), "approved": _l("Approved by the manufacturer"),
                  "rejected": _l("Rejected by the manufacturer")}


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


def _label(table):
    return lambda code: str(table.get(code, code))


def fromjson(value):
    import json
    return json.loads(value) if value else []


def join_list(items, label=None) -> str:
    """A list in running text: 甲、乙、丙 in Chinese, "a, b, c" in English; ``label`` words each code."""
    from flask_babel import get_locale
    sep = ", " if str(get_locale() or "").startswith("en") else "、"
    return sep.join(str(label(i) if label else i) for i in items)


def line_name(line, locale=None) -> str:
    """An estimate or bill line's name in the reader's language.

    Lines copy the catalogue's Chinese name when added (the papers and the bill keep what was
    agreed); while that copy is unchanged, the catalogue's own English name is the right reading
    for an English reader. A description the advisor typed or edited stays exactly as typed."""
    from flask_babel import get_locale
    locale = str(locale or get_locale() or "")
    for ref in (getattr(line, "operation", None), getattr(line, "part", None)):
        if ref is not None and line.description == ref.name_zh:
            return ref.name(locale)
    return line.description


def yuan(amount) -> str:
    """An amount in yuan the way the reader's language writes it (Babel: ¥1,234.50 / CN¥1,234.50)."""
    from flask_babel import format_currency
    return format_currency(amount if amount is not None else 0, "CNY")


def register(app):
    app.jinja_env.filters["fromjson"] = fromjson
    app.jinja_env.globals["yuan"] = yuan
    app.jinja_env.filters["join_list"] = join_list
    app.jinja_env.filters["line_name"] = line_name
    app.jinja_env.globals.update(
        light_label=_label(LIGHTS), accessory_label=_label(ACCESSORIES), damage_label=_label(DAMAGE_KINDS),
        zone_label=_label(ZONES), warranty_label=_label(WARRANTY), diagnosis_label=_label(DIAGNOSIS),
        request_label=_label(REQUEST_STATUS))
    app.jinja_env.globals.update(state_label=state_label, reason_label=reason_label,
                                 kind_label=kind_label, desk_label=desk_label,
                                 format_desk=desk_label)
