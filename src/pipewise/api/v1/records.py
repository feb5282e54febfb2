"""CRUD routes for every registered record type, from one factory."""

from collections.abc import Iterable

from fastapi import APIRouter

from pipewise.api.deps import api_router
from pipewise.api.v1.crud import crud_router
from pipewise.kernel import CrudResource


def crud_routes(resources: Iterable[CrudResource]) -> APIRouter:
    router = api_router()
    for r in resources:
        router.include_router(
            crud_router(service=r.service, out=r.out, create=r.create, update=r.update, path=r.path, tag=r.tag)
        )
    return router
