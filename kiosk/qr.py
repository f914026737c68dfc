"""QR codes as inline SVG, drawn by the qrcode library's SVG path image.

The ticket prints one ``<path>`` with no style attributes (the CSP forbids them), so the code prints
sharply at any size on the 80 mm ticket and scales with CSS on screen. We keep only the path the
library draws and wrap it in our own ``<svg>`` element: a class for the CSS, ``role="img"`` and a
label for screen readers, and a white background with the quiet zone inside the view box.

A fixed mask: choosing the "best" of eight costs several times the CPU of one code per ticket, and
every mask decodes (the browser test decodes the printed code with OpenCV)."""
import xml.etree.ElementTree as ET

import qrcode
from markupsafe import Markup, escape
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.svg import SvgPathImage

ERROR_CORRECTION = ERROR_CORRECT_M
MASK = 0
BORDER = 4   # quiet zone, in modules
BOX = 10     # SvgPathImage draws a module as box_size / 10 mm: 10 makes one module one unit
_SVG = "{http://www.w3.org/2000/svg}"


def qr_path(data: str) -> tuple[int, str]:
    """(size of the symbol with its quiet zone, in modules; the path that draws its dark modules)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, box_size=BOX, border=BORDER, mask_pattern=MASK,
                         image_factory=SvgPathImage)
    code.add_data(data.encode("utf-8"))
    code.make(fit=True)
    root = ET.fromstring(code.make_image().to_string())
    path = root.find(f"{_SVG}path")
    return code.modules_count + 2 * BORDER, path.get("d")


def qr_svg(data: str, label: str = "", css_class: str = "qr") -> Markup:
    size, d = qr_path(data)
    return Markup(
        f'<svg class="{escape(css_class)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges" role="img" aria-label="{escape(label)}">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{escape(d)}"/></svg>'
    )
