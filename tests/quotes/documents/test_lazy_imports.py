"""WeasyPrint (with Pango, about 40 MB) and the Factur-X library load with the first
document, not when an API process or the CLI starts, even with the document modules
imported."""

import os
import subprocess
import sys
from pathlib import Path

import pipewise


def test_document_libraries_load_on_first_use_not_at_start():
    probe = (
        "import sys\n"
        "from pipewise.app import create_app\n"
        "create_app(start_worker=False)\n"
        "import pipewise.cli.main\n"
        "import pipewise.quotes.documents.builders, pipewise.quotes.documents.cii, pipewise.quotes.documents.ubl\n"
        "print(sorted(m for m in ('weasyprint', 'facturx', 'pypdf', 'saxonche') if m in sys.modules))\n"
    )
    source = str(Path(pipewise.__file__).resolve().parents[1])  # this checkout's code, as pytest runs it
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (source, os.environ.get("PYTHONPATH"))))}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120, env=env
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
