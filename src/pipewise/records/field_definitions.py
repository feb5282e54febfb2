"""Custom field definitions as records: admins add them per record type."""

from sqlalchemy import select

from pipewise.records import custom_fields
from pipewise.records.checks import check_required_text
from pipewise.records.models import CustomFieldDefinition
from pipewise.records.registry import ADMINS, RecordSpec
from pipewise.records.service import RecordService


class CustomFieldService(RecordService[CustomFieldDefinition]):
    record_type = "custom_field"

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        if record is not None:
            for frozen in ("record_type", "key", "field_type"):
                if frozen in data and data[frozen] != getattr(record, frozen):
                    errors.add(frozen, "cannot be changed once the field exists")
            return
        check_required_text(data, "label", record, errors)
        custom_fields.validate_definition(data, errors)
        if not errors.errors:
            exists = session.scalar(
                select(CustomFieldDefinition.id).where(
                    CustomFieldDefinition.record_type == data["record_type"], CustomFieldDefinition.key == data["key"]
                )
            )
            if exists is not None:
                errors.add("key", f"{data['record_type']} already has a custom field {data['key']!r}")


custom_field_service = CustomFieldService()

# The kernel's own record type: definitions of the custom fields of the domains' types.
CUSTOM_FIELD_SPEC = RecordSpec(
    "custom_field",
    "custom_fields",
    CustomFieldDefinition,
    ("key", "label"),
    owned=False,
    write_roles=ADMINS,
    has_custom_fields=False,
)
