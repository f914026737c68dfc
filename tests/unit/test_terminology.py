"""One word for one thing: the ticket and the phone call the 6-digit code the same in Chinese.

The kiosk ticket said 验证码 while the phone asked for the "PIN 码"; a customer holding the ticket
could not tell they were the same. Every Chinese message about the PIN says PIN 码."""
from pathlib import Path

from babel.messages.pofile import read_po

PO = Path(__file__).resolve().parents[2] / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def zh_messages():
    with PO.open("rb") as fh:
        for m in read_po(fh, locale="zh_CN"):
            if m.id and not isinstance(m.id, tuple) and m.string:
                yield m.id, m.string


def test_the_ticket_pin_has_one_name_in_chinese():
    about_pin = [(en, zh) for en, zh in zh_messages() if "PIN" in en]
    assert len(about_pin) > 5
    assert [(en, zh) for en, zh in about_pin if "PIN 码" not in zh and "PIN" not in zh] == []
    assert [zh for _en, zh in zh_messages() if "验证码" in zh] == []
