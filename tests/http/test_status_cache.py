"""The status page cache is never stale and never shares one browser's parts with another."""
import re

from tests.support import csrf_token
from webapp.services import calling


def test_a_change_at_the_site_shows_at_once(client, factory, db):
    site = factory.site(code="bj01")
    advisor = factory.user(site, "advisor", desk="3")
    ticket = factory.walkin(site)
    first = client.get(f"/t/{ticket.token}?lang=en", follow_redirects=True).get_data(as_text=True)
    again = client.get(f"/t/{ticket.token}").get_data(as_text=True)
    assert 'data-phase="waiting"' in first and 'data-phase="waiting"' in again
    hits = client.application.extensions["servicelane.status_cache"].hits
    assert hits >= 1                                          # the second request was served from cache
    calling.call_next(advisor)                                 # committed elsewhere: the sequence moves on
    after = client.get(f"/t/{ticket.token}").get_data(as_text=True)
    assert 'data-phase="called"' in after and "Desk 3" in after
    fragment = client.get(f"/t/{ticket.token}/fragment").get_data(as_text=True)
    assert 'data-phase="called"' in fragment


def test_each_browser_gets_its_own_csrf_token_and_unlock(app, factory):
    site = factory.site(code="bj01")
    ticket = factory.walkin(site, plate="京A12345")
    one, two = app.test_client(), app.test_client()
    page_one = one.get(f"/t/{ticket.token}").get_data(as_text=True)
    page_two = two.get(f"/t/{ticket.token}").get_data(as_text=True)
    token_one = re.search(r'name="csrf-token" content="([^"]+)"', page_one).group(1)
    token_two = re.search(r'name="csrf-token" content="([^"]+)"', page_two).group(1)
    assert token_one != token_two and "\x00" not in page_one
    # One browser unlocks with the PIN; the other still sees the masked plate only.
    from webapp.services.checkin import ticket_pin
    resp = one.post(f"/t/{ticket.token}/unlock", data={"pin": ticket_pin(ticket.token),
                                                        "csrf_token": csrf_token(one, f"/t/{ticket.token}")})
    assert resp.status_code == 303
    assert "京A12345" in one.get(f"/t/{ticket.token}").get_data(as_text=True)
    assert "京A12345" not in two.get(f"/t/{ticket.token}").get_data(as_text=True)
