"""Reading whole numbers from admin forms, with the field's error code on bad input."""


def int_field(data, name, errors, low, high, code, required=False):
    """The integer in ``data[name]`` within [low, high]; None (and ``errors[name]`` set to "required"
    or ``code``) when missing or out of range. Thousands separators are accepted."""
    raw = str(data.get(name) or "").strip().replace(",", "")
    if not raw:
        if required:
            errors[name] = "required"
        return None
    try:
        value = int(raw)
    except ValueError:
        errors[name] = code
        return None
    if not low <= value <= high:
        errors[name] = code
        return None
    return value
