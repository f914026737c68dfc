"""Follow-up calls (/followup) and complaint cases (/complaints) for the CSI staff and the manager.

The two lists are live: their ``panel`` block (an HTMX partial of the page) is refetched after
every hint of the site's ``advisor`` Socket.IO room and every minute. A call and the actions on a
case are plain forms: a good POST redirects (PRG), bad input answers 422 with the page, the
message next to the field and what was typed. Overdue cases are escalated by a periodic task
(webapp/tasks/periodic.py), not by a page load; the list shows overdue ones first either way."""
from flask import Blueprint, abort, flash, get_flashed_messages, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block

from .. import followup as rules
from ..roles import CSI, MANAGER
from ..security import roles_required
from ..services import ServiceError
from ..services import complaints as complaints_svc
from ..services import followup as svc
from ..timeutil import utcnow
from ..commands.followup import parse_call
from ..messages import error_text, error_texts
from ..validation import Invalid
from ..statuses import FollowUpStatus

bp = Blueprint("followup", __name__)
QUEUE = "followup/queue.html"
CALL = "followup/call.html"
LIST = "followup/complaints.html"
CASE = "followup/complaint.html"


def question_labels() -> dict:
    return {
        "explained": _("Did we explain the work well?"),
        "on_time": _("Was the car ready when promised?"),
        "clean": _("Was the car clean?"),
        "recommend": _("Would you recommend us?"),
    }


def outcome_labels() -> dict:
    return {"reached": _("Reached"), "no_answer": _("No answer"), "wrong_number": _("Wrong number")}


def status_labels() -> dict:
    return {FollowUpStatus.DUE: _("Due"), FollowUpStatus.REACHED: _("Reached"),
            FollowUpStatus.UNREACHABLE: _("Unreachable"), FollowUpStatus.WRONG_NUMBER: _("Wrong number")}


def source_labels() -> dict:
    return {"rating": _("Rating on the status page"), "call": _("Follow-up call"), "staff": _("Staff")}


def _me():
    return current_user._get_current_object()


def _globals(**ctx):
    return dict(questions=rules.QUESTIONS, question_label=question_labels(), outcome_label=outcome_labels(),
                status_label=status_labels(), source_label=source_labels(), stars=rules.stars,
                answers_of=svc.answers_of, now=utcnow(),
                role_name={"csi": _("Follow-up staff"), "manager": _("Manager")}, **ctx)


def _fail(exc: ServiceError):
    if exc.status == 404:
        abort(404)
    return error_text(exc.message)


# ---------------------------------------------------------------- the call queue

def _row(fu):
    visit = fu.visit
    customer = visit.customer
    pickup = svc.response(visit.id, "pickup")
    return {"fu": fu, "visit": visit, "name": customer.name if customer and customer.name else "",
            "mobile": visit.mobile or (customer.mobile if customer else "") or "",
            "plate": visit.plate, "advisor": visit.advisor.display_name if visit.advisor else "",
            "work": [line.description for line in svc.work_done(visit)],
            "rating": pickup.rating if pickup else None}


def _queue_context():
    me = _me()
    now = utcnow()
    return _globals(due=[_row(f) for f in svc.due_calls(me.site_id, now)],
                    upcoming=[_row(f) for f in svc.upcoming_calls(me.site_id, now)],
                    open_complaints=len(complaints_svc.open_cases(me.site_id, now)))


@bp.get("/followup")
@roles_required(CSI)
def queue():
    return render_template(QUEUE, flashes=get_flashed_messages(), **_queue_context())


@bp.get("/followup/panel")
@roles_required(CSI)
def queue_panel():
    return render_block(QUEUE, "panel", **_queue_context())


def _call_context(fu, errors=None, values=None, message=None):
    visit = fu.visit
    return _globals(r=_row(fu), fu=fu, visit=visit, calls=fu.calls, errors=errors or {}, values=values or {},
                    message=message, survey=svc.answers_of(svc.response(visit.id, "survey")),
                    survey_response=svc.response(visit.id, "survey"),
                    complaints=visit.complaints, flashes=get_flashed_messages())


@bp.get("/followup/<int:follow_up_id>")
@roles_required(CSI)
def call(follow_up_id):
    try:
        fu = svc.get(_me().site_id, follow_up_id)
    except ServiceError:
        abort(404)
    return render_template(CALL, **_call_context(fu))


