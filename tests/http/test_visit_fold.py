"""The advisor's visit page folds to where the visit stands: the strip marks each stage done, now
or to do; the sections of the current stage render open, the others folded with a one-line
summary; each section's refresh answers with the same fold (key and default) it started with."""
import re

import pytest

from tests.factories import visit_at_estimate, visit_ready
from tests.support import csrf_token, login


@pytest.fixture
def shop(factory):
    site = factory.site(code="bj01")
    return site, factory.user(site, "advisor", username="a1", desk="1")


def folds(html):
    """{section: (open?, summary)} of every fold on the page."""
    found = {}
    for m in re.finditer(r'<section id="sec-(\w+)".*?<details class="fold" data-fold-key="([^"]+)" '
                         r'data-fold-default="(open|closed)"( open)?>.*?</summary>', html, re.S):
        line = re.search(r'data-fold-summary>([^<]*)<', m.group(0))
        found[m.group(1)] = (m.group(3) == "open", bool(m.group(4)), line.group(1) if line else "")
    return found


def stages(html):
    return dict(re.findall(r'data-stage="(\w+)" data-stage-state="(\w+)"', html))


def test_at_the_estimate(client, shop, factory):
    site, advisor = shop
    visit = visit_at_estimate(factory, site, advisor)
    login(client, advisor)
    html = client.get(f"/advisor/visits/{visit.id}?lang=en").get_data(as_text=True)
    assert stages(html) == {"reception": "done", "inspection": "done", "interview": "done", "estimate": "now",
                            "repair": "todo", "delivery": "todo"}
    f = folds(html)
    assert f["estimate"][:2] == (True, True)
    for name in ("customer", "documents", "inspection", "damage", "signature", "interview", "history"):
        assert f[name][:2] == (False, False), name
    assert f["inspection"][2] == "4/4 checked · 0 marks · 1,000 km · no valuables"
    assert f["damage"][2] == "No damage recorded"
    assert f["interview"][2] == "1 concern"
    assert f["documents"][2] == "Nothing received yet"
    # The section refreshes answer with the same fold: its key names the state the choice holds in.
    part = client.get(f"/advisor/visits/{visit.id}/section/inspection?lang=en").get_data(as_text=True)
    assert f'data-fold-key="inspection@estimate" data-fold-default="closed"' in part
    # The strip has no request of its own: the progress block's answers carry it out of band.
    assert 'hx-swap-oob' not in html.split('id="visit-stages"')[1].split(">")[0]
    strip = client.get(f"/advisor/visits/{visit.id}/section/progress?lang=en",
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="visit-stages"' in strip and 'hx-swap-oob="morph"' in strip
    assert 'aria-current="step"' in strip and stages(strip)["estimate"] == "now"


def test_ready_for_pickup(client, shop, factory):
    site, advisor = shop
    visit = visit_ready(factory, site, advisor)
    login(client, advisor)
    html = client.get(f"/advisor/visits/{visit.id}?lang=en").get_data(as_text=True)
    assert stages(html)["delivery"] == "now" and stages(html)["repair"] == "done"
    f = folds(html)
    assert f["delivery"][:2] == (True, True) and f["bill"][:2] == (True, True)
    assert f["estimate"][:2] == (False, False)
    assert re.fullmatch(r"v1 · approved CN¥[\d,.]+", f["estimate"][2]), f["estimate"][2]
    assert f["delivery"][2] == "0 of 6 checked" and f["bill"][2] == "No bill yet"


def test_a_message_opens_its_section_even_when_folded(client, shop, factory):
    site, advisor = shop
    visit = visit_ready(factory, site, advisor)
    login(client, advisor)
    token = csrf_token(client, "/advisor")
    resp = client.post(f"/advisor/visits/{visit.id}/concerns?lang=en", data={"text": "x"},
                       headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert resp.status_code == 409
    assert 'data-fold-key="interview@ready" data-fold-default="open" open' in resp.get_data(as_text=True)
