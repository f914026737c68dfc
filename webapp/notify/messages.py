"""The words of customer notices, in the site's default language with the other one below it.

Built with the app's catalogues (``force_locale``), so the lead's translations apply. The ready
notice names the shop, the ticket number and the status link — no name, plate or price: the
address was typed at a desk and may be wrong, and the status page asks for the ticket PIN."""
from flask import current_app
from flask_babel import force_locale, gettext as _

from .backends import Message

SEPARATOR = "\n\n— — —\n\n"


def languages() -> list[str]:
    default = str(current_app.config.get("BABEL_DEFAULT_LOCALE") or "zh_CN")
    others = [str(x) for x in current_app.config.get("LANGUAGES", ()) if str(x) != default]
    return [default] + others[:1]


def _ready_text(shop: str, number: str, url: str) -> tuple[str, str]:
    subject = _("%(shop)s: your car is ready for pickup (ticket %(number)s)", shop=shop, number=number)
    body = "\n\n".join([
        _("Hello,"),
        _("Your car is ready for pickup at %(shop)s (ticket %(number)s).", shop=shop, number=number),
        _("Follow your visit here; the ticket PIN shows the details: %(url)s", url=url),
        _("Please come to the service desk with your ticket number. We look forward to seeing you."),
        shop,
    ])
    return subject, body


def ready_message(recipient: str, shop_names: dict[str, str], number: str, url: str) -> Message:
    """``shop_names``: the shop's name per locale ("zh_CN", "en")."""
    subjects, bodies = [], []
    for locale in languages():
        with force_locale(locale):
            shop = shop_names.get(locale) or shop_names.get("zh_CN") or next(iter(shop_names.values()), "")
            subject, body = _ready_text(shop, number, url)
        subjects.append(subject)
        bodies.append(body)
    return Message(recipient=recipient, subject=subjects[0], body=SEPARATOR.join(dict.fromkeys(bodies)))
