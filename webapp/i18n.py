"""Language: zh-CN by default, English on request; remembered in a cookie per device."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, request
from flask_babel import get_locale

bp = Blueprint("i18n", __name__)
COOKIE = "lang"


def select_locale():
    """The language asked for (?lang=, then the cookie of the language switch), else the one the
    device prefers (a customer's phone set to English), else the default."""
    supported = current_app.config["LANGUAGES"]
    asked = request.args.get("lang") or request.cookies.get(COOKIE)
    if asked in supported:
        return asked
    preferred = request.accept_languages.best_match(
        [code.replace("_", "-") for code in supported] + ["zh", "en"])
    if preferred:
        match = next((code for code in supported if code.replace("_", "-").split("-")[0] == preferred.split("-")[0]), None)
        if match:
            return match
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def locale_param() -> str:
    """The current language as ?lang= and the cookie spell it (a LANGUAGES entry)."""
    from flask_babel import get_locale
    current = str(get_locale() or "")
    supported = current_app.config["LANGUAGES"]
    return next((code for code in supported if code.split("_")[0] == current.split("_")[0]),
                current_app.config["BABEL_DEFAULT_LOCALE"])


def locale_code() -> str:
    """'zh-CN' or 'en' for the html lang attribute (Babel would say zh_Hans_CN)."""
    locale = get_locale()
    return "zh-CN" if locale is None or locale.language == "zh" else locale.language


def safe_next(target: str | None) -> str:
    # Only paths on this site: an open redirect would let a phishing link borrow our domain.
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@bp.get("/lang/<code>")
def switch(code):
    response = redirect(safe_next(request.args.get("next")))
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
