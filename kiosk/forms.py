"""What the kiosk forms carry, and the messages shown next to a field.

Plain dataclasses rather than WTForms: every control is custom (on-screen keyboards, reason
tiles), and a re-rendered form must keep exactly what was typed. The services stay the authority
on the rules; the kiosk checks every field up front only so that all problems show at once."""
import re
import uuid
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from webapp.services.checkin import REASONS
from webapp.validation import normalise_plate, parse_mobile, parse_plate

# Service error codes (webapp.services.ServiceError.message) → what the customer reads.
MESSAGES = {
    "plate_invalid": _l("Enter the plate number, for example 京A12345."),
    "plate_other": _l("This is not a Chinese plate format. Check it, then tap “The plate is correct”."),
    "mobile_invalid": _l("Enter an 11-digit mobile number starting with 1."),
    "reason_invalid": _l("Choose what you are here for."),
    "consent_required": _l("Please accept the notice on data use to continue."),
    "query_invalid": _l("Enter a plate number or an 11-digit mobile number."),
    "appointment_not_found": _l("We could not find this appointment. Please check in as a walk-in."),
    "appointment_not_open": _l("This appointment has already been checked in or cancelled. "
                               "Please ask at the service desk."),
    # Deliberately one message for every wrong proof: which part was wrong would hint at the booking.
    "proof_mismatch": _l("This does not match the appointment. Check it and try again, or ask at the service desk."),
    "proof_plate_invalid": _l("Enter the whole plate number, for example 京A12345."),
    "proof_mobile_invalid": _l("Enter the last 4 digits of the mobile number you booked with."),
}

REASON_LABELS = {
    "maintenance": _l("Maintenance"),
    "repair": _l("Repair"),
    "warranty": _l("Warranty"),
    "bodywork": _l("Bodywork & paint"),
    "other": _l("Other"),
}
REASON_HINTS = {
    "maintenance": _l("Oil change, inspection"),
    "repair": _l("Fault, noise, warning light"),
    "warranty": _l("Covered by the manufacturer"),
    "bodywork": _l("Scratches, dents, accident"),
    "other": _l("Anything else"),
}
assert set(REASON_LABELS) == set(REASONS)

# Quick phrases for the optional description: the kiosk has no keyboard for free text.
CONCERNS = (
    _l("Warning light on"),
    _l("Strange noise"),
    _l("Air conditioning"),
    _l("Brakes"),
    _l("Tyres"),
    _l("Battery / won't start"),
    _l("Oil change"),
    _l("Car wash"),
)

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def new_key() -> str:
    return str(uuid.uuid4())


def clean_key(raw: str | None) -> str | None:
    """The form's idempotency key if it is one we could have issued (a uuid4), else None."""
    value = (raw or "").strip().lower()
    return value if _UUID.match(value) else None


@dataclass
class WalkinForm:
    plate: str = ""
    mobile: str = ""
    reason: str = ""
    description: str = ""
    consent: bool = False
    plate_confirmed: str = ""   # the plate the customer confirmed after the "not Chinese" warning
    key: str = field(default_factory=new_key)
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_form(cls, form) -> "WalkinForm":
        return cls(
            plate=(form.get("plate") or "").strip()[:20],
            mobile=(form.get("mobile") or "").strip()[:20],
            reason=(form.get("reason") or "").strip()[:20],
            description=(form.get("description") or "").strip()[:500],
            consent=form.get("consent") in ("1", "on", "yes", "true"),
            plate_confirmed=normalise_plate(form.get("plate_confirmed") or "")[:20],
            key=clean_key(form.get("key")) or new_key(),
        )

    @property
    def plate_normalised(self) -> str:
        return normalise_plate(self.plate)

    @property
    def plate_kind(self) -> str | None:
        parsed = parse_plate(self.plate)
        return parsed.kind if parsed else None

    @property
    def plate_needs_confirmation(self) -> bool:
        return self.plate_kind == "other" and self.plate_confirmed != normalise_plate(self.plate)

    def validate(self) -> bool:
        """Every problem at once, keyed by field. A non-Chinese plate counts as a problem until
        the customer confirms it (the warning offers the button)."""
        errors = {}
        kind = self.plate_kind
        if kind is None:
            errors["plate"] = "plate_invalid"
        elif self.plate_needs_confirmation:
            errors["plate"] = "plate_other"
        if self.mobile and parse_mobile(self.mobile) is None:   # optional, but a number if typed
            errors["mobile"] = "mobile_invalid"
        if self.reason not in REASONS:
            errors["reason"] = "reason_invalid"
        if not self.consent:
            errors["consent"] = "consent_required"
        self.errors = errors
        return not errors

    def message(self, name: str):
        code = self.errors.get(name)
        return MESSAGES.get(code, code) if code else None


@dataclass
class SearchForm:
    by: str = "plate"          # "plate" or "mobile": which keyboard the customer used
    q: str = ""
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_form(cls, form) -> "SearchForm":
        by = form.get("by") if form.get("by") in ("plate", "mobile") else "plate"
        # One input per keyboard (q_plate, q_mobile); a plain "q" works too.
        q = form.get("q") or form.get(f"q_{by}") or ""
        return cls(by=by, q=q.strip()[:20])

    def validate(self) -> bool:
        self.errors = {}
        if not self.q:
            self.errors["q"] = "query_invalid"
        elif self.by == "mobile" and parse_mobile(self.q) is None:
            self.errors["q"] = "mobile_invalid"
        elif self.by == "plate" and parse_mobile(self.q) is None and parse_plate(self.q) is None:
            self.errors["q"] = "plate_invalid"
        return not self.errors

    def message(self, name: str):
        code = self.errors.get(name)
        return MESSAGES.get(code, code) if code else None

    def carry(self) -> dict:
        """What a not-found search hands to the walk-in form, so nothing is typed twice."""
        if parse_mobile(self.q):
            return {"mobile": parse_mobile(self.q)}
        return {"plate": normalise_plate(self.q)}


@dataclass
class ProofForm:
    """"This appointment is mine": the whole plate, or the last 4 digits of the booking's mobile."""
    by: str = "plate"          # "plate" or "mobile"
    plate: str = ""
    mobile4: str = ""
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_form(cls, form) -> "ProofForm":
        by = form.get("proof_by") if form.get("proof_by") in ("plate", "mobile") else "plate"
        return cls(by=by, plate=(form.get("proof_plate") or "").strip()[:20],
                   mobile4=(form.get("proof_mobile") or "").strip()[:8])

    def validate(self) -> bool:
        """Shape only (a plate, four digits); whether it matches is the service's answer."""
        self.errors = {}
        if self.by == "plate" and parse_plate(self.plate) is None:
            self.errors["proof"] = "proof_plate_invalid"
        elif self.by == "mobile" and not (len(self.mobile4) == 4 and self.mobile4.isascii() and self.mobile4.isdigit()):
            self.errors["proof"] = "proof_mobile_invalid"
        return not self.errors

    def message(self, name: str):
        code = self.errors.get(name)
        return MESSAGES.get(code, code) if code else None
