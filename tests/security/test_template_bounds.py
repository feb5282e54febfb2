"""Templates (workflow texts and e-mails) are bounded in time and size: a template that
loops for ever, recurses or builds a huge string is refused with a clear error, when it
is saved or previewed (422) and when it is used (a recorded failure)."""

import pytest
from sqlalchemy import select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.automation import templates as workflow_templates
from pipewise.automation.context import PermanentStepFailure
from pipewise.automation.models import Decision
from pipewise.crm.service import contact_service
from pipewise.errors import ValidationFailed
from pipewise.sequences import templates as mail_templates
from pipewise.sequences.models import SequenceDecision
from pipewise.sequences.service import sequence_service
from pipewise.templating import TemplateLimit
from tests.automation.support import MANAGER, drain, make_workflow, only_enrollment
from tests.sequences.conftest import clock, sequence_handlers, smtp  # noqa: F401 - fixtures
from tests.sequences.support import email_step, live_sequence, mailbox, run_worker

RUNAWAY = {
    "a huge range": "{% for i in range(10**9) %}x{% endfor %}",
    "a huge string": "{{ 'x' * 10**9 }}",
    "nested loops": "{% for i in range(1000) %}{% for j in range(1000) %}{{ i }}{% endfor %}{% endfor %}",
    "endless macro recursion": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "exponential macro recursion": "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(60) }}",
    "a huge width": "{{ 'x' | center(10**9) }}",
    "a huge format width": "{{ '%999999999s' % 'x' }}",
    "a huge power": "{{ 7 ** 100000000 }}",
    "text built in a block": "{% set s %}{% for i in range(99999) %}{{ 'x' * 99 }}{% endfor %}{% endset %}{{ s }}",
}
# E-mail templates may not call anything (no range, no macros), so their runaways are loops and sizes.
LONG = "x" * 2000
MAIL_RUNAWAY = {
    "nested loops": f"{{% for a in '{LONG}' %}}{{% for b in '{LONG}' %}}{{{{ a }}}}{{% endfor %}}{{% endfor %}}",
    "a huge string": "{{ 'x' * 1000000000 }}",
    "a huge format width": "{{ '%999999999s' | format('x') }}",
}
LIMIT_WORDS = ("too much", "too long", "too large", "too deeply", "that large")


def clear(message: str) -> bool:
    return any(words in message for words in LIMIT_WORDS)


class TestTheSandbox:
    @pytest.mark.parametrize("source", RUNAWAY.values(), ids=RUNAWAY.keys())
    def test_workflow_templates_are_refused(self, source):
        with pytest.raises(PermanentStepFailure) as caught:
            workflow_templates.render(source, workflow_templates.SAMPLE_CONTEXT)
        assert clear(str(caught.value)), caught.value

    @pytest.mark.parametrize("source", MAIL_RUNAWAY.values(), ids=MAIL_RUNAWAY.keys())
    def test_mail_templates_are_refused(self, session, factory, source):
        contact = factory.contact()
        context = mail_templates.merge_fields(session, contact, sender=None)
        with pytest.raises(ValidationFailed) as caught:
            mail_templates.render(session, subject="Hi", body_html=source, body_text=None, context=context)
        assert clear(caught.value.detail), caught.value.detail

    def test_ordinary_templates_still_render(self):
        source = "{% for i in range(3) %}{{ i }}{% endfor %} {{ 'ab' * 2 }} {{ '%3s' % 'x' }} {{ 2 ** 10 }}"
        assert workflow_templates.render(source, {}) == "012 abab   x 1024"

    def test_the_error_is_a_template_limit(self):
        env = workflow_templates._env
        with pytest.raises(TemplateLimit):
            env.from_string(RUNAWAY["nested loops"]).render()


class TestSaveAndPreview:
    @pytest.mark.parametrize("source", RUNAWAY.values(), ids=RUNAWAY.keys())
    def test_a_workflow_with_a_runaway_template_gets_a_field_error(self, api, factory, source):
        headers = factory.headers(factory.user(role="admin"))
        definition = {"trigger": {"type": "manual", "record_type": "contact"},
                      "steps": [{"id": "call", "type": "create_task", "title": source}]}
        r = api.post("/api/v1/workflows", json={"name": "Runaway", "definition": definition}, headers=headers)
        assert r.status_code == 422
        [error] = r.json()["errors"]
        assert error["field"] == "definition.steps[0].title" and clear(error["message"]), error

    @pytest.mark.parametrize("source", MAIL_RUNAWAY.values(), ids=MAIL_RUNAWAY.keys())
    def test_an_email_template_and_its_preview_get_a_field_error(self, api, factory, source):
        user = factory.user(role="admin")
        contact = factory.contact()
        headers = factory.headers(user)
        r = api.post("/api/v1/email-templates", json={"name": "Runaway", "subject": "Hi", "body_html": source}, headers=headers)
        assert r.status_code == 422
        assert any(e["field"] == "body_html" and clear(e["message"]) for e in r.json()["errors"]), r.json()
        r = api.post("/api/v1/email/preview", json={"contact_id": str(contact.id), "subject": "Hi", "body_html": source},
                     headers=headers)
        assert r.status_code == 422
        assert clear(r.json()["detail"]), r.json()


# Fine on the sample values a template is tried on when saved; runaway on a real record.
PER_RECORD = "{% for a in record.title %}{% for b in record.title %}{% for c in record.title %}x{% endfor %}{% endfor %}{% endfor %}"
MAIL_PER_RECORD = (
    "{% for a in contact.title %}{% for b in contact.title %}{% for c in contact.title %}x{% endfor %}{% endfor %}{% endfor %}"
)


class TestAtSendTime:
    def test_a_workflow_step_fails_with_the_reason(self, session, factory):
        definition = {"trigger": {"type": "record_updated", "record_type": "contact"},
                      "steps": [{"id": "call", "type": "create_task", "title": PER_RECORD}]}
        wf = make_workflow(session, definition, actor=MANAGER)
        contact = factory.contact()
        session.commit()
        contact_service.update(session, contact, data={"title": "y" * 100}, actor=MANAGER)
        drain(session)
        assert only_enrollment(session, wf).status == "failed"
        failed = session.scalars(select(Decision).where(Decision.kind == "failed")).one()
        assert "the template could not be rendered" in failed.message and clear(failed.message), failed.message

    def test_a_sequence_email_is_not_sent_and_the_reason_is_recorded(self, session, factory, smtp, clock):
        rep = factory.user(name="Rita Rep")
        mailbox(session, rep)
        contact = factory.contact(rep, title="y" * 100)
        sequence = live_sequence(session, "Runaway", [email_step("Hello", MAIL_PER_RECORD)])
        sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
        session.commit()
        run_worker()
        session.expire_all()
        assert smtp.handler.to(contact.email) == []
        reasons = [d.reason for d in session.scalars(select(SequenceDecision).where(SequenceDecision.code == "cannot_render"))]
        assert clear(reasons[0]) and "held until someone resumes it" in reasons[1], reasons
