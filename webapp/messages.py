"""The one registry of refusal codes -> words, shown next to the field they concern.

Services and pure rules raise ``validation.Invalid({field: code})`` or ``ServiceError(code)``;
every view turns the code into words here, so one refusal reads the same on every screen and
a code means one thing only (a code whose words differ per screen gets its own name)."""
from flask import current_app
from flask_babel import gettext as _


def _intake(kw) -> dict:
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
        "too_long": _("Too long."),
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
        # Reached only by a stale page or a crafted request; they used to show the bare code.
        "concern_not_found": _("This page does not exist."),
        "request_not_found": _("This page does not exist."),
        "vehicle_not_found": _("No vehicle found."),
        "document_unknown": _("Choose one of the options."),
        "readiness_item_unknown": _("Choose one of the options."),
    }


def _estimate(kw) -> dict:
    return {
        "line_kind_invalid": _("Choose labour, part or diagnosis."),
        "hours_invalid": _("Enter hours between 0.1 and 99, at most two decimals."),
        "line_quantity_invalid": _("Enter a quantity between 0.01 and 999, at most two decimals."),
        "price_invalid": _("Enter an amount between 0 and 1,000,000, at most two decimals."),
        "discount_invalid": _("Enter a discount between 0 and 100 %, at most two decimals."),
        "part_invalid": _("Choose a part from the list."),
        "lines_required": _("Add at least one line before presenting the estimate."),
        "repair_order_required": _("Save the repair order terms before presenting the estimate."),
        "stale_version": _("The estimate changed: show the new version to the customer."),
        "already_decided": _("The customer has already decided on this version."),
        "not_presented": _("Present the estimate to the customer first."),
        "estimate_closed": _("The estimate cannot be changed at this stage."),
        "line_not_found": _("This line no longer exists."),
        "recommendation_gone": _("This recommendation is no longer open."),
        "decide_every_line": _("Approve or decline every line."),
    }


def _delivery(kw) -> dict:
    return {
        "tick": _("Tick this item with the customer first."),
        "delivery_signature": _("The customer has not signed the checklist as it stands."),
        "checklist_changed": _("The checklist changed while the customer was signing: show it again and sign anew."),
        "delivery_not_ready": _("The handover is only possible while the car is ready for pickup."),
        "delivery_completed": _("The handover is already completed."),
        "notes_too_long": _("At most 2,000 characters."),
        "delivery_item_unknown": _("Choose one of the options."),
    }


def _bill(kw) -> dict:
    return {
        "amount_required": _("Enter an amount."),
        "amount_not_number": _("Enter the amount in figures, e.g. 100 or 100.50."),
        "amount_not_positive": _("The amount must be more than zero."),
        "amount_decimals": _("At most two decimals (fen)."),
        "amount_too_large": _("This amount is too large."),
        "over_balance": _("More than the balance of %(balance)s: only cash may be tendered above it.",
                          balance=kw.get("balance", "")),
        "already_paid": _("Nothing is left to pay on this bill."),
        "method_invalid": _("Choose a payment method."),
        "company_name_required": _("Enter the name of the company."),
        "note_required": _("Write a note: why the issued quantity is charged."),
        "customer_agreement_required": _("A part that was never approved is charged only when the customer agreed: "
                                         "tick it and say so in the note."),
        "resolution_invalid": _("Choose: keep the approved quantity or charge what was issued."),
        "reason_required": _("Give the reason for the credit note."),
        "over_credit": _("More than what is left to credit (%(left)s).", left=kw.get("left", "")),
        "nothing_to_credit": _("Everything on this bill has been credited already."),
        "bill_not_ready": _("The bill is prepared when the car is ready for pickup."),
        "bill_not_prepared": _("Prepare the bill first."),
        "bill_immutable": _("This bill has been issued and can no longer be changed: correct it with a credit note."),
        "differences_open": _("Resolve every difference between approved and issued parts first."),
        "difference_not_found": _("This difference no longer exists: the bill was recomputed."),
        "bill_not_issued": _("This bill has not been issued yet."),
        "bill_settled": _("This bill is already settled."),
        "bill_unpaid": _("The bill cannot be closed before it is paid in full or put on a company account."),
        "not_an_invoice": _("Payments are recorded on invoices only."),
        "credit_needs_settled_bill": _("Only a settled bill is corrected with a credit note."),
        "bill_not_found": _("This bill does not exist."),
    }


