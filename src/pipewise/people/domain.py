"""Users, teams and API tokens join the kernel."""

from pipewise.auth.models import Team, User
from pipewise.kernel import CrudResource, Kernel
from pipewise.people import schemas
from pipewise.people.service import team_service, user_service
from pipewise.records.registry import ADMINS, RecordSpec


def register(kernel: Kernel) -> None:
    kernel.record_type(
        RecordSpec(
            "user",
            "users",
            User,
            ("name", "email"),
            owned=False,
            write_roles=ADMINS,
            has_custom_fields=False,
            relations={"team": ("team_id", "team")},
            hidden_fields=frozenset({"password_hash"}),
        ),
        CrudResource(user_service, schemas.User, schemas.UserCreate, schemas.UserUpdate, "/users", "users"),
    )
    kernel.record_type(
        RecordSpec("team", "teams", Team, ("name",), owned=False, write_roles=ADMINS, has_custom_fields=False),
        CrudResource(team_service, schemas.Team, schemas.TeamCreate, schemas.TeamUpdate, "/teams", "users"),
    )
    kernel.cli("users", "pipewise.cli.people:users_app")
    kernel.cli("token", "pipewise.cli.people:token_app")
