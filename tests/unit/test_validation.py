"""Plates and mobile numbers of mainland China."""
import pytest

from webapp.validation import mask_mobile, mask_plate, parse_mobile, parse_plate


@pytest.mark.parametrize("raw,value,kind", [
    ("京A12345", "京A12345", "standard"),
    ("京a12345", "京A12345", "standard"),
    (" 沪B·C9D88 ", "沪BC9D88", "standard"),
    ("粤B D12345", "粤BD12345", "new_energy"),
    ("粤BF12345", "粤BF12345", "new_energy"),
    ("粤B12345D", "粤B12345D", "new_energy"),
    ("粤B1234学", "粤B1234学", "standard"),
    ("京I12345", "京I12345", "other"),      # no I on Chinese plates
    ("AB-1234", "AB1234", "other"),          # foreign plate: allowed with a warning
    ("WJ12345", "WJ12345", "other"),
])
def test_plates(raw, value, kind):
    plate = parse_plate(raw)
    assert plate is not None and plate.value == value and plate.kind == kind
    assert plate.is_chinese is (kind != "other")


@pytest.mark.parametrize("raw", ["", "  ", "京", "AB", "京A1234567890123", "京A12$45", "<script>"])
def test_not_plates(raw):
    assert parse_plate(raw) is None


@pytest.mark.parametrize("raw,expected", [
    ("13800138000", "13800138000"), ("138 0013 8000", "13800138000"), ("+86 138-0013-8000", "13800138000"),
    ("8613800138000", "13800138000"), ("19912345678", "19912345678"),
    ("12345678901", None), ("1380013800", None), ("138001380001", None), ("23800138000", None), ("abc", None), ("", None),
])
def test_mobiles(raw, expected):
    assert parse_mobile(raw) == expected


def test_masks_hide_the_middle():
    assert mask_plate("京A12345") == "京A·***45"
    assert mask_plate("粤BD12345") == "粤B·***45"
    assert mask_mobile("13800138000") == "138****8000"
    assert mask_plate("AB") == "***"
