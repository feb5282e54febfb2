"""What billing does when other things happen: an accepted quote becomes an order (once,
however often the event arrives), and the daily check marks overdue invoices."""

import logging

from sqlalchemy.orm import Session

from pipewise.billing import invoices, orders
from pipewise.errors import PipewiseError, ValidationFailed
from pipewise.events import bus
from pipewise.quotes.acceptance import owner_actor
from pipewise.quotes.events import QuoteAccepted
from pipewise.quotes.models import Quote

log = logging.getLogger(__name__)


def order_accepted_quote(session: Session, event: bus.Event) -> None:
    """The buyer's yes is a commitment: the order is made and confirmed at once, so its
    stock is reserved before anyone else's order takes it. When stock is short the order
    stays a draft and the deal's owner gets a task saying what is missing. Both act with
    the rights of the quote's owner, who sent it."""
    quote = session.get(Quote, event.record_id) if event.record_id is not None else None
    if quote is None:
        return
    actor = owner_actor(session, quote.owner_id)
    try:
        order, new = orders.from_quote(session, quote.id, actor=actor, by_hand=False)
    except PipewiseError as exc:  # gone, revised, or nothing selected: nothing to order
        log.info("no order from quote %s: %s", event.record_id, exc.detail)
        return
    if not new:
        return
    try:
        with session.begin_nested():
            orders.confirm(session, order.id, actor=actor)
    except ValidationFailed as exc:
        orders.tell_owner_unconfirmed(session, order, exc)


TABLE = bus.HandlerTable(
    subscriptions=(bus.Subscription.to(QuoteAccepted, "billing.order_from_quote", order_accepted_quote, rerun_safe=True),),
    timers={invoices.OVERDUE_ACTION: bus.ActionKind(invoices.run_overdue_check, rerun_safe=True)},
)
