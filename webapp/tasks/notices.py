"""Customer notices: one task per notification row. The row is claimed before the backend is
called (webapp/notify.deliver), so running this twice — a retry, a duplicate message, two
consumers — sends at most once."""
from . import app_task


@app_task()
def send_notice(notification_id: int) -> str | None:
    from ..notify import deliver
    return deliver(notification_id)
