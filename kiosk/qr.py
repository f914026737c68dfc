"""QR codes as inline SVG: one <path> of unit squares, no style attributes (the CSP forbids them),
so the code prints sharply at any size on the 80 mm ticket and scales with CSS on screen.

Every ticket prints a fresh status URL, so nothing per code can be cached; what is the same for
every code of one size is. The qrcode library builds, once per version, the fixed part of the
symbol (finder, alignment and timing patterns, format and version information for our fixed
error-correction level and mask) and gives the placement order of the data modules. Per ticket we
only encode the bytes (byte mode), compute the Reed-Solomon blocks with table lookups, drop the
masked bits into their places and write the path: about a tenth of what ``QRCode.make()`` costs
(it rebuilds the patterns and does polynomial arithmetic with objects). The result is the very
matrix qrcode makes for the same data, version and mask (tests/unit/test_ticket_qr.py compares
them module for module)."""
import re
from functools import lru_cache

import qrcode
from markupsafe import Markup, escape
from qrcode import base, exceptions, util
from qrcode.constants import ERROR_CORRECT_M

ERROR_CORRECTION = ERROR_CORRECT_M
# A fixed mask: choosing the "best" of eight costs ~20 ms of CPU per ticket, and every mask
# decodes (the browser test decodes the printed code with OpenCV).
MASK = 0
BORDER = 4  # quiet zone, in modules
_EXP, _LOG = base.EXP_TABLE, base.LOG_TABLE
_RUN = re.compile("1+")


@lru_cache(maxsize=None)
def version_for(length: int, error_correction: int = ERROR_CORRECTION) -> int:
    """The smallest version whose data capacity holds ``length`` bytes in byte mode."""
    for version in range(1, 41):
        needed = 4 + util.length_in_bits(util.MODE_8BIT_BYTE, version) + 8 * length
        if needed <= util.BIT_LIMIT_TABLE[error_correction][version]:
            return version
    raise exceptions.DataOverflowError(f"{length} bytes do not fit in a QR code")


@lru_cache(maxsize=None)
def _generator(ec_count: int) -> tuple:
    """For each byte value f, f times the coefficients (after the leading 1) of the generator
    prod(x - a^i), i < ec_count, in GF(256): one row lookup per data byte."""
    poly = [1]
    for i in range(ec_count):
        nxt = poly + [0]
        for j, coef in enumerate(poly):
            if coef:
                nxt[j + 1] ^= _EXP[(_LOG[coef] + i) % 255]
        poly = nxt
    logs = [_LOG[c] if c else None for c in poly[1:]]
    table = [(0,) * ec_count]
    for f in range(1, 256):
        lf = _LOG[f]
        table.append(tuple(_EXP[(lf + lg) % 255] if lg is not None else 0 for lg in logs))
    return tuple(table)


def _ec_block(data, ec_count):
    """Reed-Solomon remainder of one block (what qrcode's Polynomial division computes)."""
    table = _generator(ec_count)
    rem = [0] * ec_count
    for byte in data:
        row = table[byte ^ rem[0]]
        rem.append(0)
        rem = [r ^ m for r, m in zip(rem[1:], row)]
    return rem


