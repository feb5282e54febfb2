"""Where free text and JSON may mention a person: the columns an erasure scrubs.

A domain names its columns once, from its ``domain.py``
(``kernel.scrubbed_columns("webhook_delivery", "request_body", "response_body")``); the
erasure (``pipewise.privacy.erasure``) replaces every occurrence of the erased person's
e-mail addresses, phone numbers and name in those columns of every row with a pseudonym.
The registry knows table and column names only, so no package has to import another."""

_columns: dict[str, tuple[str, ...]] = {}


def register_scrubbed_columns(table: str, columns: tuple[str, ...] | list[str]) -> None:
    """Scrub ``columns`` (text or JSON) of ``table`` on every erasure; registering again adds."""
    known = _columns.get(table, ())
    _columns[table] = known + tuple(c for c in columns if c not in known)


def unregister_scrubbed_columns(table: str) -> None:
    _columns.pop(table, None)


def scrubbed_columns() -> dict[str, tuple[str, ...]]:
    return dict(_columns)
