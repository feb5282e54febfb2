"""Notifications by e-mail: a notification of a kind its user asked to get by e-mail too
(``notification_preference``) goes out through the one mail path, keyed by the
notification, so a retried handler never sends it twice."""

import uuid

from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.events import bus
from pipewise.mail import compose
from pipewise.mail.settings import get_mail_settings
from pipewise.notifications import service as notifications
from pipewise.notifications.models import Notification


def letter_for(notification: Notification, user: User) -> compose.Letter:
    site = get_mail_settings().public_url.rstrip("/")
    lines = [notification.body or notification.title, f"See it in Pipewise: {site}/notifications"]
    lines.append(f"You get this e-mail because you asked for it: {site}/notifications/settings")
    return compose.Letter(
        to_address=user.email, subject=notification.title, text="\n\n".join(lines), kind="notice", automated=True,
        send_key=f"notification:{notification.id}",
    )


def send_by_email(session: Session, event: bus.Event) -> None:
    # Asked from the event first: most notifications go to the inbox only, and then nothing
    # needs loading.
    data = event.payload["data"]
    if not notifications.wants_email(session, uuid.UUID(data["user_id"]), data["kind"]):
        return
    notification = session.get(Notification, event.record_id)
    if notification is None:
        return
    user = session.get(User, notification.user_id)
    if user is None or not user.is_active:
        return
    try:
        compose.queue(session, letter_for(notification, user), immediately=True)
    except compose.Refused:
        return  # a suppressed address: the notification stays in the inbox only
