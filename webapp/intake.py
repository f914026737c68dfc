"""Rules of the walk-around inspection and interview (pure Python, no Flask).

What the vehicle intake form (接车登记表) holds, when it may be completed, the canonical content
that a customer's signature covers, and the warranty suggestion for a concern."""
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

FUEL_LEVELS = ("E", "1/4", "1/2", "3/4", "F")
WARNING_LIGHTS = ("engine", "abs", "airbag", "oil", "battery", "brake", "tpms", "coolant", "other")
ACCESSORIES = ("spare_tyre", "jack_tools", "warning_triangle", "fire_extinguisher", "first_aid",
               "charging_cable", "floor_mats", "sd_card")
DAMAGE_KINDS = ("scratch", "dent", "crack", "chip", "other")
# Zones of the top-view car diagram (templates/intake/car_map.html uses these ids).
DAMAGE_ZONES = (
    "front_bumper", "bonnet", "windscreen", "roof", "rear_window", "boot", "rear_bumper",
    "left_front_wing", "left_front_door", "left_rear_door", "left_rear_wing", "left_mirror",
    "right_front_wing", "right_front_door", "right_rear_door", "right_rear_wing", "right_mirror",
    "left_front_wheel", "left_rear_wheel", "right_front_wheel", "right_rear_wheel",
)
DIAGNOSIS = ("clear", "needs_diagnosis")
WARRANTY = ("covered", "not_covered", "undetermined")
MAX_MILEAGE = 2_000_000


@dataclass
class IntakeSnapshot:
    """What the customer signs: every field of the form and every damage mark."""
    plate: str
    vin: str | None
    covers: tuple[bool, bool, bool]
    mileage: int | None
    mileage_reason: str | None
    fuel_level: str | None
    warning_lights: list[str] = field(default_factory=list)
    accessories: list[str] = field(default_factory=list)
    valuables: str | None = None
    valuables_left: bool | None = None   # None: not asked; False: "none"; True: the items in valuables
    marks: list[tuple[str, str, str]] = field(default_factory=list)   # (zone, kind, note)
    photos: list[str] = field(default_factory=list)                   # SHA-256 of each photo


def content_hash(snapshot: IntakeSnapshot) -> str:
    """SHA-256 of a canonical JSON of the form, so a signature proves what was signed."""
    data = {
        "plate": snapshot.plate, "vin": snapshot.vin, "covers": list(snapshot.covers),
        "mileage": snapshot.mileage, "mileage_reason": snapshot.mileage_reason or None,
        "fuel_level": snapshot.fuel_level, "warning_lights": sorted(snapshot.warning_lights),
        "accessories": sorted(snapshot.accessories), "valuables": snapshot.valuables or None,
        "marks": [list(m) for m in snapshot.marks], "photos": sorted(snapshot.photos),
    }
    if snapshot.valuables_left is not None:
        # Only once answered, so forms signed before the answer existed keep their fingerprint.
        data["valuables_left"] = snapshot.valuables_left
    raw = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def valuables_answered(left: bool | None, valuables: str | None) -> bool:
    """The intake form must say what the customer left in the car, or say "none" explicitly:
    the handover later confirms exactly this list, so silence cannot stand for "nothing"."""
    if left is None:
        return False
    return not left or bool((valuables or "").strip())


def valuables_recorded(left: bool | None, valuables: str | None) -> str | None:
    """The list the handover confirms: the items typed (also on forms from before the explicit
    answer), None when the answer was "none" or nothing was recorded."""
    return None if left is False else ((valuables or "").strip() or None)


def mileage_problem(new: int | None, last: int | None, reason: str | None) -> str | None:
    """None when acceptable; else a code: 'required', 'range', 'lower_needs_reason'."""
    if new is None:
        return "required"
    if new < 0 or new > MAX_MILEAGE:
        return "range"
    if last is not None and new < last and not (reason or "").strip():
        return "lower_needs_reason"
    return None


def completion_problems(covers: tuple[bool, bool, bool], mileage_issue: str | None,
                        fuel_level: str | None, signed_current: bool, valuables_ok: bool) -> list[str]:
    """Why the inspection cannot be completed yet (empty list: it can)."""
    problems = []
    if not all(covers):
        problems.append("covers")
    if mileage_issue:
        problems.append("mileage")
    if fuel_level not in FUEL_LEVELS:
        problems.append("fuel")
    if not valuables_ok:
        problems.append("valuables")
    if not signed_current:
        problems.append("signature")
    return problems


def warranty_suggestion(reason: str, warranty_start: date | None, years: int | None, km: int | None,
                        mileage: int | None, today: date) -> str:
    """Suggested warranty status for a concern, from the vehicle's terms and the visit reason.

    Maintenance and bodywork are never warranty (wear items, accidents). For a fault, within
    both the time and the distance of the terms → covered; past either → not covered; terms
    or mileage unknown → undetermined (the advisor asks, or sends it to the manufacturer)."""
    if reason in ("maintenance", "bodywork"):
        return "not_covered"
    if warranty_start is None or not years or not km or mileage is None:
        return "undetermined"
    try:
        end = warranty_start.replace(year=warranty_start.year + years)
    except ValueError:  # 29 February
        end = warranty_start.replace(year=warranty_start.year + years, day=28)
    if today > end or mileage > km:
        return "not_covered"
    return "covered"
