"""Import and export join the kernel: the import profiles and the adapters."""

from pipewise.dataio.profiles import PROFILES
from pipewise.kernel import CrudResource, Kernel
from pipewise.records import import_models  # noqa: F401 - the import tables
from pipewise.records.imports import register_profile


# plural -> the record type's REST surface (its service and output schema), for the export
# pages; filled from the kernel, so every type registered before this domain is exportable.
EXPORTABLE: dict[str, CrudResource] = {}


def register(kernel: Kernel) -> None:
    EXPORTABLE.update({resource.path.strip("/"): resource for resource in kernel.crud_resources})
    kernel.scrubbed_columns("record_import", "error")
    kernel.scrubbed_columns("record_import_row", "errors", "excerpt")
    for profile in PROFILES:
        register_profile(profile)
    kernel.api("pipewise.api.v1.record_imports:router")
    kernel.web("pipewise.web.dataio.pages:router")
    kernel.cli("records", "pipewise.cli.dataio:records_app")
