"""User-written e-mail templates in a Jinja2 sandbox.

Templates see only the merge fields offered here (contact, account, deal, owner, sender,
snippets, unsubscribe_url), as ``Fields`` objects: attribute access on anything else,
method calls, imports and includes are refused. An empty field is undefined, so
``{{ contact.first_name | default("there") }}`` falls back. ``validate`` checks syntax and
every field a template names before a sequence may go live. The sandbox is the bounded
one of ``pipewise.templating``: an e-mail's parts render within one time and size budget."""

import html
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

from jinja2 import Undefined, nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.crm.models import Account, Contact
from pipewise.deals.models import Deal, DealContact, Stage
from pipewise.errors import ErrorCollector, FieldError, ValidationFailed
from pipewise.records.custom_fields import definitions
from pipewise.sequences.models import EmailTemplate
from pipewise.templating import BoundedEnvironment, bounded

MAX_OUTPUT = 200_000

PERSON_FIELDS = ("name", "first_name", "email", "signature")
FIELDS: dict[str, tuple[str, ...]] = {
    "contact": ("first_name", "last_name", "full_name", "email", "phone", "title", "timezone", "lifecycle_stage", "custom"),
    "account": ("name", "domain", "industry", "size", "country", "custom"),
    "deal": ("name", "amount", "currency", "close_date", "stage", "custom"),
    "owner": PERSON_FIELDS,
    "sender": PERSON_FIELDS,
}
LEAVES = ("unsubscribe_url",)
CUSTOM_OWNERS = {"contact": "contact", "account": "account", "deal": "deal"}


class UnknownField(TemplateError):
    pass


class Fields:
    """The merge fields of one record: the only objects a template may look into."""

    __slots__ = ("_label", "_values")

    def __init__(self, label: str, values: dict[str, Any]) -> None:
        self._label = label
        self._values = values

    def lookup(self, env: "MailEnvironment", name: str) -> Any:
        if name not in self._values:
            raise UnknownField(f"{self._label} has no field {name!r}")
        value = self._values[name]
        if value is None or value == "":
            return env.undefined(name=f"{self._label}.{name}")
        return value

    def __str__(self) -> str:
        return ""


class MailEnvironment(BoundedEnvironment):
    """A sandbox that only reads ``Fields`` and never calls methods."""

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(autoescape=autoescape, undefined=Undefined, loader=None)
        self.globals.clear()

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Fields):
            return obj.lookup(self, attribute)
        if isinstance(obj, Undefined):
            return obj
        raise SecurityError(f"templates may not read {attribute!r} of a {type(obj).__name__}")

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Fields) and isinstance(argument, str):
            return obj.lookup(self, argument)
        if isinstance(obj, Undefined):
            return obj
        raise SecurityError("templates may only look up merge fields")

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        raise SecurityError("templates may not call functions or methods; use filters")

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("templates may not raise to a power")
        sizes = [len(v) if isinstance(v, (str, list, tuple)) else abs(v) for v in (left, right) if isinstance(v, (str, list, tuple, int))]
        if len(sizes) == 2 and sizes[0] * sizes[1] > MAX_OUTPUT:
            raise SecurityError("that repetition is too large for a template")
        return super().call_binop(context, operator, left, right)


HTML_ENV = MailEnvironment(autoescape=True)
TEXT_ENV = MailEnvironment(autoescape=False)


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


# -- turning records into merge fields --


def _person(user: User | None, signature: str | None) -> dict[str, Any]:
    if user is None:
        return dict.fromkeys(PERSON_FIELDS)
    return {"name": user.name, "first_name": user.name.split(" ")[0], "email": user.email, "signature": signature}


def _custom(label: str, session: Session, record_type: str, record: Any) -> Fields:
    keys = definitions(session, record_type)
    values = dict(getattr(record, "custom", None) or {}) if record is not None else {}
    return Fields(f"{label}.custom", {k: values.get(k) for k in keys})


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, (Decimal, uuid.UUID)) else value


def contact_deal(session: Session, contact: Contact) -> Deal | None:
    """The contact's newest open deal (linked to them, else at their account)."""
    open_stage = select(Stage.id).where(Stage.kind == "open")
    linked = select(DealContact.deal_id).where(DealContact.contact_id == contact.id)
    clause = Deal.id.in_(linked)
    if contact.account_id is not None:
        clause = clause | (Deal.account_id == contact.account_id)
    return session.scalar(
        select(Deal).where(clause, Deal.stage_id.in_(open_stage)).order_by(Deal.created_at.desc()).limit(1)
    )


def merge_fields(
    session: Session, contact: Contact, *, sender: User | None, signature: str | None = None, unsubscribe_url: str = ""
) -> dict[str, Any]:
    account = session.get(Account, contact.account_id) if contact.account_id else None
    deal = contact_deal(session, contact)
    owner = session.get(User, contact.owner_id) if contact.owner_id else None
    stage = session.get(Stage, deal.stage_id) if deal is not None else None
    return {
        "contact": Fields(
            "contact",
            {
                **{f: getattr(contact, f) for f in FIELDS["contact"] if f not in ("custom", "full_name")},
                "full_name": contact.full_name,
                "custom": _custom("contact", session, "contact", contact),
            },
        ),
        "account": Fields(
            "account",
            {
                **{f: (getattr(account, f) if account else None) for f in FIELDS["account"] if f != "custom"},
                "custom": _custom("account", session, "account", account),
            },
        ),
        "deal": Fields(
            "deal",
            {
                "name": deal.name if deal else None,
                "amount": _plain(deal.amount) if deal else None,
                "currency": deal.currency if deal else None,
                "close_date": deal.close_date.isoformat() if deal and deal.close_date else None,
                "stage": stage.name if stage else None,
                "custom": _custom("deal", session, "deal", deal),
            },
        ),
        "owner": Fields("owner", _person(owner, signature if owner is sender else None)),
        "sender": Fields("sender", _person(sender, signature)),
        "unsubscribe_url": unsubscribe_url,
    }


