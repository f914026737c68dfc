"""The advisors' console lists today's bookings still to arrive (接待准备): earliest first, the late
ones marked, nothing cancelled, arrived or of another day or site."""
from datetime import datetime, time, timedelta

from tests.support import login
from webapp.extensions import db
from webapp.timeutil import local_day, local_to_utc, utcnow


def at(site, hhmm: time, days=0):
    day = local_day(site.timezone, utcnow()) + timedelta(days=days)
    return local_to_utc(site.timezone, datetime.combine(day, hhmm))


def test_console_lists_todays_bookings_still_to_come(client, factory, shop):
    site = shop.site
    people = [factory.customer_vehicle(site, plate=f"京A1000{i}", mobile=f"1380000000{i}", name=n)
              for i, n in enumerate(["早到", "晚到", "取消", "已到", "明天"])]
    late = factory.appointment(site, *people[0], scheduled_at=at(site, time(0, 1)))
    later = factory.appointment(site, *people[1], scheduled_at=at(site, time(23, 58)))
    cancelled = factory.appointment(site, *people[2], scheduled_at=at(site, time(23, 50)))
    cancelled.status = "cancelled"
    arrived = factory.appointment(site, *people[3], scheduled_at=at(site, time(0, 2)))
    arrived.status = "arrived"
    factory.appointment(site, *people[4], scheduled_at=at(site, time(10, 0), days=1))
    other = factory.site(code="sh02")
    factory.appointment(other, *factory.customer_vehicle(other, plate="沪B20000", mobile="13900000000", name="别店"),
                        scheduled_at=at(site, time(12, 0)))
    db.session.commit()

    login(client, shop.advisor)
    html = client.get("/advisor/panel").get_data(as_text=True)
    section = html[html.index("data-arrivals"):html.index('class="mine card"')]
    assert "今日预约到店" in section
    assert section.index("京A10000") < section.index("京A10001")      # earliest first
    assert "京A10002" not in section and "京A10003" not in section and "京A10004" not in section
    assert "沪B20000" not in section
    first, second = section.split("<li")[1:3]
    assert "data-late" in first and "data-late" not in second


def test_no_bookings_left_says_so_in_english(client, shop):
    login(client, shop.advisor)
    client.get("/lang/en?next=/advisor")
    html = client.get("/advisor/panel").get_data(as_text=True)
    assert "Expected today" in html and "No more bookings expected today." in html
