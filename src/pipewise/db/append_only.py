"""Tables whose rows are only ever added (the audit trail, the consent ledger): the ORM
refuses to change or delete one of their rows, so no service can do it by mistake. Bulk
statements (``update()``/``delete()``) are left to the few places allowed to use them:
a retention purge, an erasure."""

from typing import Any

from sqlalchemy import event


class AppendOnly(Exception):
    pass


def append_only(model: type, *, on_change: str, on_delete: str) -> None:
    """Refuse, with these messages, an ORM update or delete of a ``model`` row."""

    def refuse_change(mapper: Any, connection: Any, target: Any) -> None:
        raise AppendOnly(on_change)

    def refuse_delete(mapper: Any, connection: Any, target: Any) -> None:
        raise AppendOnly(on_delete)

    event.listen(model, "before_update", refuse_change)
    event.listen(model, "before_delete", refuse_delete)