def _snippets(session: Session, env: MailEnvironment, context: dict[str, Any]) -> Fields:
    rows = session.scalars(select(EmailTemplate).where(EmailTemplate.kind == "snippet"))
    values: dict[str, Any] = {}
    for snippet in rows:
        source = snippet.body_html if env.autoescape else (snippet.body_text or html_to_text(snippet.body_html))
        text = env.from_string(source).render(context)
        values[snippet.key or ""] = Markup(text) if env.autoescape else text
    return Fields("snippets", values)


def render(
    session: Session, *, subject: str, body_html: str, body_text: str | None, context: dict[str, Any]
) -> Rendered:
    """Render the three parts (within one budget); a missing plain-text part is derived from the HTML."""
    try:
        with bounded():
            return _render_parts(session, subject=subject, body_html=body_html, body_text=body_text, context=context)
    except (TemplateError, SecurityError, TypeError, ArithmeticError) as exc:
        raise ValidationFailed.on("body_html", f"the template cannot be rendered: {exc}") from None


def _render_parts(
    session: Session, *, subject: str, body_html: str, body_text: str | None, context: dict[str, Any]
) -> Rendered:
    subject_out = TEXT_ENV.from_string(subject).render({**context, "snippets": Fields("snippets", {})})
    html_out = HTML_ENV.from_string(body_html).render({**context, "snippets": _snippets(session, HTML_ENV, context)})
    if body_text:
        text_ctx = {**context, "snippets": _snippets(session, TEXT_ENV, context)}
        text_out = TEXT_ENV.from_string(body_text).render(text_ctx)
    else:
        text_out = html_to_text(html_out)
    if len(html_out) + len(text_out) > MAX_OUTPUT:
        raise ValidationFailed.on("body_html", "the rendered e-mail is too large")
    return Rendered(" ".join(subject_out.split()), html_out, text_out)


# -- validation before a sequence goes live --


def _known_paths(session: Session) -> set[str]:
    paths = set(LEAVES) | set(FIELDS) | {"snippets"}
    for record, fields in FIELDS.items():
        paths.update(f"{record}.{f}" for f in fields)
        if record in CUSTOM_OWNERS:
            paths.update(f"{record}.custom.{k}" for k in definitions(session, CUSTOM_OWNERS[record]))
    keys = session.scalars(select(EmailTemplate.key).where(EmailTemplate.kind == "snippet"))
    paths.update(f"snippets.{k}" for k in keys if k)
    return paths


def _dotted(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        base = _dotted(node.node)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        base = _dotted(node.node)
        return f"{base}.{node.arg.value}" if base else None
    return None


def field_errors(session: Session, field_name: str, source: str, *, known: set[str] | None = None) -> list[FieldError]:
    """Syntax errors and unknown merge fields in one template part."""
    known = known if known is not None else _known_paths(session)
    try:
        tree = HTML_ENV.parse(source)
        HTML_ENV.compile(source)
    except TemplateSyntaxError as exc:
        return [FieldError(field_name, f"syntax error on line {exc.lineno}: {exc.message}")]
    except SecurityError as exc:  # too long or too deeply nested
        return [FieldError(field_name, str(exc))]
    errors = []
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    unknown = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        path = _dotted(node)
        if path is not None and path.split(".")[0] not in assigned and path not in known:
            unknown.add(path)
    for path in sorted(unknown):
        if not any(other.startswith(path + ".") for other in unknown):
            errors.append(FieldError(field_name, f"unknown merge field {{{{ {path} }}}}"))
    for call in tree.find_all(nodes.Call):
        errors.append(FieldError(field_name, f"line {call.lineno}: templates may not call functions; use filters"))
    for include in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        errors.append(FieldError(field_name, f"line {include.lineno}: templates may not include or import others"))
    if not errors:
        try:
            with bounded():
                HTML_ENV.from_string(source).render(_sample_context(known))
        except (SecurityError, TemplateError, TypeError, ArithmeticError) as exc:
            errors.append(FieldError(field_name, f"the template cannot be rendered: {exc}"))
    unique = {(e.field, e.message): e for e in errors}
    return list(unique.values())


def _sample_context(known: set[str]) -> dict[str, Any]:
    """Every known merge field filled with a sample value, to try a template out."""
    tree: dict[str, Any] = {}
    for path in sorted(known):
        node = tree
        for part in path.split("."):
            node = node.setdefault(part, {})

    def build(label: str, branch: dict[str, Any]) -> Any:
        if not branch:
            return "sample"
        return Fields(label, {k: build(f"{label}.{k}", v) for k, v in branch.items()})

    return {name: build(name, branch) for name, branch in tree.items()}


def validate_parts(session: Session, parts: dict[str, str | None], errors: ErrorCollector, *, prefix: str = "") -> None:
    known = _known_paths(session)
    for name, source in parts.items():
        if source:
            errors.errors.extend(field_errors(session, prefix + name, source, known=known))


# -- plain text from HTML --


class _TextExtractor(HTMLParser):
    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table", "ul", "ol"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._href: str | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        if tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip = max(0, self._skip - 1)
        if tag == "a" and self._href:
            self.parts.append(f" ({self._href})")
            self._href = None
        if tag in ("p", "div", "h1", "h2", "h3", "h4"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(source: str) -> str:
    parser = _TextExtractor()
    parser.feed(source)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\n\s*\n\s*\n+", "\n\n", text)
    return "\n".join(line.strip() for line in text.strip().splitlines())


def text_to_html(text: str) -> str:
    return "<p>" + html.escape(text).replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p>"
