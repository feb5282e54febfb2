"""Settings › Pipelines, Custom fields and Lead forms over HTTP: saved through the deals,
records and lead capture services; bad input answers 422 with the message by its field."""

from decimal import Decimal

from sqlalchemy import select

from pipewise.deals.models import Pipeline, Stage
from pipewise.leads.models import LeadForm
from pipewise.quotes.models import PriceBook, Product
from pipewise.records.models import CustomFieldDefinition
from tests.web.test_board import logged_in
from tests.web.test_settings_people import fresh, post


def stages_of(session, pipeline_id):
    return list(fresh(session).scalars(select(Stage).where(Stage.pipeline_id == pipeline_id).order_by(Stage.position)))


class TestPipelines:
    def test_add_a_stage_with_required_fields(self, web, factory, session):
        logged_in(web, factory, session, role="admin")
        pipeline, _stages = factory.pipeline()
        session.commit()
        page = web.get(f"/settings/pipelines?pipeline={pipeline.id}")
        assert page.status_code == 200 and 'id="stage-list"' in page.text
        r = post(web, f"/settings/pipelines/{pipeline.id}/stages",
                     {"name": "Legal review", "probability": "70", "kind": "open", "required_fields": ["amount", "next_step"]})
        assert r.status_code == 303
        added = stages_of(session, pipeline.id)[-1]
        assert (added.name, added.probability, added.required_fields) == ("Legal review", 70, ["amount", "next_step"])

    def test_bad_stage_input_is_shown_by_field(self, web, factory, session):
        logged_in(web, factory, session, role="admin")
        pipeline, stages = factory.pipeline()
        session.commit()
        r = post(web, f"/settings/pipelines/{pipeline.id}/stages", {"name": "", "probability": "140", "kind": "open"})
        assert r.status_code == 422
        assert 'id="new-stage-name-msg"' in r.text and 'id="new-stage-probability-msg"' in r.text
        assert "must be at most 100" in r.text
        edit = post(web, f"/settings/stages/{stages[0].id}", {"name": stages[1].name, "probability": "x", "kind": "open"})
        assert edit.status_code == 422 and f'id="stage-{stages[0].id}-probability-msg"' in edit.text
        duplicate = post(web, f"/settings/stages/{stages[0].id}", {"name": stages[1].name, "probability": "5", "kind": "open"})
        assert duplicate.status_code == 422 and "is taken" in duplicate.text
        assert len(stages_of(session, pipeline.id)) == len(stages)

    def test_edit_a_stage_and_reorder(self, web, factory, session):
        logged_in(web, factory, session, role="admin")
        pipeline, stages = factory.pipeline()
        session.commit()
        r = post(web, f"/settings/stages/{stages[0].id}", {"name": "Discovery", "probability": "15", "kind": "open",
                                                          "required_fields": ["close_date"]})
        assert r.status_code == 303
        first = stages_of(session, pipeline.id)[0]
        assert (first.name, first.probability, first.required_fields) == ("Discovery", 15, ["close_date"])
        reversed_ids = [str(s.id) for s in reversed(stages)]
        assert post(web, f"/settings/pipelines/{pipeline.id}/order", {"stage_id": reversed_ids}, htmx=True).status_code == 204
        assert [str(s.id) for s in stages_of(session, pipeline.id)] == reversed_ids
        assert post(web, f"/settings/stages/{stages[0].id}/move", {"direction": "down"}).status_code == 303
        assert post(web, f"/settings/pipelines/{pipeline.id}/order", {"stage_id": reversed_ids[:1]}, htmx=True).status_code == 422

    def test_remove_a_stage_only_when_no_deal_is_in_it(self, web, factory, session):
        admin = logged_in(web, factory, session, role="admin")
        pipeline, stages = factory.pipeline()
        factory.deal(admin, stage_id=stages[0].id)
        session.commit()
        kept = [s.id for s in stages if s.id != stages[1].id]
        busy = post(web, f"/settings/stages/{stages[0].id}/delete")
        assert busy.status_code == 409 and "move them first" in busy.text
        assert post(web, f"/settings/stages/{stages[1].id}/delete").status_code == 303
        assert [s.id for s in stages_of(session, pipeline.id)] == kept

    def test_new_pipeline_and_its_settings(self, web, factory, session):
        logged_in(web, factory, session, role="admin")
        assert post(web, "/settings/pipelines", {"name": "Renewals"}).status_code == 303
        pipeline = fresh(session).scalar(select(Pipeline).where(Pipeline.name == "Renewals"))
        bad = post(web, f"/settings/pipelines/{pipeline.id}", {"name": "Renewals", "stale_after_days": "0"})
        assert bad.status_code == 422 and 'id="pipeline-stale-msg"' in bad.text
        assert post(web, f"/settings/pipelines/{pipeline.id}", {"name": "Renewals", "stale_after_days": "30"}).status_code == 303
        assert fresh(session).get(Pipeline, pipeline.id).stale_after_days == 30


