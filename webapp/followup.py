"""When follow-up calls are due, and what a rating means. Pure: no Flask, no database."""
from datetime import datetime, timedelta


def first_due(delivered_at: datetime, days: int) -> datetime:
    """The first call is due ``days`` after delivery (the seeds: typically within 3 days)."""
    return delivered_at + timedelta(days=max(0, int(days)))
