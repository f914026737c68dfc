"""One-off tool for merging branches written before the helpers left conftest.py (issue 11 item 8):
rewrites ``from conftest import …`` / ``from tests.conftest import …`` into the one spelling,
``from tests.factories | tests.support | tests.browser.helpers import …``. Idempotent; delete this
file once no branch needs it.

    python tests/rewrite_conftest_imports.py tests/http/test_new.py …   # or no argument: every test module
"""
import ast
import sys
from pathlib import Path

HOME = {
    "tests.factories": {"Factory", "PASSWORD", "RO_TERMS", "Shop", "STAFF_ROLES", "SHOP_SITE", "build_shop",
                        "confirm_suggestion", "visit_at_estimate", "job_at_dispatch", "visit_ready", "visit_delivered",
                        "visit_delivered_with_history", "png_data_url", "jpeg_bytes", "workshop_cars",
                        "presented_estimate"},
    "tests.support": {"csrf_token", "login", "make_app", "run_tasks", "run_together", "free_port", "pg_database",
                      "reset_pg_schema", "ROOT", "USE_PG", "NS", "WORKER", "LiveServer", "fresh_g", "decode_qr_png",
                      "decode_qr_svg", "decode_qr_image", "qr_svg_grid"},
    "tests.browser.helpers": {"sign_in", "set_lang", "screenshot", "draw_signature", "settled", "SCREENSHOTS"},
}
RENAMED = {"_fresh_g": "fresh_g", "_WORKER_N": "WORKER_N"}


def _order(name):   # CONSTANTS, Classes, functions: as isort sorts them
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name.lower())


def _lines(indent, module, names, width=120):
    names = sorted(names, key=_order)
    line = f"{indent}from {module} import {', '.join(names)}"
    if len(line) <= width:
        return [line]
    head = f"{indent}from {module} import ("
    out, cur = [], head
    for i, name in enumerate(names):
        piece = name + (", " if i < len(names) - 1 else ")")
        if len(cur) + len(piece.rstrip()) > width:
            out.append(cur.rstrip())
            cur = " " * len(head) + piece
        else:
            cur += piece
    return out + [cur]


def rewrite(path: Path) -> bool:
    source = path.read_text()
    lines = source.splitlines(keepends=True)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:   # a merge conflict not resolved yet, say
        print(f"{path}: skipped, does not parse ({exc.msg}, line {exc.lineno})", file=sys.stderr)
        return False
    found = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module in ("conftest", "tests.conftest")]
    if not found:
        return False
    renamed = set()
    for node in sorted(found, key=lambda n: -n.lineno):
        groups = {}
        for alias in node.names:
            name = RENAMED.get(alias.name, alias.name)
            if name != alias.name:
                renamed.add(alias.name)
            module = next((m for m, names in HOME.items() if name in names), None)
            if module is None:
                raise SystemExit(f"{path}:{node.lineno}: {alias.name} is not a helper any more (a fixture?)")
            groups.setdefault(module, []).append(name + (f" as {alias.asname}" if alias.asname else ""))
        new = [line + "\n" for module in sorted(groups) for line in _lines(" " * node.col_offset, module, groups[module])]
        lines[node.lineno - 1:node.end_lineno] = new
    text = "".join(lines)
    for old in renamed:
        text = text.replace(old, RENAMED[old])
    path.write_text(text)
    return True


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    paths = [Path(p) for p in sys.argv[1:]] or sorted(here.rglob("test_*.py"))
    changed = [str(p) for p in paths if rewrite(p)]
    print("\n".join(changed) or "nothing to rewrite")
