"""QR codes as inline SVG: one <path> of unit squares, no style attributes (the CSP forbids them),
so the code prints sharply at any size on the 80 mm ticket and scales with CSS on screen."""
import qrcode
from markupsafe import Markup, escape
from qrcode.constants import ERROR_CORRECT_M


def qr_svg(data: str, label: str = "", css_class: str = "qr") -> Markup:
    # A fixed mask: choosing the "best" of eight costs ~20 ms of CPU per ticket, and every mask
    # decodes (the browser test decodes the printed code with OpenCV).
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, mask_pattern=0)
    qr.add_data(data)
    qr.make(fit=True)
    matrix = qr.get_matrix()  # includes the 4-module quiet zone
    size = len(matrix)
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return Markup(
        f'<svg class="{escape(css_class)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges" role="img" aria-label="{escape(label)}">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(parts)}"/></svg>'
    )
