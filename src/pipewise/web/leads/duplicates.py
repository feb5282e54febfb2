"""The duplicate review: possible duplicates side by side, dismiss a pair or merge it,
and a full scan for managers, in the background."""

from fastapi import Request, Response

from pipewise.db.session import session_scope
from pipewise.errors import ValidationFailed
from pipewise.jobs import service as jobs
from pipewise.leads import dedup, merge, queries
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, render, require_manager, web_router

router = web_router()
PAIRS_SHOWN = 100


@router.get("/lead-duplicates")
def duplicates(request: Request, session: DbSession, me: CurrentUser) -> Response:
    pairs = queries.pairs_to_review(session, me.actor, limit=PAIRS_SHOWN)
    return render(request, "leads/duplicates.html", {"pairs": pairs, "tab": "duplicates"})


@router.post("/lead-duplicates/{candidate_id}")
def resolve(candidate_id: int, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    pair = dedup.reviewable_pair(session, me.actor, candidate_id)
    if pair is None:
        raise ValidationFailed.on("pair", "that pair was already handled")
    action = form.get("action")
    if action == "dismiss":
        dedup.dismiss(session, me.actor, pair.id)
        flash(request, "Marked as not a duplicate.")
    elif pair.record_type != pair.candidate_type:
        raise ValidationFailed.on("pair", "a lead and a contact are not merged; convert the lead instead")
    else:
        keep_left = form.get("keep") != "right"
        survivor, other = (pair.record_id, pair.candidate_id) if keep_left else (pair.candidate_id, pair.record_id)
        merge.merge(session, pair.record_type, survivor, [other], actor=me.actor)
        flash(request, f"Merged; nothing was lost — see the {pair.record_type}'s history.")
    return redirect("/lead-duplicates")


@router.post("/lead-duplicates-scan")
def scan(request: Request, session: DbSession, me: CurrentUser) -> Response:
    """Scan in the background; the answer is the scan's progress page."""
    require_manager(me)
    job = jobs.start(session, kind="dedup_scan", title="Scan for duplicate leads and contacts", actor=me.actor,
                     unit="groups", result_url="/lead-duplicates")

    def work(progress: jobs.Progress) -> None:
        progress(0, step="Reading every lead and contact")
        # Compare in a reading transaction: the progress reports write while it runs.
        with session_scope(write=False) as reading:
            found = dedup.find_pairs(reading, progress=lambda done, total: progress(done, total, step="Comparing alike records"))
        with session_scope() as writing:
            added = dedup.store_pairs(writing, found)
        progress(0, step=f"{added:,} new possible duplicates found")

    jobs.run_after_commit(session, job.id, work)
    return redirect(f"/jobs/{job.id}")
