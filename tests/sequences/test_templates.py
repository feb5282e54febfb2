"""Templates are user input: the sandbox refuses escapes, validation names every bad
field before a sequence goes live, and previews render with a real record."""

import pytest

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.sequences import templates
from pipewise.sequences.library import template_service

ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ contact.__class__.__init__.__globals__ }}",
    "{{ contact._values }}",
    "{{ self.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ contact.first_name.upper() }}",
    "{% for x in range(10) %}{% endfor %}",
    "{{ ('a' * 9999) * 9999 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{% include 'x' %}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_sandbox_escapes_are_refused_at_validation_and_at_render(session, factory, source):
    assert templates.field_errors(session, "body_html", source), source
    contact = factory.contact()
    context = templates.merge_fields(session, contact, sender=None)
    with pytest.raises(Exception) as caught:
        templates.render(session, subject="s", body_html=source, body_text=None, context=context)
    assert "cannot be rendered" in str(caught.value) or caught.type.__name__ in ("ValidationFailed",)


def test_unknown_fields_and_syntax_errors_are_named(session):
    errors = templates.field_errors(session, "body_html", "Hi {{ contact.frist_name }} {{ acount.name }}")
    assert {e.message for e in errors} == {"unknown merge field {{ contact.frist_name }}", "unknown merge field {{ acount.name }}"}
    (syntax,) = templates.field_errors(session, "subject", "Hello {{ contact.first_name ")
    assert syntax.message.startswith("syntax error on line 1")


def test_merge_fields_fall_back_and_snippets_and_custom_fields_render(session, factory):
    template_service.create(session, data={"name": "Sig", "kind": "snippet", "key": "cta", "body_html": "<b>Book {{ sender.first_name }}</b>"}, actor=SYSTEM_ACTOR)
    rep = factory.user(name="Rita Rep")
    account = factory.account(name="Acme <Labs>")
    contact = factory.contact(rep, first_name=None, account_id=account.id)
    context = templates.merge_fields(session, contact, sender=rep)
    rendered = templates.render(
        session, subject="For {{ account.name }}", context=context,
        body_html="<p>Hi {{ contact.first_name | default('there') }} at {{ account.name }}</p>{{ snippets.cta }}", body_text=None,
    )
    assert rendered.subject == "For Acme <Labs>"
    assert "Hi there at Acme &lt;Labs&gt;" in rendered.html and "<b>Book Rita</b>" in rendered.html
    assert "Hi there at Acme <Labs>" in rendered.text


def test_a_sequence_with_a_bad_template_is_refused_with_field_errors(api, factory):
    admin = factory.user(role="admin")
    body = {"name": "Bad", "steps": [{"kind": "auto_email", "variants": [{"subject": "Hi {{ contact.nme }}", "body_html": "{% if %}"}]}]}
    response = api.post("/api/v1/sequences", json=body, headers=factory.headers(admin))
    assert response.status_code == 422
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert fields["steps[0].variants[0].subject"] == "unknown merge field {{ contact.nme }}"
    assert fields["steps[0].variants[0].body_html"].startswith("syntax error")
    assert api.get("/api/v1/sequences", headers=factory.headers(admin)).json() == []


def test_preview_renders_with_a_real_contact(api, factory):
    rep = factory.user()
    contact = factory.contact(rep, first_name="Grace")
    response = api.post("/api/v1/email/preview", headers=factory.headers(rep),
                        json={"contact_id": str(contact.id), "subject": "Hi {{ contact.first_name }}", "body_html": "<p>{{ owner.name }}</p>"})
    assert response.status_code == 200, response.text
    assert response.json()["subject"] == "Hi Grace" and rep.name in response.json()["html"]
