"""Every TV of a site asks for the same lanes after every change: they are rendered once per
change of the site (its change sequence), language and minute, and a change shows at once."""

from tests.factories import visit_at_estimate
from tests.support import get_counting_statements
from webapp.extensions import db

TOKEN = "cache-board-" + "z" * 20


def statements(client, path):
    return get_counting_statements(client, path)


def test_lanes_render_once_per_change_and_show_the_change(app, client, factory):
    site = factory.site(code="bc1", board_token=TOKEN)
    advisor = factory.user(site, "advisor", username="adv-bc", desk="1")
    path = f"/board/state?token={TOKEN}"
    first, rendering = statements(client, path)
    again, cached = statements(client, path)
    assert again == first
    assert cached < rendering and cached <= 2          # the token's site (and the rate limit's own)
    english, _ = statements(client, path + "&lang=en")
    assert english != first                            # a language has its own entry

    visit = visit_at_estimate(factory, site, advisor, plate="京D24680")
    visit.state = "dispatch"                           # through the ORM: the site's sequence moves
    db.session.commit()
    changed, rendered_again = statements(client, path)
    assert changed != first and rendered_again > cached
    assert "京D·***80" in changed and "京D·***80" not in first and "京D24680" not in changed
