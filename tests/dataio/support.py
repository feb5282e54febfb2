"""Running an import over HTTP the way a client does: upload, wait for the job, read back."""

import json
import uuid
from pathlib import Path
from typing import Any

from pipewise.jobs import service as jobs

DATA = Path(__file__).resolve().parents[1] / "data"


def upload(api: Any, headers: dict[str, str], plural: str, content: bytes, *, preview: bool = False,
           mapping: dict[str, str] | None = None, name: str = "rows.csv", **form: Any) -> Any:
    data = {key: str(value).lower() if isinstance(value, bool) else value for key, value in form.items()}
    if mapping is not None:
        data["mapping"] = json.dumps(mapping)
    path = f"/api/v1/{plural}/import" + ("/preview" if preview else "")
    return api.post(path, headers=headers, data=data, files={"file": (name, content, "text/csv")})


def import_and_wait(api: Any, headers: dict[str, str], plural: str, content: bytes, **options: Any) -> dict[str, Any]:
    """The finished import (as the API shows it) and its row report, by line."""
    started = upload(api, headers, plural, content, **options)
    assert started.status_code == 202, started.text
    jobs.wait_for(uuid.UUID(started.json()["job_id"]))
    import_id = started.json()["id"]
    done = api.get(f"/api/v1/record-imports/{import_id}", headers=headers)
    assert done.status_code == 200, done.text
    rows = api.get(f"/api/v1/record-imports/{import_id}/rows", headers=headers, params={"limit": 5000}).json()
    return {**done.json(), "rows": {row["line"]: row for row in rows}}
