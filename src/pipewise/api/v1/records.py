"""CRUD routes for every record type, from one factory."""

from fastapi import APIRouter

from pipewise.api.v1.crud import crud_router
from pipewise.auth import schemas as auth_schemas
from pipewise.auth.service import team_service, user_service
from pipewise.crm import schemas as crm
from pipewise.crm.service import account_service, activity_service, contact_service, custom_field_service, task_service
from pipewise.deals import schemas as deals
from pipewise.deals.service import deal_service, pipeline_service, stage_service
from pipewise.leads import schemas as leads
from pipewise.leads.service import lead_service
from pipewise.quotes import schemas as quotes
from pipewise.quotes.service import product_service

RESOURCES = (
    (account_service, crm.Account, crm.AccountCreate, crm.AccountUpdate, "/accounts", "accounts"),
    (contact_service, crm.Contact, crm.ContactCreate, crm.ContactUpdate, "/contacts", "contacts"),
    (lead_service, leads.Lead, leads.LeadCreate, leads.LeadUpdate, "/leads", "leads"),
    (deal_service, deals.Deal, deals.DealCreate, deals.DealUpdate, "/deals", "deals"),
    (activity_service, crm.Activity, crm.ActivityCreate, crm.ActivityUpdate, "/activities", "activities"),
    (task_service, crm.Task, crm.TaskCreate, crm.TaskUpdate, "/tasks", "tasks"),
    (product_service, quotes.Product, quotes.ProductCreate, quotes.ProductUpdate, "/products", "products"),
    (pipeline_service, deals.Pipeline, deals.PipelineCreate, deals.PipelineUpdate, "/pipelines", "pipelines"),
    (stage_service, deals.Stage, deals.StageCreate, deals.StageUpdate, "/stages", "pipelines"),
    (custom_field_service, crm.CustomField, crm.CustomFieldCreate, crm.CustomFieldUpdate, "/custom-fields", "custom fields"),
    (user_service, auth_schemas.User, auth_schemas.UserCreate, auth_schemas.UserUpdate, "/users", "users"),
    (team_service, auth_schemas.Team, auth_schemas.TeamCreate, auth_schemas.TeamUpdate, "/teams", "users"),
)

router = APIRouter()
for service, out, create, update, path, tag in RESOURCES:
    router.include_router(crud_router(service=service, out=out, create=create, update=update, path=path, tag=tag))
