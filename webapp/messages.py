"""Words for the codes that services raise, shown next to the field they concern.

Shared by the staff views (intake, estimate) so that one refusal reads the same everywhere."""
from flask import current_app
from flask_babel import gettext as _


def error_text(code: str) -> str:
    """Words for the codes services use, next to the field they concern."""
    return {
        "mobile_invalid": _("Enter an 11-digit mobile number starting with 1."),
        "email_invalid": _("Enter an e-mail address such as name@example.com, or leave it empty."),
        "plate_invalid": _("Enter a plate number, e.g. 京A12345."),
        "vin_invalid": _("A VIN has 17 letters and digits, without I, O or Q."),
        "year_invalid": _("Enter a year between 1950 and 2100."),
        "warranty_years_invalid": _("Enter 0 to 30 years."),
        "warranty_km_invalid": _("Enter 0 to 2,000,000 km."),
        "date_invalid": _("Enter a date as YYYY-MM-DD."),
        "range": _("Enter the odometer reading in km (0 to 2,000,000)."),
        "lower_needs_reason": _("Lower than the last visit: explain why (e.g. instrument cluster replaced)."),
        "fuel_invalid": _("Choose the fuel level."),
        "zone_invalid": _("Tap a part of the car first."),
        "kind_invalid": _("Choose the kind of damage."),
        "too_large": _("The photo is too large (at most 10 MB)."),
        "too_many_pixels": _("The photo has too many pixels (at most %(mp)s megapixels): take it at a lower resolution.",
                                mp=current_app.config["UPLOAD_MAX_PIXELS"] // 1_000_000),
        "not_image": _("This file is not a photo."),
        "type": _("Use a JPEG, PNG or WebP photo."),
        "signature_missing": _("Ask the customer to sign in the box."),
        "required": _("Required."),
        "invalid": _("Choose one of the options."),
        "covers": _("Fit the seat cover, steering-wheel cover and floor mat first."),
        "mileage": _("Enter the mileage (with a reason if it is lower than last time)."),
        "fuel": _("Choose the fuel level."),
        "valuables": _("Ask the customer about valuables: list what stays in the car, or choose None."),
        "signature": _("The customer has not signed the current form."),
        "concerns": _("Record at least one customer concern."),
        "form_changed": _("The form changed while the customer was signing: show it again and sign anew."),
        "inspection_not_open": _("The inspection is closed for this visit."),
        "interview_not_open": _("The interview is closed for this visit."),
        "request_pending": _("A request to the manufacturer is already pending."),
        "request_decided": _("This request was already decided."),
        "concern_has_request": _("A concern sent to the manufacturer cannot be deleted."),
        "mark_not_found": _("This mark no longer exists."),
        "suggestion_gone": _("Nothing left to link: the visit is already linked, or the stored record changed."),
    }.get(code, code)
