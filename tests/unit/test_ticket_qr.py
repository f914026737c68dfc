"""The ticket's QR code (kiosk/qr.py): the same matrix as the qrcode library makes, and it decodes."""
import random
import re
import secrets

import numpy as np
import pytest
import qrcode
from qrcode.util import MODE_8BIT_BYTE, QRData

from conftest import decode_qr_image
from kiosk import qr as ticket_qr


def library_rows(data: str, version: int) -> list[str]:
    """What qrcode itself makes for the same bytes, version, error correction and mask."""
    code = qrcode.QRCode(version=version, error_correction=ticket_qr.ERROR_CORRECTION, border=0,
                         mask_pattern=ticket_qr.MASK)
    code.add_data(QRData(data.encode("utf-8"), MODE_8BIT_BYTE))
    code.make(fit=False)
    return ["".join("1" if m else "0" for m in row) for row in code.get_matrix()]


def status_url(base="http://127.0.0.1:5000"):
    return f"{base}/t/{secrets.token_urlsafe(24)}"


@pytest.mark.parametrize("length", [0, 1, 14, 15, 32, 56, 62, 63, 84, 106, 134, 154, 180, 230, 271, 321,
                                    367, 425, 458, 520, 586, 644, 718, 792, 858, 929, 1003, 1091, 1171,
                                    1273, 1367, 1465, 1528, 1628, 1732, 1840, 1952, 2068, 2188, 2303, 2331])
def test_same_matrix_as_the_library_at_every_size(length):
    rng = random.Random(length)
    data = "".join(rng.choice("abcXYZ0129/:._-~?&=%") for _ in range(length))
    version = ticket_qr.version_for(len(data.encode()))
    assert ticket_qr.qr_rows(data) == library_rows(data, version)


def test_version_is_the_smallest_that_fits_as_the_library_finds_it():
    for length in range(0, 400, 3):
        code = qrcode.QRCode(error_correction=ticket_qr.ERROR_CORRECTION)
        code.add_data(QRData(b"x" * length, MODE_8BIT_BYTE))
        assert ticket_qr.version_for(length) == code.best_fit(), length


def test_status_urls_and_non_ascii():
    for data in (status_url(), status_url("https://service.example.com"), status_url("http://localhost"),
                 "https://例子.测试/t/" + secrets.token_urlsafe(24)):
        version = ticket_qr.version_for(len(data.encode()))
        assert ticket_qr.qr_rows(data) == library_rows(data, version)


def test_too_long_is_refused():
    with pytest.raises(qrcode.exceptions.DataOverflowError):
        ticket_qr.qr_rows("x" * 3000)


def test_svg_is_one_path_of_runs_with_quiet_zone_and_decodes():
    cv2 = pytest.importorskip("cv2")
    url = status_url("https://service.example.com")
    svg = ticket_qr.qr_svg(url, label='Status "page" <QR>')
    assert svg.startswith('<svg class="qr" ') and svg.count("<path") == 1
    assert 'aria-label="Status &#34;page&#34; &lt;QR&gt;"' in svg
    assert "style=" not in svg                       # the CSP allows no inline styles
    rows = ticket_qr.qr_rows(url)
    size = len(rows) + 2 * ticket_qr.BORDER
    assert f'viewBox="0 0 {size} {size}"' in svg
    grid = np.full((size, size), 255, np.uint8)
    runs = re.findall(r"M(\d+) (\d+)h(\d+)v1h-(\d+)z", svg)
    assert runs
    for x, y, w, back in runs:
        assert w == back
        grid[int(y), int(x):int(x) + int(w)] = 0
    # Every dark module is drawn once, inside the quiet zone.
    assert (grid == 0).sum() == sum(row.count("1") for row in rows)
    assert (grid[:ticket_qr.BORDER] == 255).all() and (grid[:, :ticket_qr.BORDER] == 255).all()
    image = cv2.resize(grid, (size * 8, size * 8), interpolation=cv2.INTER_NEAREST)
    assert decode_qr_image(image) == url
