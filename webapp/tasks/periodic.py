"""Periodic work, every five minutes in whichever consumer runs (the server's own or ``flask
worker``). Each is idempotent (conditional UPDATEs, claimed notices), so two consumers or a
late run do no harm.

- ``escalate_complaints``: open cases past their due date go to the manager, once;
- ``followups_due``: follow-up calls that became due (first call or a retry) are announced to the
  follow-up screens;
- ``sweep_notices``: notices still pending (queue unreachable when they were written, or the
  backend refused them) are sent again; a claim left behind by a crashed sender is closed as
  failed, never resent;
- ``appointment_reminders``: the day before, one reminder per booking (with the manage link);
- ``appointment_no_shows``: bookings not here the no-show window after their time are released
  and listed for a call (services/appointment_day_before);
- ``appointment_parts``: the bookings of today and tomorrow hold their parts, topped up when stock
  came, and closed ones let go (services/appointment_preparation)."""
from huey import crontab

from . import app_periodic_task

EVERY_FIVE_MINUTES = crontab(minute="*/5")


@app_periodic_task(EVERY_FIVE_MINUTES)
def escalate_complaints() -> int:
    from ..services.complaints import escalate_all
    return escalate_all()


@app_periodic_task(EVERY_FIVE_MINUTES)
def followups_due() -> int:
    from ..services.followup import announce_due
    return announce_due()


@app_periodic_task(EVERY_FIVE_MINUTES)
def sweep_notices() -> int:
    from ..notify import sweep
    return sweep()


@app_periodic_task(EVERY_FIVE_MINUTES)
def appointment_reminders() -> int:
    from ..services.appointment_day_before import send_reminders
    return send_reminders()


@app_periodic_task(EVERY_FIVE_MINUTES)
def appointment_no_shows() -> int:
    from ..services.appointment_day_before import mark_no_shows
    return mark_no_shows()


@app_periodic_task(EVERY_FIVE_MINUTES)
def appointment_parts() -> int:
    from ..services.appointment_preparation import prepare_due
    return prepare_due()
