"""Workflows as files: export to YAML or JSON, import (as a new draft), with errors that
point at the line's field rather than a stack trace."""

import json
from typing import Any

import yaml
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.automation.definition import check_shape
from pipewise.automation.models import Workflow, WorkflowVersion
from pipewise.automation.service import workflow_service
from pipewise.errors import ErrorCollector, ValidationFailed

FORMATS = ("yaml", "json")
MAX_DOCUMENT_CHARS = 1_000_000
DOCUMENT_FIELDS = ("name", "description", "requires_approval")


def to_document(workflow: Workflow, version: WorkflowVersion) -> dict[str, Any]:
    document: dict[str, Any] = {"name": workflow.name}
    if workflow.description:
        document["description"] = workflow.description
    if workflow.requires_approval:
        document["requires_approval"] = True
    document.update(version.definition)
    return document


def dump(document: dict[str, Any], fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def export_text(session: Session, workflow_id: Any, *, fmt: str = "yaml", version_number: int | None = None) -> str:
    workflow = workflow_service.get(session, workflow_id)
    versions = {v.number: v for v in workflow_service.versions(session, workflow.id)}
    number = version_number or workflow.latest_version
    if number not in versions:
        raise ValidationFailed.on("version", f"the workflow has no version {number}")
    return dump(to_document(workflow, versions[number]), fmt)


def parse_text(text: str, fmt: str | None = None) -> dict[str, Any]:
    """YAML or JSON (JSON is YAML too) → a workflow document, bounded in size and depth."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise ValidationFailed.on("file", f"is too large (more than {MAX_DOCUMENT_CHARS:,} characters)")
    try:
        document = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ValidationFailed.on("file", f"is not valid {fmt or 'YAML'}: {exc}".splitlines()[0]) from None
    except RecursionError:
        raise ValidationFailed.on("file", "is nested too deeply") from None
    check_shape(document, "file")
    if not isinstance(document, dict):
        raise ValidationFailed.on("file", "must hold one workflow: a mapping with name, trigger and steps")
    return document


def split_document(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(workflow fields, definition) of a document."""
    meta = {k: document[k] for k in DOCUMENT_FIELDS if k in document}
    definition = {k: v for k, v in document.items() if k not in DOCUMENT_FIELDS}
    return meta, definition


def import_document(session: Session, document: dict[str, Any], *, actor: Actor) -> Workflow:
    meta, definition = split_document(document)
    errors = ErrorCollector()
    if not isinstance(meta.get("name"), str) or not meta["name"].strip():
        errors.add("name", "is required")
    errors.raise_if_any()
    return workflow_service.create(
        session, name=meta["name"], description=meta.get("description"), definition=definition, actor=actor,
        requires_approval=bool(meta.get("requires_approval", False)),
    )
