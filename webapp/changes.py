"""A per-site change sequence, bumped in the same transaction as every change of the site's data.

After each flush the session notes which sites its new, changed or deleted rows belong to; just
before the commit one UPDATE bumps ``site.change_seq`` for them. Being the last statement of the
transaction keeps its row lock short (PostgreSQL) and the lock order the same for everyone.
Readers compare the value with what they rendered last (see webapp/rendercache.py)."""
from sqlalchemy import bindparam, event, update
from sqlalchemy.orm import Session

from .models import Site

KEY = "servicelane.changed_sites"

# Built once (it runs in every writing transaction); a Core UPDATE, as the ORM one it replaces
# was with synchronize_session=False: objects in the session are not touched.
_SITE = Site.__table__
_BUMP = (update(_SITE).where(_SITE.c.id.in_(bindparam("ids", expanding=True)))
         .values(change_seq=_SITE.c.change_seq + 1))


def bumped(session, site_id: int) -> None:
    """The caller bumped ``site_id``'s sequence itself, in its transaction's last statement (a
    customer's decision, which moves the site's approval chain in the same UPDATE): the commit
    does not bump it again. Call it after the last flush."""
    session.info.get(KEY, set()).discard(site_id)


@event.listens_for(Session, "after_flush")
def _note_sites(session, _flush_context):
    sites = session.info.setdefault(KEY, set())
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Site):
            continue
        site_id = getattr(obj, "site_id", None)
        if site_id is not None:
            sites.add(site_id)


@event.listens_for(Session, "before_commit")
def _bump(session):
    session.flush()  # commit flushes after this event: do it now so its rows are counted
    sites = session.info.pop(KEY, None)
    if sites:
        session.execute(_BUMP, {"ids": sorted(sites)})


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(KEY, None)