class TestCustomFields:
    def test_add_and_edit_a_field(self, web, factory, session):
        logged_in(web, factory, session, role="admin")
        factory.pipeline()
        session.commit()
        r = post(web, "/settings/fields", {"record_type": "deal", "label": "Tier", "key": "tier", "field_type": "choice",
                                          "choices": "Gold, Silver", "required": "on"})
        assert r.status_code == 303
        field = fresh(session).scalar(select(CustomFieldDefinition).where(CustomFieldDefinition.key == "tier"))
        assert (field.choices, field.required) == (["Gold", "Silver"], True)
        assert "custom.tier" in web.get("/settings/pipelines").text  # a stage may require it
        assert post(web, f"/settings/fields/{field.id}", {"label": "Tier level", "choices": "Gold, Silver, Bronze"}).status_code == 303
        field = fresh(session).get(CustomFieldDefinition, field.id)
        assert (field.label, field.choices, field.required) == ("Tier level", ["Gold", "Silver", "Bronze"], False)

    def test_bad_key_and_missing_choices(self, web, factory, session):
        logged_in(web, factory, session, role="admin")
        r = post(web, "/settings/fields", {"record_type": "deal", "label": "Tier", "key": "Bad Key", "field_type": "choice"})
        assert r.status_code == 422
        assert 'id="field-key-msg"' in r.text and 'id="field-choices-msg"' in r.text
        assert fresh(session).scalar(select(CustomFieldDefinition)) is None


class TestLeadForms:
    FORM = {"name": "Contact us", "source": "website", "success_message": "Thanks!", "rate_limit_per_minute": "10",
            "is_active": "on", "row0-name": "email", "row0-target": "email", "row0-required": "on",
            "row1-name": "", "row1-target": "company", "row2-name": "", "row2-target": ""}

    def test_build_preview_and_save(self, web, factory, session):
        logged_in(web, factory, session, role="manager")
        assert web.get("/settings/lead-forms/edit").status_code == 200
        preview = post(web, "/settings/lead-forms/preview", self.FORM, htmx=True)
        assert preview.status_code == 200 and 'type="email" name="email"' in preview.text and "Company" in preview.text
        assert post(web, "/settings/lead-forms/save", self.FORM).status_code == 303
        form = fresh(session).scalar(select(LeadForm))
        assert (form.field_map, form.required_fields) == ({"email": "email", "company": "company"}, ["email"])
        edit = web.get(f"/settings/lead-forms/edit?form={form.id}")
        assert f"/f/{form.key}" in edit.text and "Contact us" in web.get("/settings/lead-forms").text
        r = post(web, "/settings/lead-forms/save", {**self.FORM, "form_id": str(form.id), "name": "Contact sales"})
        assert r.status_code == 303 and fresh(session).get(LeadForm, form.id).name == "Contact sales"

    def test_a_form_without_name_or_email_and_a_row_without_a_lead_field(self, web, factory, session):
        logged_in(web, factory, session, role="admin")
        r = post(web, "/settings/lead-forms/save", {**self.FORM, "name": "", "row0-target": "company", "row1-target": "",
                                                   "row1-name": "shoe_size"})
        assert r.status_code == 422
        assert 'id="lf-name-msg"' in r.text and 'id="row1-msg"' in r.text
        r = post(web, "/settings/lead-forms/save", {**self.FORM, "row0-target": "company", "row1-target": ""})
        assert r.status_code == 422 and "a form needs a name or an e-mail field" in r.text
        assert fresh(session).scalar(select(LeadForm)) is None


class TestCatalogue:
    def test_products_and_a_price_book_with_a_tier(self, web, factory, session):
        logged_in(web, factory, session, role="admin")
        assert post(web, "/settings/products", {"sku": "SEAT", "name": "Seat", "price": "100.00", "currency": "EUR",
                                               "unit": "C62", "tax_rate": "19"}).status_code == 303
        product = fresh(session).scalar(select(Product).where(Product.sku == "SEAT"))
        assert (product.price, product.currency) == (Decimal("100.00"), "EUR")
        assert post(web, f"/settings/products/{product.id}/active").status_code == 303
        assert fresh(session).get(Product, product.id).active is False
        assert post(web, "/settings/price-books", {"name": "Enterprise", "currency": "EUR", "segment": "enterprise"}).status_code == 303
        book = fresh(session).scalar(select(PriceBook))
        r = post(web, f"/settings/price-books/{book.id}/entries", {"product_id": str(product.id), "min_quantity": "10",
                                                                  "unit_price": "80"})
        assert r.status_code == 303
        assert "Seat (SEAT)" in web.get(f"/settings/price-books?book={book.id}").text

    def test_bad_product_and_book_input(self, web, factory, session):
        logged_in(web, factory, session, role="admin")
        r = post(web, "/settings/products", {"sku": "", "name": "Seat", "price": "cheap", "currency": "EUR", "unit": "C62",
                                            "tax_rate": "0"})
        assert r.status_code == 422 and 'id="product-sku-msg"' in r.text and 'id="product-price-msg"' in r.text
        r = post(web, "/settings/price-books", {"name": "Bad dates", "currency": "EUR", "valid_from": "2026-05-01",
                                               "valid_to": "2026-01-01"})
        assert r.status_code == 422 and 'id="book-to-msg"' in r.text
        assert fresh(session).scalar(select(PriceBook)) is None
