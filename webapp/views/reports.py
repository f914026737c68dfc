"""The service department's reports (/reports): managers see their site's figures for today, the
week, the month or a custom range beside the previous period, with the targets of the site; an
admin may also read another site or all sites together. An advisor reads their own day
(/reports/me). Every table exports to CSV and all of them to one Excel workbook.

Read-only. The figures block refetches on the live hints of deliveries and payments (the cashier's
room, which supervisors may join), so a car handed over moves today's numbers without a reload."""
from flask import Blueprint, Response, abort, render_template, request, stream_with_context, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block

from .. import history as day_rules
from ..messages import error_text
from ..reports import month
from ..extensions import db
from ..reports.export import csv_chunks, xlsx_bytes
from ..reports.period import RANGES, Period, named
from ..reports.tables import BUILDERS, advisor_table, all_tables, attendance_table, cell_text, chart_top, kpis
from ..roles import ADMIN, ADVISOR
from ..security import roles_required
from ..sites import all_sites
from ..timeutil import local_day

bp = Blueprint("reports", __name__, url_prefix="/reports")
bp.add_app_template_global(cell_text, "report_cell")
bp.add_app_template_global(chart_top, "report_chart_top")
PAGE = "reports/index.html"
NO_STORE = {"Cache-Control": "private, no-store"}


def _sites():
    """The sites the user may read and the ids chosen (``site``: an id, or "all" for an admin)."""
    if current_user.role != ADMIN:
        return [current_user.site], (current_user.site_id,), str(current_user.site_id)
    sites = all_sites()
    raw = request.args.get("site") or str(current_user.site_id)
    if raw == "all":
        return sites, tuple(s.id for s in sites), "all"
    chosen = next((s for s in sites if str(s.id) == raw), None)
    if chosen is None:
        abort(404)
    return sites, (chosen.id,), raw


def _period(tz):
    """The range asked for, and field errors of a custom one (the typed values are kept)."""
    kind = request.args.get("range") or "today"
    if kind not in RANGES:
        kind = "today"
    today = local_day(tz)
    typed = {"from": request.args.get("from", ""), "to": request.args.get("to", "")}
    if kind != "custom":
        return kind, named(kind, today, tz), {}, typed
    start, end, errors = day_rules.parse_range(typed["from"], typed["to"])
    if errors:
        return kind, named("today", today, tz), {k: error_text(v) for k, v in errors.items()}, typed
    return kind, Period(start, end, tz), {}, typed


def _context():
    sites, site_ids, site_choice = _sites()
    tz = sites[0].timezone if sites else current_user.site.timezone
    kind, period, errors, typed = _period(tz)
    report = month.build(site_ids, period.start, period.end)
    args = {"range": kind, "site": site_choice, **({"from": typed["from"], "to": typed["to"]} if kind == "custom" else {})}
    tables = all_tables(report)
    # the ten stages as bars; the time in the shop (their sum and more) would flatten them
    stage_bars = [[row[0], row[2], row[3]] for row in tables["stages"].rows[:-1]]
    return {"report": report, "kpis": kpis(report), "tables": tables, "stage_bars": stage_bars,
            "locale": str(get_locale()), "range": kind, "period": period,
            "errors": errors, "typed": typed, "sites": sites, "site_choice": site_choice, "args": args,
            "is_admin": current_user.role == ADMIN, "today": local_day(tz),
            "live": period.start <= local_day(tz) <= period.end}


@bp.get("")
@roles_required()
def index():
    ctx = _context()
    return render_template(PAGE, **ctx), (422 if ctx["errors"] else 200), NO_STORE


@bp.get("/figures")
@roles_required()
def figures():
    return render_block(PAGE, "figures", **_context()), 200, NO_STORE


@bp.get("/<key>.csv")
@roles_required()
def table_csv(key):
    if key not in BUILDERS:
        abort(404)
    ctx = _context()
    if ctx["errors"]:
        abort(422)
    p = ctx["period"]
    name = f"{key}-{p.start:%Y%m%d}-{p.end:%Y%m%d}.csv"
    table = _every_car(ctx) if key == "attendance" else ctx["tables"][key]
    return Response(stream_with_context(csv_chunks(table)), 200,
                    {"Content-Type": "text/csv; charset=utf-8",
                     "Content-Disposition": f'attachment; filename="{name}"', **NO_STORE})


def _every_car(ctx):
    """The cars in and out with every row of the period (the page holds the first ones), read from
    the database in batches as the export writes them."""
    report = ctx["report"]
    q = month.attendance(report.site_ids, report.current.period).execution_options(yield_per=1000)
    return attendance_table(report, rows=(r for r in db.session.execute(q)), total=report.current.delivered)


@bp.get("/report.xlsx")
@roles_required()
def workbook():
    ctx = _context()
    if ctx["errors"]:
        abort(422)
    p = ctx["period"]
    title = _("Service reports %(start)s – %(end)s", start=p.start.isoformat(), end=p.end.isoformat())
    tables = {**ctx["tables"], "attendance": _every_car(ctx)}
    body = xlsx_bytes(list(tables.values()), title)
    name = f"reports-{p.start:%Y%m%d}-{p.end:%Y%m%d}.xlsx"
    return body, 200, {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       "Content-Disposition": f'attachment; filename="{name}"', **NO_STORE}


@bp.get("/me")
@roles_required(ADVISOR)
def my_day():
    """The advisor's own day: their deliveries, on time, same day, their stage times and cars."""
    site = current_user.site
    today = local_day(site.timezone)
    report = month.build((site.id,), today, today)
    counts = report.current.advisor_counts.get(current_user.id, [0, 0, 0, 0])
    return render_template("reports/me.html", report=report, counts=counts, today=today,
                           stages=advisor_table(report, current_user.id),
                           cars=attendance_table(report, rows=db.session.execute(
                               month.attendance((site.id,), report.current.period, current_user.id)).all())), 200, NO_STORE
