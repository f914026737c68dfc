"""Lobby calling display: public, numbers and desks only, one site per screen."""
import re

from webapp.services import calling


def test_single_site_needs_no_setup(client, factory):
    factory.site(code="bj01")
    resp = client.get("/lobby")
    assert resp.status_code == 200 and 'data-live-site="bj01"' in resp.get_data(as_text=True)


def test_several_sites_ask_which_and_remember(client, factory):
    factory.site(code="bj01")
    factory.site(code="sh01")
    assert "?site=bj01" in client.get("/lobby").get_data(as_text=True)
    resp = client.get("/lobby?site=sh01")
    assert resp.status_code == 200 and "site=sh01" in resp.headers["Set-Cookie"]
    assert 'data-live-site="sh01"' in client.get("/lobby").get_data(as_text=True)
    assert client.get("/lobby?site=nope").status_code == 404


def test_shows_the_call_but_no_personal_data(client, factory):
    site = factory.site(code="bj01")
    advisor = factory.user(site, "advisor", desk="3")
    t = factory.walkin(site, plate="京A12345", mobile="13812345678")
    factory.walkin(site, plate="京A54321")
    calling.call_next(advisor)
    html = client.get("/lobby/board?lang=en").get_data(as_text=True)
    assert re.search(r'class="call latest" data-ticket="W001">\s*<span class="number">W001</span>', html)
    assert "Desk 3" in html
    assert 'id="waiting-count">1<' in html
    for secret in ("京A12345", "13812345678", "12345", t.token):
        assert secret not in html
    assert "3号服务台" in client.get("/lobby/board?lang=zh_CN").get_data(as_text=True)


def test_board_fragment_is_the_page_block(client, factory):
    factory.site(code="bj01")
    page = client.get("/lobby").get_data(as_text=True)
    fragment = client.get("/lobby/board").get_data(as_text=True)
    assert fragment.strip().startswith('<div id="board"')
    assert "<html" not in fragment and '<div id="board"' in page
