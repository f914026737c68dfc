"""The service history over HTTP (/history): roles and site scoping, search by every key, the
vehicle and customer pages showing the whole visit, the advisor's panel, the printed history,
the RO CSV export (BOM, quoting, formula guard, dates) and a fixed number of queries."""
import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from tests.factories import visit_at_estimate, visit_delivered_with_history
from tests.support import csrf_token, login
from webapp.extensions import db
from webapp.models import Customer, Vehicle, VehicleDriver, Visit
from webapp.services import history as svc
from webapp.timeutil import utcnow

# The history names the shop and the advisor; the visit's builder brings the other staff.
pytestmark = pytest.mark.shop(roles=("advisor",), staff={"advisor": {"display_name": "王晓明"}},
                              name_zh="星驰汽车4S店", name_en="Xingchi Motors")


@pytest.fixture(autouse=True)
def english(client):
    """The assertions read the English wording."""
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(shop, factory):
    """The shared shop, with one visit delivered with all the history keeps (``shop.visit``)."""
    shop.visit = visit_delivered_with_history(factory, shop.site, shop.advisor)
    return shop


def logout(client):
    client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})


# ---------------------------------------------------------------- roles and scoping

@pytest.mark.parametrize("role", ["advisor", "cashier", "csi", "manager", "admin"])
def test_readers_open_the_history(client, factory, shop, role):
    site, visit = shop.site, shop.visit
    login(client, factory.user(site, role))
    assert client.get("/history/").status_code == 200
    assert client.get(f"/history/vehicles/{visit.vehicle_id}").status_code == 200
    assert client.get(f"/history/customers/{visit.customer_id}").status_code == 200
    assert client.get(f"/history/vehicles/{visit.vehicle_id}/print").status_code == 200
    today = date.today()
    assert client.get(f"/history/ros.csv?from={today - timedelta(days=2)}&to={today + timedelta(days=2)}").status_code == 200


@pytest.mark.parametrize("role", ["technician", "dispatcher", "qc", "parts"])
def test_other_roles_get_403(client, factory, shop, role):
    site, visit = shop.site, shop.visit
    login(client, factory.user(site, role))
    for url in ("/history/", f"/history/vehicles/{visit.vehicle_id}", f"/history/customers/{visit.customer_id}",
                f"/history/vehicles/{visit.vehicle_id}/print", "/history/ros.csv?from=2026-01-01&to=2026-01-31",
                f"/history/visits/{visit.id}/panel"):
        assert client.get(url).status_code == 403, url