def _catalogue(kw) -> dict:
    return {
        "code_taken": _("This code is used by another operation."),
        "number_taken": _("This part number exists already."),
        "hours_range": _("Enter 0.1 to 99 hours (at most two decimals)."),
        "price_range": _("Enter a price from 0 to 1,000,000 (at most two decimals)."),
        "rate_range": _("Enter a rate from 0.01 to 10,000 per hour."),
        "lead_days_range": _("Enter 0 to 365 days."),
        "stock_quantity_invalid": _("Enter a quantity greater than 0 (at most two decimals)."),
        "not_enough_stock": _("Not enough stock: the quantity is more than is available."),
        "visit_invalid": _("Choose a visit of this site."),
        "operation_unknown": _("Choose an existing labour operation."),
        "part_unknown": _("Choose an existing part."),
        "part_for_quantity": _("Choose the part for this quantity."),
        "make_for_model": _("Enter the make as well."),
        "km_range": _("Enter 500 to 500,000 km."),
        "months_range": _("Enter 1 to 240 months."),
        "interval_required": _("Enter a distance, a time, or both."),
        "file_missing": _("Choose a CSV file."),
        "encoding": _("The file is not UTF-8 text. Save it as \"CSV UTF-8\"."),
        "not_csv": _("The file could not be read as CSV."),
        "header_invalid": _("The first row must name the columns, as in the example."),
        "too_many_rows": _("Too many rows: at most 5000 per file."),
    }


def _settings(kw) -> dict:
    return {
        "tax_range": _("Enter a tax rate from 0 to 30 per cent (at most two decimals)."),
        "fee_range": _("Enter a fee from 0 to 100,000 (at most two decimals)."),
        "time_invalid": _("Enter a time as HH:MM, from 00:00 to 23:59."),
        "closing_before_opening": _("Closing must be later than opening."),
        "break_pair": _("Enter both the start and the end of the break, or neither."),
        "break_order": _("The break must end after it starts."),
        "break_outside": _("The break must be within the opening hours."),
        "reception_range": _("Enter 1 to 120 minutes."),
        "window_range": _("Enter 0 to 240 minutes."),
        "prefix_invalid": _("Enter one or two capital letters (A–Z)."),
        "prefix_same": _("Use a different prefix from the appointment prefix."),
        "not_technician": _("Only technicians of this site can be put on the roster."),
        "end_before_start": _("The shift must end after it starts."),
        "day_invalid": _("Choose a day."),
        "followup_days_range": _("Enter 0 to 60 days."),
        "retry_hours_range": _("Enter 1 to 168 hours."),
        "max_attempts_range": _("Enter 1 to 10 attempts."),
        "complaint_rating_range": _("Enter 0 (never) to 4 stars."),
        "complaint_due_range": _("Enter 1 to 30 days."),
        "slot_minutes_range": _("Enter 10 to 240 minutes."),
        "slot_customers_range": _("Enter 1 to 10 customers."),
        "utilisation_range": _("Enter 10 to 100 per cent."),
        "reserve_range": _("Enter 0 to 90 per cent."),
        "no_show_range": _("Enter 5 to 480 minutes."),
        "target_range": _("Enter 0 to 100 per cent."),
        "efficiency_target_range": _("Enter 0 to 300 per cent."),
        "cap_range": _("Enter hours from 0 to 999 (one decimal), or leave empty for no cap."),
        "online_hours_range": _("Enter 0.25 to 8 hours."),
        "weekday_invalid": _("Choose days of the week from the list."),
        "holiday_invalid": _("Enter dates as YYYY-MM-DD, one a line."),
    }


def _followup(kw) -> dict:
    return {
        "rating_invalid": _("Choose 1 to 5 stars."),
        "outcome_invalid": _("Choose the outcome of the call."),
        "call_already_recorded": _("This call was already recorded. The list shows where it stands now."),
        "call_stale": _("This call was already recorded. The list shows where it stands now."),
        "followup_not_found": _("This page does not exist."),
        "complaint_not_found": _("This page does not exist."),
        "complaint_closed": _("This case is resolved already."),
        "owner_invalid": _("Choose a CSI staff member or a manager of this site."),
        "complaint_note_required": _("Write the note first."),
        "text_too_long": _("Too long."),
        "resolution_required": _("Write how the case was resolved."),
    }


