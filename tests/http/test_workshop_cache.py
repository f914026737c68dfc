"""The dispatch panel (/workshop) is rendered once per change of the site's data, language and
minute and shared by the site's dispatchers (issue 15: 200 jobs cost ~30 ms of CPU a render);
a change through a service shows on the next request, the CSRF token stays each session's own."""
import re


from tests.factories import workshop_cars
from tests.support import csrf_token, get_counting_statements, login
from webapp.extensions import db
from webapp.models import Job
from webapp.services import workshop as svc

HX = {"HX-Request": "true"}


def get(client, path="/workshop/panel"):
    """The page's HTML and the statements it cost."""
    return get_counting_statements(client, path)


def job_row(html, job_id):
    found = re.search(rf'<tr data-job="{job_id}"[^>]*>.*?</tr>', html, re.S)
    assert found, f"job {job_id} not on the panel"
    return found.group(0)


def test_a_change_shows_on_the_next_render_and_nothing_else_renders_again(app, client, factory):
    site = factory.site(code="wc1")
    visits, dispatcher, tech, bay = workshop_cars(site, 2, factory, plate_base=41000)
    jobs = [db.session.scalar(db.select(Job.id).where(Job.visit_id == v.id)) for v in visits]
    login(client, dispatcher)
    first, rendering = get(client)
    again, cached = get(client)
    assert again == first and cached < rendering and cached <= 4   # the session's user, the sequence
    assert 'data-status' not in job_row(first, jobs[0])              # waiting for a technician

    svc.assign(dispatcher, jobs[0], tech.id, bay.id)
    assigned, _ = get(client)
    assert 'data-status="assigned"' in job_row(assigned, jobs[0]) and tech.display_name in job_row(assigned, jobs[0])
    assert "data-status" not in job_row(assigned, jobs[1])

    svc.start(tech, jobs[0])
    started, _ = get(client)
    assert 'data-status="in_progress"' in job_row(started, jobs[0])
    svc.pause(tech, jobs[0], "waiting_parts")
    paused, _ = get(client, "/workshop")                              # the whole page embeds the same panel
    assert 'data-status="paused"' in job_row(paused, jobs[0])

    # The dispatcher's own action answers with the panel after it (HTMX), from the cache's next entry.
    answer = client.post(f"/workshop/jobs/{jobs[1]}/assign", data={"technician_id": tech.id},
                         headers={"X-CSRFToken": csrf_token(client, "/workshop"), **HX})
    assert answer.status_code == 200
    assert 'data-status="assigned"' in job_row(answer.get_data(as_text=True), jobs[1])


def test_the_cache_is_keyed_by_site_and_language(app, client, factory):
    one, two = factory.site(code="wc2"), factory.site(code="wc3")
    _v1, dispatcher1, _t1, _b1 = workshop_cars(one, 1, factory, plate_base=42000)
    _v2, dispatcher2, _t2, _b2 = workshop_cars(two, 1, factory, plate_base=43000)
    login(client, dispatcher1)
    client.set_cookie("lang", "en")
    english, _ = get(client)
    assert "京A42000" in english and "京A43000" not in english and "Waiting for a technician" in english
    client.set_cookie("lang", "zh_CN")
    chinese, _ = get(client)
    assert "京A42000" in chinese and "Waiting for a technician" not in chinese
    client.post("/logout", headers={"X-CSRFToken": csrf_token(client, "/workshop")})
    login(client, dispatcher2)
    other, _ = get(client)
    assert "京A43000" in other and "京A42000" not in other


def test_each_session_gets_its_own_csrf_token_in_the_shared_panel(app, factory):
    site = factory.site(code="wc4")
    visits, dispatcher, tech, _bay = workshop_cars(site, 1, factory, plate_base=44000)
    second = factory.user(site, "dispatcher", username="wc4-d2", display_name="调度二")
    job_id = db.session.scalar(db.select(Job.id).where(Job.visit_id == visits[0].id))
    a, b = app.test_client(), app.test_client()
    login(a, dispatcher)
    login(b, second)
    html_a, _ = get(a)
    html_b, cached = get(b)
    token_a = re.search(r'name="csrf_token" value="([^"]+)"', html_a).group(1)
    token_b = re.search(r'name="csrf_token" value="([^"]+)"', html_b).group(1)
    assert token_a != token_b and "\x00" not in html_b
    assert html_a.replace(token_a, "") == html_b.replace(token_b, "")   # one rendering, two sessions
    # b's form, posted with b's token, is accepted (a plain form post: answered with a redirect)
    answer = b.post(f"/workshop/jobs/{job_id}/assign", data={"technician_id": tech.id, "csrf_token": token_b})
    assert answer.status_code == 302