@bp.post("/followup/<int:follow_up_id>/call")
@roles_required(CSI)
def record_call(follow_up_id):
    me = _me()
    outcome = request.form.get("outcome", "")
    try:
        svc.record_call(me, follow_up_id, parse_call(request.form))
    except Invalid as exc:
        fu = svc.get(me.site_id, follow_up_id)
        errors = error_texts(exc.errors)
        return render_template(CALL, **_call_context(fu, errors, request.form,
                                                     _("Please check the highlighted fields."))), 422
    except ServiceError as exc:
        text = _fail(exc)
        fu = svc.get(me.site_id, follow_up_id)
        status = exc.status
        if exc.field == "outcome":
            return render_template(CALL, **_call_context(fu, {"outcome": text}, request.form, text)), status
        return render_template(CALL, **_call_context(fu, {}, {}, text)), status
    flash({"reached": _("Call recorded: customer reached."),
           "no_answer": _("Call recorded: no answer. It comes back in the list for the next attempt."),
           "wrong_number": _("Call recorded: wrong number. The follow-up is closed.")}[outcome])
    return redirect(url_for(".queue"), code=303)


# ---------------------------------------------------------------- complaints

def _list_context():
    me = _me()
    now = utcnow()
    cases = complaints_svc.open_cases(me.site_id, now)
    return _globals(cases=cases, escalated=sum(1 for c in cases if c.escalated_at),
                    overdue=sum(1 for c in cases if rules.is_overdue(c.status, c.due_at, now)),
                    resolved=complaints_svc.recently_resolved(me.site_id))


@bp.get("/complaints")
@roles_required(CSI, MANAGER)
def complaints():
    return render_template(LIST, flashes=get_flashed_messages(), **_list_context())


@bp.get("/complaints/panel")
@roles_required(CSI, MANAGER)
def complaints_panel():
    return render_block(LIST, "panel", **_list_context())


def _case_context(case, errors=None, values=None, message=None):
    visit = case.visit
    pickup = svc.response(visit.id, "pickup") if visit else None
    return _globals(case=case, visit=visit, r=_row(visit.follow_up) if visit and visit.follow_up else None,
                    pickup=pickup, owners=complaints_svc.owner_candidates(case.site_id),
                    errors=errors or {}, values=values or {}, message=message,
                    work=[line.description for line in svc.work_done(visit)] if visit else [],
                    flashes=get_flashed_messages())


def _case(complaint_id):
    me = _me()
    try:
        return complaints_svc.get(me.site_id, complaint_id)
    except ServiceError:
        abort(404)


@bp.get("/complaints/<int:complaint_id>")
@roles_required(CSI, MANAGER)
def complaint(complaint_id):
    return render_template(CASE, **_case_context(_case(complaint_id)))


def _case_action(complaint_id, action, done_message):
    case = _case(complaint_id)
    try:
        action(case)
    except ServiceError as exc:
        text = _fail(exc)
        field = exc.field
        errors = {field: text} if field else {}
        return render_template(CASE, **_case_context(complaints_svc.get(case.site_id, complaint_id), errors,
                                                     request.form, None if field else text)), exc.status
    flash(done_message)
    return redirect(url_for(".complaint", complaint_id=complaint_id), code=303)


@bp.post("/complaints/<int:complaint_id>/assign")
@roles_required(CSI, MANAGER)
def assign(complaint_id):
    me = _me()
    return _case_action(complaint_id, lambda c: complaints_svc.assign(me, c.id, request.form.get("owner_id")),
                        _("Owner changed."))


@bp.post("/complaints/<int:complaint_id>/notes")
@roles_required(CSI, MANAGER)
def add_note(complaint_id):
    me = _me()
    return _case_action(complaint_id, lambda c: complaints_svc.add_note(me, c.id, request.form.get("text")),
                        _("Note added."))


@bp.post("/complaints/<int:complaint_id>/resolve")
@roles_required(CSI, MANAGER)
def resolve(complaint_id):
    me = _me()
    return _case_action(complaint_id,
                        lambda c: complaints_svc.resolve(me, c.id, request.form.get("resolution")),
                        _("Case resolved."))
