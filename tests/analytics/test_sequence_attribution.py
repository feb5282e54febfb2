"""A sequence's "deals created" counts only the deals that followed its touches: created
at a recipient's account (or with the recipient on the deal) after a touch of this
sequence and within the attribution window, each deal once."""

import uuid
from datetime import UTC, datetime, timedelta

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.mail.models import EmailMessage
from pipewise.sequences.service import sequence_service

STEP = {"kind": "auto_email", "delay_days": 1, "business_days": False,
        "variants": [{"label": "A", "subject": "Hi", "body_html": "<p>Hi</p>"}]}


def test_only_deals_that_followed_the_touches_count(api, session, factory):
    admin = factory.user(role="admin")
    _pipeline, stages = factory.pipeline()
    touched_account, other_account = factory.account(admin), factory.account(admin)
    recipient = factory.contact(admin, account_id=touched_account.id)
    sequence = sequence_service.create(session, data={"name": "Intro", "steps": [STEP, STEP]}, actor=SYSTEM_ACTOR)
    sequence_service.activate(session, sequence.id, actor=SYSTEM_ACTOR)
    session.flush()
    first_step, second_step = sequence_service.steps(session, sequence.id)
    enrollment = sequence_service.enroll(session, sequence_id=sequence.id, contact_id=recipient.id, actor=SYSTEM_ACTOR)
    touch = datetime.now(UTC) - timedelta(days=100)
    for step, at in ((first_step, touch), (second_step, touch + timedelta(days=3))):
        session.add(EmailMessage(message_id=f"<{uuid.uuid4().hex}@test>", direction="outbound", kind="sequence", status="sent",
                                 enrollment_id=enrollment.id, step_id=step.id, variant_id=sequence_service.variants(session, step.id)[0].id,
                                 contact_id=recipient.id, account_id=touched_account.id, from_address="a@example.com",
                                 to_address=recipient.email, sent_at=at))

    def deal_at(account_id: uuid.UUID, days_after_first_touch: float) -> None:
        deal = factory.deal(admin, account_id=account_id, stage_id=stages[0].id)
        deal.created_at = touch + timedelta(days=days_after_first_touch)

    deal_at(touched_account.id, -5)  # before the first touch: not the sequence's
    deal_at(touched_account.id, 1)  # after the first touch: credited to step 1
    deal_at(touched_account.id, 10)  # after the second: credited to step 2
    deal_at(touched_account.id, 60)  # beyond the window after the last touch
    deal_at(other_account.id, 2)  # at an account the sequence never touched
    session.commit()

    metrics = api.get(f"/api/v1/sequences/{sequence.id}/metrics", headers=factory.headers(admin)).json()
    assert [step["deals_created"] for step in metrics] == [1, 1]
    report = api.get("/api/v1/reports/sequences", headers=factory.headers(admin)).json()
    steps = next(t for t in report["tables"] if t["key"] == "steps")["rows"]
    assert [row["deals"] for row in steps] == [1, 1]
