"""Every committed change of a site's data bumps that site's change sequence, once per
transaction; other sites and rolled-back work leave it alone."""
from webapp.models import Site
from webapp.services import calling


def seq(db, site):
    db.session.expire_all()
    return db.session.get(Site, site.id).change_seq


def test_bumped_by_changes_of_the_site_only(factory, db):
    site, other = factory.site(), factory.site()
    advisor = factory.user(site, "advisor")
    before, other_before = seq(db, site), seq(db, other)
    factory.walkin(site)
    after_checkin = seq(db, site)
    assert after_checkin == before + 1                     # one transaction, one bump
    calling.call_next(advisor)
    assert seq(db, site) == after_checkin + 1
    assert seq(db, other) == other_before


def test_rollback_bumps_nothing(factory, db):
    site = factory.site()
    before = seq(db, site)
    from webapp.models import Customer
    db.session.add(Customer(site_id=site.id, name="x"))
    db.session.flush()
    db.session.rollback()
    assert seq(db, site) == before


def test_reads_bump_nothing(factory, db, client):
    site = factory.site(code="bj01")
    before = seq(db, site)
    client.get("/lobby")
    assert seq(db, site) == before
