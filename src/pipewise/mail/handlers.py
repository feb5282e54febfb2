"""The mail package's timer (checking on a queued message and sending it when due) and
its subscriber: notifications its users want by e-mail."""

from pipewise.events import bus
from pipewise.mail import delivery, notices
from pipewise.notifications.events import NotificationCreated

TABLE = bus.HandlerTable(
    # Rerun-safe: the letter is a ledger row keyed by its notification, sent after commit.
    subscriptions=(bus.Subscription.to(NotificationCreated, "mail.notification_email", notices.send_by_email, rerun_safe=True),),
    timers={delivery.DELIVER_ACTION: bus.ActionKind(delivery.run_delivery_check)},
)