class _Layout:
    """What is the same for every code of one version (with our error correction and mask)."""

    def __init__(self, version: int, error_correction: int, mask: int):
        qr = qrcode.QRCode(version=version, error_correction=error_correction, border=0, mask_pattern=mask)
        # The steps of QRCode.makeImpl before it places the data: the function patterns.
        n = qr.modules_count = version * 4 + 17
        qr.modules = [[None] * n for _ in range(n)]
        qr.setup_position_probe_pattern(0, 0)
        qr.setup_position_probe_pattern(n - 7, 0)
        qr.setup_position_probe_pattern(0, n - 7)
        qr.setup_position_adjust_pattern()
        qr.setup_timing_pattern()
        qr.setup_type_info(False, mask)
        if version >= 7:
            qr.setup_type_number(False)
        modules = qr.modules
        masked = util.mask_func(mask)
        # The placement order of QRCode.map_data: two-module columns from the right, zigzag.
        order = []
        row, inc = n - 1, -1
        for col in range(n - 1, 0, -2):
            if col <= 6:
                col -= 1
            while True:
                for c in (col, col - 1):
                    if modules[row][c] is None:
                        order.append(row * n + c)
                row += inc
                if row < 0 or row >= n:
                    row -= inc
                    inc = -inc
                    break
        self.size = n
        self.blocks = [(b.data_count, b.total_count - b.data_count)
                       for b in base.rs_blocks(version, error_correction)]
        self.data_bits = 8 * sum(d + e for d, e in self.blocks)
        self.positions = order[:self.data_bits]
        # The mask as one integer over the data bits, most significant first (XOR at once).
        self.mask_bits = int("".join("1" if masked(p // n, p % n) else "0" for p in self.positions), 2)
        # Fixed modules, with the remainder bits (always 0, then masked) filled in.
        grid = ["1" if m else "0" for r in modules for m in r]
        for p in order[self.data_bits:]:
            grid[p] = "1" if masked(p // n, p % n) else "0"
        for p in self.positions:
            grid[p] = "0"
        self.grid = grid
        self.capacity = sum(d for d, _ in self.blocks)
        self.count_bits = util.length_in_bits(util.MODE_8BIT_BYTE, version)


@lru_cache(maxsize=None)
def _layout(version: int, error_correction: int = ERROR_CORRECTION, mask: int = MASK) -> _Layout:
    return _Layout(version, error_correction, mask)


def codewords(data: bytes, layout: _Layout) -> list[int]:
    """Data and error-correction codewords, interleaved, as qrcode.util.create_data makes them."""
    bits = f"0100{len(data):0{layout.count_bits}b}" + "".join(f"{b:08b}" for b in data)
    limit = layout.capacity * 8
    bits += "0" * min(4, limit - len(bits))         # terminator
    bits += "0" * (-len(bits) % 8)                  # to a byte boundary
    words = [int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)]
    words += [0xEC if i % 2 == 0 else 0x11 for i in range(layout.capacity - len(words))]
    data_blocks, ec_blocks, offset = [], [], 0
    for dc, ec in layout.blocks:
        block = words[offset:offset + dc]
        offset += dc
        data_blocks.append(block)
        ec_blocks.append(_ec_block(block, ec))
    out = []
    for blocks in (data_blocks, ec_blocks):
        for i in range(max(len(b) for b in blocks)):
            out.extend(b[i] for b in blocks if i < len(b))
    return out


def qr_rows(data: str, version: int | None = None) -> list[str]:
    """The symbol without quiet zone, one string of "0"/"1" per row ("1" is dark)."""
    raw = data.encode("utf-8")
    layout = _layout(version or version_for(len(raw)))
    words = codewords(raw, layout)
    value = int.from_bytes(bytes(words), "big") ^ layout.mask_bits
    bits = f"{value:0{layout.data_bits}b}"
    grid = layout.grid.copy()
    for p, bit in zip(layout.positions, bits):
        grid[p] = bit
    n = layout.size
    flat = "".join(grid)
    return [flat[i:i + n] for i in range(0, n * n, n)]


def svg_path(rows: list[str], border: int = BORDER) -> str:
    """One subpath per horizontal run of dark modules: "M{x} {y}h{w}v1h-{w}z"."""
    parts = []
    add = parts.append
    for y, row in enumerate(rows, border):
        for run in _RUN.finditer(row):
            x, w = run.start() + border, run.end() - run.start()
            add(f"M{x} {y}h{w}v1h-{w}z")
    return "".join(parts)


def qr_svg(data: str, label: str = "", css_class: str = "qr") -> Markup:
    rows = qr_rows(data)
    size = len(rows) + 2 * BORDER
    return Markup(
        f'<svg class="{escape(css_class)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges" role="img" aria-label="{escape(label)}">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{svg_path(rows)}"/></svg>'
    )