def test_signed_out_goes_to_login(client, shop):
    resp = client.get("/history/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_other_sites_records_are_404(client, factory, shop):
    visit = shop.visit
    other = factory.site(code="hs2")
    login(client, factory.user(other, "advisor"))
    assert client.get(f"/history/vehicles/{visit.vehicle_id}").status_code == 404
    assert client.get(f"/history/vehicles/{visit.vehicle_id}/print").status_code == 404
    assert client.get(f"/history/customers/{visit.customer_id}").status_code == 404
    assert client.get(f"/history/visits/{visit.id}/panel").status_code == 404
    assert client.get("/history/vehicles/999999").status_code == 404
    # nor does the other site's search or export find them
    html = client.get("/history/?q=京A12345").get_data(as_text=True)
    assert f'data-vehicle="{visit.vehicle_id}"' not in html and "No vehicle found." in html
    body = client.get(f"/history/ros.csv?from={date.today() - timedelta(days=1)}&to={date.today() + timedelta(days=1)}")
    assert "RO-" not in body.get_data(as_text=True)


def test_panel_route_is_the_advisors(client, factory, shop):
    site, visit = shop.site, shop.visit
    login(client, factory.user(site, "cashier"))
    assert client.get(f"/history/visits/{visit.id}/panel").status_code == 403


# ---------------------------------------------------------------- search

@pytest.mark.parametrize("q", ["京A12345", "京a 123 45", "a1234", "12345", "13800138000", "0013800", "+86 138 0013 8000",
                               "LSVAU2180N2183294", "2183294x".upper()[:7], "张三", "张"
                               ])
def test_search_by_each_key(client, factory, shop, q):
    advisor, visit = shop.advisor, shop.visit
    login(client, advisor)
    resp = client.get("/history/", query_string={"q": q})
    html = resp.get_data(as_text=True)
    if q == "张":
        assert resp.status_code == 422 and "at least 2 characters" in html
        return
    assert resp.status_code == 200, (q, html[:300])
    assert f'data-vehicle="{visit.vehicle_id}"' in html, q
    assert f'data-customer="{visit.customer_id}"' in html, q


def test_search_by_vin_fragment_and_driver(client, factory, shop):
    site, advisor, visit = shop.site, shop.advisor, shop.visit
    driver = Customer(site_id=site.id, name="李四", mobile="13912345678")
    db.session.add(driver)
    db.session.flush()
    db.session.add(VehicleDriver(site_id=site.id, vehicle_id=visit.vehicle_id, customer_id=driver.id))
    other = Vehicle(site_id=site.id, plate="沪B99999", vin="WVWZZZ1KZ6W000001")
    db.session.add(other)
    db.session.commit()
    login(client, advisor)
    html = client.get("/history/?q=N2183294").get_data(as_text=True)
    assert f'data-vehicle="{visit.vehicle_id}"' in html and f'data-vehicle="{other.id}"' not in html
    html = client.get("/history/?q=李四").get_data(as_text=True)   # the driver's name finds the car
    assert f'data-vehicle="{visit.vehicle_id}"' in html and f'data-customer="{driver.id}"' in html
    html = client.get("/history/?q=1391234").get_data(as_text=True)
    assert f'data-vehicle="{visit.vehicle_id}"' in html
    html = client.get("/history/?q=沪B").get_data(as_text=True)
    assert f'data-vehicle="{other.id}"' in html and f'data-vehicle="{visit.vehicle_id}"' not in html


@pytest.mark.parametrize("q, message", [
    ("", "Enter a plate, mobile number, VIN or name."),
    ("   ", "Enter a plate, mobile number, VIN or name."),
    ("%%%", "Enter letters or digits"),
    ("x" * 70, "at most 64 characters"),
])
def test_bad_query_message_next_to_field_and_kept(client, shop, q, message):
    advisor = shop.advisor
    login(client, advisor)
    resp = client.get("/history/", query_string={"q": q})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="q-error"' in html and message in html
    assert 'aria-invalid="true"' in html
    if q.strip():
        assert f'value="{q}"' in html


def test_wildcards_match_literally(client, factory, shop):
    advisor = shop.advisor
    login(client, advisor)
    html = client.get("/history/?q=张_").get_data(as_text=True)
    assert "No vehicle found." in html


def test_no_query_shows_the_form_only(client, shop):
    advisor = shop.advisor
    login(client, advisor)
    resp = client.get("/history/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="q"' in html and "q-error" not in html and 'id="export"' in html


# ---------------------------------------------------------------- the vehicle page: the whole visit

def test_vehicle_page_shows_the_whole_visit(client, shop):
    advisor, visit = shop.advisor, shop.visit
    login(client, advisor)
    html = client.get(f"/history/vehicles/{visit.vehicle_id}").get_data(as_text=True)
    ro = visit.repair_order.number
    bill = visit.bills[0].number
    for expected in (
        "京A12345", "LSVAU2180N2183294", "张三", "13800138000",             # vehicle, owner
        visit.ticket.number, ro, bill,                                     # ticket, RO, bill
        "1,000 km",                                                        # mileage
        "Front bumper", "Scratch",                                         # damage by zone and kind
        "刹车时有异响",                                                     # the concern in the customer's words
        "Version 1", "In the shop (signed)",                               # approval: version, channel, who
        "更换前刹车片", "更换雨刮片", "Reason: 下次再换",                      # approved and declined with reason
        "¥305.10", "Paid", "WeChat Pay", "¥200.00", "Cash", "¥105.10", "WX8848",   # bill and payments
        'data-rating="2"', "Rating at pickup", "等得太久", "服务态度", "满意",       # rating and survey
        "客户说刹车好了", "Reached",                                            # follow-up call
        "取车等待时间过长", "Open",                                             # complaint
        f"/advisor/visits/{visit.id}/intake/print", f"/advisor/visits/{visit.id}/repair-order/print",
        f"/history/vehicles/{visit.vehicle_id}/print", "/history/#export",
    ):
        assert expected in html, expected
    assert 'data-out>' in html and 'data-out>—' not in html        # out time recorded
    # summary: the declined wiper blades are still open, one visit, last mileage
    assert 'data-visit-count>1<' in html and 'data-open-count>1<' in html and "1,000 km" in html


def test_later_visit_closes_the_declined_item_and_comes_first(client, factory, shop):
    site, advisor, first = shop.site, shop.advisor, shop.visit
    second = visit_delivered_with_history(factory, site, advisor)  # wiper declined again, brake again
    h = svc.vehicle_history(site.id, first.vehicle_id)
    assert [e.visit.id for e in h.entries] == [second.id, first.id]
    assert [d.description for d in h.open_declined] == ["更换雨刮片"] and h.open_declined[0].visit_id == second.id
    assert h.visit_count == 2


def test_cashier_sees_history_without_advisor_links(client, factory, shop):
    site, visit = shop.site, shop.visit
    login(client, factory.user(site, "cashier"))
    html = client.get(f"/history/vehicles/{visit.vehicle_id}").get_data(as_text=True)
    assert visit.repair_order.number in html
    assert "/intake/print" not in html and "/repair-order/print" not in html   # the advisor's pages (403 for them)
    assert f"/cashier/bills/{visit.bills[0].id}/print" in html                  # the printed invoice is theirs


def test_bill_print_link_only_for_who_may_open_it(client, factory, shop):
    site, visit = shop.site, shop.visit
    login(client, factory.user(site, "csi"))
    html = client.get(f"/history/vehicles/{visit.vehicle_id}").get_data(as_text=True)
    assert visit.bills[0].number in html and "/cashier/bills/" not in html


def test_customer_page_lists_vehicles_and_visits(client, shop):
    advisor, visit = shop.advisor, shop.visit
    login(client, advisor)
    html = client.get(f"/history/customers/{visit.customer_id}").get_data(as_text=True)
    assert "张三" in html and f'data-vehicle="{visit.vehicle_id}"' in html
    assert f'data-visit="{visit.id}"' in html and visit.repair_order.number in html


def test_fixed_number_of_queries(client, factory, shop):
    """One query per kind of record (selectinload), none per visit: the pages, templates included,
    cost the same with one visit as with three."""
    site, advisor, visit = shop.site, shop.advisor, shop.visit
    login(client, advisor)

    def count(url):
        n = [0]

        def inc(*_a, **_k):
            n[0] += 1
        db.session.expire_all()
        event.listen(db.engine, "before_cursor_execute", inc)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", inc)
        return n[0]

    pages = (f"/history/vehicles/{visit.vehicle_id}", f"/history/vehicles/{visit.vehicle_id}/print",
             f"/history/customers/{visit.customer_id}", "/history/?q=京A")
    one = [count(url) for url in pages]
    for _ in range(2):
        visit_delivered_with_history(factory, site, advisor)
    three = [count(url) for url in pages]
    assert three == one, (one, three)
    assert max(one) <= 35, one


# ---------------------------------------------------------------- the panel on the visit page

def test_panel_on_the_next_intake(client, factory, shop):
    site, advisor, first = shop.site, shop.advisor, shop.visit
    current = visit_at_estimate(factory, site, advisor, plate="京A12345")
    login(client, advisor)
    html = client.get(f"/advisor/visits/{current.id}").get_data(as_text=True)
    assert 'id="sec-history"' in html
    assert first.repair_order.number in html and "更换前刹车片" in html           # earlier visit: RO, main items
    assert "更换雨刮片" in html and "下次再换" in html                            # declined before, still open
    assert 'data-previous-marks="1"' in html and "shown faded on the damage map" in html
    assert f"/history/vehicles/{first.vehicle_id}" in html
    panel = client.get(f"/history/visits/{current.id}/panel")
    assert panel.status_code == 200 and panel.get_data(as_text=True).lstrip().startswith("<section id=\"sec-history\"")


def test_panel_without_vehicle_then_refreshed_when_linked(client, factory, shop):
    site, advisor, first = shop.site, shop.advisor, shop.visit
    current = visit_at_estimate(factory, site, advisor, plate="粤B12345")
    db.session.refresh(current)
    assert current.vehicle_id is None
    login(client, advisor)
    html = client.get(f"/history/visits/{current.id}/panel").get_data(as_text=True)
    assert "data-no-vehicle" in html
    resp = client.post(f"/advisor/visits/{current.id}/vehicle", data={"vehicle_id": first.vehicle_id},
                       headers={"X-CSRFToken": csrf_token(client, f"/advisor/visits/{current.id}"), "HX-Request": "true"})
    assert resp.status_code == 200
    # The panel comes in the same answer (out of band), now showing the linked car's history.
    oob = resp.get_data(as_text=True).split('<section hx-swap-oob="morph" id="sec-history"', 1)[1]
    assert first.repair_order.number in oob.split("</section>", 1)[0] and "data-no-vehicle" not in oob
    html = client.get(f"/history/visits/{current.id}/panel").get_data(as_text=True)
    assert first.repair_order.number in html and "data-no-vehicle" not in html


# ---------------------------------------------------------------- print

@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_print_page_is_bilingual(client, shop, lang):
    advisor, visit = shop.advisor, shop.visit
    client.set_cookie("lang", lang)
    login(client, advisor)
    resp = client.get(f"/history/vehicles/{visit.vehicle_id}/print")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for expected in ("车辆服务档案", "Vehicle service history", "进厂", "出厂", "Mileage", "里程",
                     visit.repair_order.number, visit.bills[0].number, "更换雨刮片", "下次再换", "微信支付", "WeChat Pay",
                     "css/print.css", "Xingchi Motors", "星驰汽车4S店"):
        assert expected in html, expected
    assert "<script>" not in html and 'style="' not in html


# ---------------------------------------------------------------- CSV

def _csv(client, a, b):
    return client.get("/history/ros.csv", query_string={"from": a, "to": b})


def test_csv_content_bom_and_quoting(client, factory, shop):
    advisor, visit = shop.advisor, shop.visit
    visit.customer.name = '=HYPERLINK("http://evil","点我"), 张'
    advisor.display_name = "@advisor"
    db.session.commit()
    login(client, advisor)
    today = date.today()
    resp = _csv(client, today - timedelta(days=3), today + timedelta(days=1))
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"] and ".csv" in resp.headers["Content-Disposition"]
    raw = resp.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "RO number" and rows[0][-1] == "Delivered at" and len(rows) == 2
    row = dict(zip(rows[0], rows[1]))
    assert row["RO number"] == visit.repair_order.number
    assert row["Plate"] == "京A12345" and row["VIN"] == "LSVAU2180N2183294"
    assert row["Customer"] == '\'=HYPERLINK("http://evil","点我"), 张'        # guarded, quoted, one cell
    assert row["Advisor"] == "'@advisor"
    assert row["Mileage (km)"] == "1000"
    assert (row["Labour approved"], row["Parts approved"], row["Total approved"]) == ("270.00", "0.00", "305.10")
    assert row["Bill number"] == visit.bills[0].number and row["Paid"] == "305.10"
    assert row["Status"] == "Delivered" and row["Delivered at"]
    assert '"\'=HYPERLINK(""http://evil"",""点我""), 张"' in text               # proper CSV quoting
    assert "\r\n" in text


def test_csv_in_chinese(client, shop):
    advisor, visit = shop.advisor, shop.visit
    client.set_cookie("lang", "zh_CN")
    login(client, advisor)
    today = date.today()
    text = _csv(client, today - timedelta(days=1), today + timedelta(days=1)).get_data().decode("utf-8-sig")
    assert visit.repair_order.number in text and "张三" in text


def test_csv_range_excludes_other_days(client, factory, shop):
    site, advisor, visit = shop.site, shop.advisor, shop.visit
    old = visit_delivered_with_history(factory, site, advisor, when=utcnow() - timedelta(days=40))
    login(client, advisor)
    today = date.today()
    text = _csv(client, today - timedelta(days=3), today + timedelta(days=1)).get_data().decode("utf-8-sig")
    assert visit.repair_order.number in text and old.repair_order.number not in text
    text = _csv(client, today - timedelta(days=45), today + timedelta(days=1)).get_data().decode("utf-8-sig")
    assert old.repair_order.number in text and text.index(old.repair_order.number) < text.index(visit.repair_order.number)


@pytest.mark.parametrize("a, b, field, message", [
    ("", "2026-01-31", "from", "Enter a date."),
    ("2026-13-01", "2026-01-31", "from", "Enter a date as YYYY-MM-DD."),
    ("2026-01-01", "31.01.2026", "to", "Enter a date as YYYY-MM-DD."),
    ("2026-02-01", "2026-01-01", "to", "The end date is before the start date."),
    ("2024-01-01", "2026-01-01", "to", "Export at most one year at a time."),
])
def test_csv_bad_dates(client, shop, a, b, field, message):
    advisor = shop.advisor
    login(client, advisor)
    resp = _csv(client, a, b)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and resp.headers["Content-Type"].startswith("text/html")
    assert f'id="export-{field}-error"' in html and message in html
    assert f'value="{a}"' in html and f'value="{b}"' in html                     # what was typed is kept


def test_console_links_the_history(client, shop):
    advisor = shop.advisor
    login(client, advisor)
    assert 'href="/history/"' in client.get("/advisor").get_data(as_text=True)
