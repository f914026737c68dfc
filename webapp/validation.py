"""Plate and mobile-number rules of mainland China (pure functions, unit-tested by table), and the
one exception that carries bad input from any service or rule back to the view."""
import re
from dataclasses import dataclass


class Invalid(Exception):
    """Bad input: ``errors`` maps a field name to a message code (words in ``webapp.messages``).
    Views catch this one exception and show each message next to its field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(f"{k}={v}" for k, v in errors.items()))
        self.errors = dict(errors)

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Letters on plates never include I or O (they would read as 1 and 0).
_L = "A-HJ-NP-Z"
_STANDARD = re.compile(rf"^[{PROVINCES}][{_L}][{_L}0-9]{{4}}[{_L}0-9挂学警港澳领]$")
# New-energy plates: six characters after the city letter, D or F (electric / hybrid) first or last.
_NEW_ENERGY = re.compile(rf"^[{PROVINCES}][{_L}](?:[DF][{_L}0-9][0-9]{{4}}|[0-9]{{5}}[DF])$")
_SEPARATORS = re.compile(r"[\s·\.\-•・]+")


@dataclass(frozen=True)
class Plate:
    value: str      # normalised: upper case, no separators
    kind: str       # "standard", "new_energy" or "other"

    @property
    def is_chinese(self) -> bool:
        return self.kind != "other"


def normalise_plate(raw: str) -> str:
    return _SEPARATORS.sub("", (raw or "").strip()).upper()


def parse_plate(raw: str) -> Plate | None:
    """Classify a plate. ``None`` when it cannot be a plate at all (empty, too short or long,
    odd characters); ``kind == "other"`` for a plausible plate that is not a Chinese civil format
    (foreign, temporary…), which the kiosk accepts with a warning."""
    value = normalise_plate(raw)
    if _STANDARD.match(value):
        return Plate(value, "standard")
    if _NEW_ENERGY.match(value):
        return Plate(value, "new_energy")
    if 3 <= len(value) <= 12 and re.fullmatch(r"[0-9A-Z\u4e00-\u9fff]+", value):
        return Plate(value, "other")
    return None


def mask_plate(plate: str) -> str:
    """京A12345 -> 京A·***45: enough for the customer to recognise the car, not to identify it."""
    value = normalise_plate(plate)
    if len(value) < 4:
        return "***"
    return f"{value[:2]}·***{value[-2:]}"


_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


def normalise_mobile(raw: str) -> str:
    value = re.sub(r"[\s\-()]+", "", (raw or "").strip())
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    elif value.startswith("86") and len(value) == 13:
        value = value[2:]
    return value


def parse_mobile(raw: str) -> str | None:
    """A mainland mobile number (11 digits, starting 1 and a network digit 3–9) or ``None``."""
    value = normalise_mobile(raw)
    return value if _MOBILE.match(value) else None


def mask_mobile(mobile: str) -> str:
    value = normalise_mobile(mobile)
    return f"{value[:3]}****{value[-4:]}" if len(value) == 11 else "****"


# VIN (车架号): 17 characters, never I, O or Q. Position 9 is a check digit (ISO 3779 / GB 16735);
# some imports do not follow it, so a mismatch is a warning, not a refusal.
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_VIN_VALUES = {**{str(d): d for d in range(10)},
               **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9,
               **dict(zip("STUVWXYZ", range(2, 10)))}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


@dataclass(frozen=True)
class Vin:
    value: str
    check_ok: bool


def vin_check_digit(vin: str) -> str:
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS))
    rest = total % 11
    return "X" if rest == 10 else str(rest)


def parse_vin(raw: str) -> Vin | None:
    value = re.sub(r"\s+", "", raw or "").upper()
    if not _VIN.match(value):
        return None
    return Vin(value, vin_check_digit(value) == value[8])
