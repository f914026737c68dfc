"""The plate start a kiosk fills in: the one most of the site's cars share (issue 12)."""
import pytest

from webapp.services.checkin import majority_prefix


@pytest.mark.parametrize("plates, prefix", [
    ([], ""),
    (["京A11111", "京A22222", "京B33333"], "京A"),
    (["京A11111", "京B22222", "京C33333", "京N44444"], "京"),
    (["京A11111", "沪B22222", "粤C33333"], ""),
    (["AB1234", "XY9999", "京A12345"], "京A"),          # foreign plates do not count
])
def test_majority_prefix(plates, prefix):
    assert majority_prefix(plates) == prefix
