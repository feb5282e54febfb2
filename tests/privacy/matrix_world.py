"""Records of the privacy domain for the security tests' world (``tests/security/world.py``
adds these makers): a finished data-subject export and a retention rule, both admins' own."""

import zipfile
from typing import Any

from pipewise.jobs import service as jobs
from pipewise.privacy import retention, subject_export


def _admin(world: Any) -> Any:
    return world.factory.actor(world.users["admin"])


def finished_export(world: Any, owner: str) -> dict[str, Any]:
    job = jobs.start(world.session, kind=subject_export.JOB_KIND, title="Export of everything held", actor=_admin(world))
    job.status = "done"
    path = subject_export.export_path(job.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", "{}")
    return {"job_id": job.id}


def retention_rule(world: Any, owner: str) -> dict[str, Any]:
    rule = retention.create_rule(world.session, {"name": "Old leads", "kind": "unconverted_leads", "months": 120,
                                                 "enabled": False}, actor=_admin(world))
    return {"rule_id": rule.id}


MAKERS = {"subject_export": finished_export, "retention_rule": retention_rule}
