"""Deals, pipelines and stages join the kernel."""

from pipewise.deals import schemas
from pipewise.deals.models import Deal, Pipeline, Stage
from pipewise.deals.service import deal_service, pipeline_service, stage_service
from pipewise.kernel import CrudResource, Kernel
from pipewise.records.registry import ADMINS, OWNER, RecordSpec


def register(kernel: Kernel) -> None:
    # Text that may mention a person: scrubbed when one is erased.
    kernel.scrubbed_columns("deal", "name", "next_step", "lost_reason", "custom")
    kernel.record_type(
        RecordSpec(
            "deal",
            "deals",
            Deal,
            ("name",),
            relations={
                **OWNER,
                "account": ("account_id", "account"),
                "stage": ("stage_id", "stage"),
                "pipeline": ("pipeline_id", "pipeline"),
            },
        ),
        CrudResource(deal_service, schemas.Deal, schemas.DealCreate, schemas.DealUpdate, "/deals", "deals"),
    )
    kernel.record_type(
        RecordSpec("pipeline", "pipelines", Pipeline, ("name",), owned=False, write_roles=ADMINS, has_custom_fields=False),
        CrudResource(
            pipeline_service, schemas.Pipeline, schemas.PipelineCreate, schemas.PipelineUpdate, "/pipelines", "pipelines"
        ),
    )
    kernel.record_type(
        RecordSpec(
            "stage",
            "stages",
            Stage,
            ("name",),
            owned=False,
            write_roles=ADMINS,
            has_custom_fields=False,
            relations={"pipeline": ("pipeline_id", "pipeline")},
        ),
        CrudResource(stage_service, schemas.Stage, schemas.StageCreate, schemas.StageUpdate, "/stages", "pipelines"),
    )
    kernel.web("pipewise.web.board.pages:router")
