"""`pipewise workflows import|export|validate|simulate|list`."""

import yaml
from typer.testing import CliRunner

from pipewise.cli.main import app

runner = CliRunner()
WORKFLOW = """\
name: Welcome new contacts
description: say hello, then check in
trigger: {type: record_created, record_type: contact}
conditions: {field: email, op: is_not_empty}
steps:
  - {id: hello, type: send_email, subject: "Welcome {{ record.first_name }}", body: "Hello!"}
  - {id: pause, type: wait, duration: 3d}
  - {id: check, type: create_task, title: "Check in with {{ record.last_name }}"}
"""


def test_validate_import_list_export_simulate(tmp_path, session, factory):
    path = tmp_path / "welcome.yaml"
    path.write_text(WORKFLOW)
    result = runner.invoke(app, ["workflows", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "can be activated" in result.output

    result = runner.invoke(app, ["workflows", "import", str(path), "--activate"])
    assert result.exit_code == 0, result.output
    assert "as active" in result.output

    result = runner.invoke(app, ["workflows", "list"])
    assert "Welcome" in result.output and "active" in result.output

    result = runner.invoke(app, ["workflows", "export", "Welcome new contacts"])
    assert yaml.safe_load(result.output)["steps"][2]["title"] == "Check in with {{ record.last_name }}"

    factory.contact()
    session.commit()
    result = runner.invoke(app, ["workflows", "simulate", "Welcome new contacts", "--since", "1d"])
    assert result.exit_code == 0, result.output
    assert "1 would enroll" in result.output and "hello: Send the e-mail" in result.output


def test_invalid_file_is_reported_by_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(WORKFLOW.replace("duration: 3d", "duration: soon").replace("{{ record.last_name }}", "{{ whoever }}"))
    result = runner.invoke(app, ["workflows", "validate", str(path)])
    assert result.exit_code != 0
    assert "steps[1].duration" in result.output
