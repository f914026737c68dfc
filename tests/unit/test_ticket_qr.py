"""The ticket's QR code (kiosk/qr.py): qrcode's own matrix, drawn as one path, and it decodes."""
import secrets

import pytest
import qrcode

from tests.support import decode_qr_svg, qr_svg_grid
from kiosk import qr as ticket_qr


def status_url(base="http://127.0.0.1:5000"):
    return f"{base}/t/{secrets.token_urlsafe(24)}"


def library_matrix(data: str):
    code = qrcode.QRCode(error_correction=ticket_qr.ERROR_CORRECTION, border=ticket_qr.BORDER,
                         mask_pattern=ticket_qr.MASK)
    code.add_data(data.encode("utf-8"))
    code.make(fit=True)
    return code.get_matrix()


# Fixed tokens: parallel test workers must collect the same test ids.
TOKEN = "q0Zk3n8Jc1vRt5yWb7xHu2aLm9pDs4eF"


@pytest.mark.parametrize("url", [f"http://127.0.0.1:5000/t/{TOKEN}", f"https://service.example.com/t/{TOKEN}",
                                 f"http://localhost/t/{TOKEN}", f"https://例子.测试/t/{TOKEN}"])
def test_status_urls_decode_from_the_svg(url):
    pytest.importorskip("cv2")
    assert decode_qr_svg(ticket_qr.qr_svg(url)) == url


def test_svg_draws_the_library_matrix_with_quiet_zone_and_no_inline_style():
    url = status_url("https://service.example.com")
    svg = ticket_qr.qr_svg(url, label='Status "page" <QR>')
    assert svg.startswith('<svg class="qr" ') and svg.count("<path") == 1
    assert 'role="img"' in svg and 'aria-label="Status &#34;page&#34; &lt;QR&gt;"' in svg
    assert "style=" not in svg                       # the CSP allows no inline styles
    grid = qr_svg_grid(svg)
    matrix = library_matrix(url)
    assert grid.shape == (len(matrix), len(matrix))
    assert [[cell == 0 for cell in row] for row in grid.tolist()] == matrix
    border = ticket_qr.BORDER
    assert (grid[:border] == 255).all() and (grid[:, :border] == 255).all()
    assert (grid[-border:] == 255).all() and (grid[:, -border:] == 255).all()


def test_too_long_is_refused():
    with pytest.raises((ValueError, qrcode.exceptions.DataOverflowError)):
        ticket_qr.qr_svg("x" * 3000)
