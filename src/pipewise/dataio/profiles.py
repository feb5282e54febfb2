"""How accounts, contacts and deals are imported: the other names their columns go by (our
own, HubSpot's and Salesforce's export headers), what makes two rows the same record, and
how a related record is named in a file."""

from pipewise.crm import schemas as crm_schemas
from pipewise.crm.service import account_service, contact_service
from pipewise.deals import schemas as deal_schemas
from pipewise.deals.service import deal_service
from pipewise.records.imports import ImportProfile, Lookup

ACCOUNT_BY_NAME = Lookup("account", "account_id", "account", match_on=("name", "domain"))
OWNER_ALIASES = ["owner", "owner email", "account owner", "contact owner", "deal owner", "hubspot owner email"]

ACCOUNT = ImportProfile(
    account_service, crm_schemas.AccountCreate, crm_schemas.AccountUpdate,
    aliases={
        "name": ["account", "account name", "company", "company name", "organization", "organisation"],
        "domain": ["company domain name", "website", "website url", "web site"],
        "industry": ["industry", "sector"],
        "size": ["employees", "number of employees", "no. of employees", "numberofemployees", "company size"],
        "country": ["country/region", "billing country", "country region"],
        "owner_email": OWNER_ALIASES,
    },
    match_on=("domain",),
)

CONTACT = ImportProfile(
    contact_service, crm_schemas.ContactCreate, crm_schemas.ContactUpdate,
    aliases={
        "first_name": ["first name", "firstname", "given name", "first"],
        "last_name": ["last name", "lastname", "surname", "family name", "last"],
        "email": ["e-mail", "email address", "e-mail address", "work email"],
        "phone": ["phone number", "mobile", "mobile phone", "telephone", "business phone"],
        "title": ["job title", "position", "role"],
        "timezone": ["time zone"],
        "lifecycle_stage": ["lifecycle stage"],
        "account": ["company", "company name", "account name", "organization", "organisation", "associated company"],
        "owner_email": OWNER_ALIASES,
    },
    match_on=("email",),
    lookups=(ACCOUNT_BY_NAME,),
)

DEAL = ImportProfile(
    deal_service, deal_schemas.DealCreate, deal_schemas.DealUpdate,
    aliases={
        "name": ["deal name", "opportunity name", "opportunity", "deal"],
        "amount": ["value", "deal amount", "opportunity amount"],
        "close_date": ["close date", "closedate", "expected close date"],
        "next_step": ["next step", "nextstep"],
        "lost_reason": ["lost reason", "closed lost reason"],
        "account": ["company", "company name", "account name", "associated company"],
        "pipeline": ["pipeline name", "deal pipeline"],
        "stage": ["stage name", "deal stage", "dealstage", "stagename"],
        "owner_email": OWNER_ALIASES,
    },
    lookups=(
        ACCOUNT_BY_NAME,
        Lookup("pipeline", "pipeline_id", "pipeline"),
        Lookup("stage", "stage_id", "stage", scope="pipeline_id"),
    ),
)

PROFILES = (ACCOUNT, CONTACT, DEAL)
