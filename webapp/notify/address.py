"""Customer addresses for notices (pure): an e-mail address as typed at the desk."""
import re

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def parse_email(raw: str | None) -> str | None:
    """The address, trimmed and with a lower-case domain, or None when it is not one."""
    value = (raw or "").strip()
    if not value or len(value) > 254 or not _EMAIL.match(value):
        return None
    local, _, domain = value.rpartition("@")
    if len(local) > 64 or local.startswith(".") or local.endswith(".") or ".." in local:
        return None
    if not re.search(r"\.[A-Za-z]{2,}$|\.xn--[A-Za-z0-9-]+$", domain):
        return None
    return f"{local}@{domain.lower()}"
