from decimal import Decimal

from sqlalchemy import select

from pipewise.crm.models import Task
from tests.automation.support import drain, make_workflow, messages, only_enrollment


def test_deal_created_makes_a_task_for_the_owner(session, factory, clock):
    factory.pipeline()
    rep = factory.user()
    wf = make_workflow(
        session,
        {
            "trigger": {"type": "record_created", "record_type": "deal"},
            "conditions": {"field": "amount", "op": "gte", "value": 5000},
            "steps": [{"id": "call", "type": "create_task", "title": "Call about {{ record.name }}", "due_in": "1d"}],
        },
    )
    big = factory.deal(owner=rep, amount=Decimal("6000"))
    small = factory.deal(owner=rep, amount=Decimal("1200"))
    drain(session)
    assert only_enrollment(session, wf).record_id == big.id
    task = session.scalar(select(Task).where(Task.related_id == big.id))
    assert task.title == f"Call about {big.name}" and task.owner_id == rep.id
    assert messages(session, small.id) == ["not_enrolled: deal.amount 1,200 is below 5,000"]
    print(messages(session, big.id))