def _history(kw) -> dict:
    return {
        "query_required": _("Enter a plate, mobile number, VIN or name."),
        "query_too_short": _("Enter at least 2 characters."),
        "query_too_long": _("Enter at most 64 characters."),
        "query_invalid": _("Enter letters or digits of a plate, mobile number, VIN or name."),
        "date_required": _("Enter a date."),
        "range_reversed": _("The end date is before the start date."),
        "range_too_long": _("Export at most one year at a time."),
    }


def _calling(kw) -> dict:
    return {
        "finish_current_call": _("Finish the current ticket first: start the reception or mark a no-show."),
        "queue_empty": _("Nobody is waiting."),
        "ticket_not_found": _("This ticket does not exist."),
        "ticket_state_changed": _("This ticket was changed in the meantime; the list is up to date now."),
        "ticket_not_yours": _("This ticket was called by another advisor."),
        "transfer_target_invalid": _("Choose an advisor who is at work today."),
    }


def _workshop(kw) -> dict:
    return {
        "job_not_found": _("This job does not exist."),
        "visit_not_found": _("This vehicle is not in the workshop."),
        "job_move_not_allowed": _("This step is not possible now: the job has moved on. The list is up to date now."),
        "job_not_yours": _("This job is assigned to another technician."),
        "technician_invalid": _("Choose a technician of this site."),
        "bay_invalid": _("Choose a bay of this site."),
        "waiting_manufacturer": _("The job cannot start: a warranty line waits for the manufacturer's approval."),
        "waiting_customer": _("The job cannot go on: the customer has not answered yet."),
        "pause_reason_invalid": _("Choose why the job pauses."),
        "description_required": _("Describe the additional work found."),
        "not_in_qc": _("This vehicle is not waiting for quality inspection."),
        "qc_checklist_incomplete": _("Tick every checklist item before passing the vehicle."),
        "qc_reason_required": _("Give the reason why the vehicle fails inspection."),
        "not_in_wash": _("This vehicle is not in the car wash."),
        "photo_too_large": _("The photo is too large (at most 10 MB)."),
        "photo_too_many_pixels": _("The photo has too many pixels (at most %(mp)s megapixels): take it at a lower resolution.",
                                mp=current_app.config["UPLOAD_MAX_PIXELS"] // 1_000_000),
        "photo_not_image": _("This file is not a photo."),
        "photo_type": _("Use a JPEG, PNG or WebP photo."),
    }


def _appointments(kw) -> dict:
    """The staff booking desk's words (the online booking page words some of them for the
    customer: views/book.py)."""
    return {
        "advisor_invalid": _("Choose an advisor of this site."),
        "day_range": _("Choose a day from today to 60 days ahead."),
        "slot_required": _("Choose a time."),
        "slot_past": _("This time has passed: choose a later one."),
        "operation_invalid": _("Choose operations from the catalogue."),
        "vehicle_invalid": _("Find the vehicle again."),
        "plate_known": _("This plate is on file already: find it with the search above."),
        "not_booked": _("This appointment is no longer open."),
        "nothing_to_link": _("This booking is already linked to the stored records."),
        "not_a_no_show": _("This appointment is not a no-show."),
        "call_outcome_invalid": _("Choose what the call gave."),
    }


# One table per surface keeps the file readable; codes are unique across all of them
# (tests/unit/test_messages.py checks that no code is defined twice).
TABLES = (_intake, _estimate, _delivery, _bill, _catalogue, _settings, _followup, _history, _calling, _workshop,
          _appointments)


def all_texts(**kw) -> dict:
    words = {}
    for table in TABLES:
        words.update(table(kw))
    return words


def error_text(code: str, **kw) -> str:
    """Words for ``code`` in the request's language (the code itself when it has none);
    ``kw`` fills the amounts some messages quote (balance, left)."""
    for table in TABLES:
        words = table(kw)
        if code in words:
            return words[code]
    return code


def error_texts(errors: dict, **kw) -> dict:
    """{field: code} -> {field: words}."""
    return {field: error_text(code, **kw) for field, code in errors.items()}
