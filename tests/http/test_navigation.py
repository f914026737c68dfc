"""The screens menu in the staff header lists what the signed-in role may open, and only that."""
import pytest

from tests.support import login


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


def menu(client, path):
    html = client.get(path).get_data(as_text=True)
    start = html.index('<details class="screens">')
    return html[start:html.index("</details>", start)]


def test_cashier_sees_cashier_and_history_not_workshop(client, factory):
    site = factory.site()
    login(client, factory.user(site, role="cashier"))
    nav = menu(client, "/cashier/")
    assert 'href="/cashier/"' in nav and 'href="/history/"' in nav
    assert "/workshop" not in nav and "/admin/site" not in nav


def test_manager_sees_every_screen(client, factory):
    site = factory.site()
    login(client, factory.user(site, role="manager"))
    nav = menu(client, "/advisor")
    for path in ("/advisor", "/workshop", "/tech", "/cashier/", "/followup", "/history/", "/admin/site"):
        assert f'href="{path}"' in nav, path


def test_technician_has_a_single_screen_and_no_menu(client, factory):
    site = factory.site()
    login(client, factory.user(site, role="technician"))
    assert '<details class="screens">' not in client.get("/tech").get_data(as_text=True)
