"""The demo agency that `keyhouse dev` (and `keyhouse seed-demo`) creates.

Its keys have different ages, so the first sweep (RQ's cron enqueues one as soon
as `keyhouse dev` starts) fills the bell with warnings at once; its locations
have contacts, workflows, forms and trigger links for the API.
"""

import datetime

from keyhouse.crm import actions as crm
from keyhouse.keys import apikeys
from keyhouse.models import (
    Agency,
    ApiKey,
    AuditEvent,
    Form,
    Location,
    Role,
    User,
    UserLocation,
    Workflow,
    db,
    utcnow,
)

DEMO_PASSWORD = "keyhouse-demo"
DEMO_AGENCY = "Demo Agency"
DEMO_USERS = [
    # (email, name, role, location index or None)
    ("admin@demo.test", "Ada Admin", Role.AGENCY_ADMIN, None),
    ("staff@demo.test", "Sam Staff", Role.AGENCY_USER, None),
    ("dental.admin@demo.test", "Lee Location-Admin", Role.LOCATION_ADMIN, 0),
    ("fitness.user@demo.test", "Kim Location-User", Role.LOCATION_USER, 1),
]
DEMO_LOCATIONS = ["Downtown Dental", "Uptown Fitness"]
DEMO_KEYS = [
    # (name, location index or None, creator's email, days since last use, deactivated)
    ("Website contact form", 0, "dental.admin@demo.test", 2, False),
    ("Marketing automation", None, "admin@demo.test", 30, False),
    ("Zapier new leads", 0, "dental.admin@demo.test", 76, False),  # first warning (15 days)
    ("Legacy CRM import", None, "admin@demo.test", 80, True),  # deactivated, first warning
    ("Old reporting script", None, "staff@demo.test", 84, False),  # second warning (7 days)
    ("Class booking sync", 1, "admin@demo.test", 89.5, False),  # final warning, deleted a day later
]


def seed_demo():
    """Create the demo agency unless it exists; returns the (email, role) logins."""
    with db.atomic():
        agency = Agency.get_or_none(Agency.name == DEMO_AGENCY)
        if agency is None:
            agency = Agency.create(name=DEMO_AGENCY)
            locations = [Location.create(agency=agency, name=name) for name in DEMO_LOCATIONS]
            for email, name, role, index in DEMO_USERS:
                user = User(
                    agency=agency,
                    email=email,
                    name=name,
                    role=role,
                    location=locations[index] if index is not None else None,
                )
                user.set_password(DEMO_PASSWORD)
                user.save()
                if role == Role.AGENCY_USER:
                    UserLocation.create(user=user, location=locations[0])
            _seed_keys(agency, locations)
        for location in agency.locations:
            seed_crm(location)
    return [(email, Role.LABELS[role]) for email, _, role, _ in DEMO_USERS]


def _seed_keys(agency, locations):
    """The demo keys, made as staff make them, then aged by moving their clock back."""
    now = utcnow()
    for name, index, email, idle_days, deactivated in DEMO_KEYS:
        creator = User.by_email(email)
        location = locations[index] if index is not None else None
        key, _ = apikeys.create(
            agency_id=agency.id, location_id=location.id if location else None, name=name, actor=creator
        )
        if deactivated:
            apikeys.deactivate(key, actor=creator)
        clock = now - datetime.timedelta(days=idle_days)
        ApiKey.update(activity_at=clock, created_at=clock).where(ApiKey.id == key.id).execute()
        AuditEvent.update(created_at=clock).where(AuditEvent.key == key.id).execute()


DEMO_CONTACTS = [
    {"firstName": "Alice", "lastName": "Moreau", "email": "alice@example.com", "phone": "+1 555 0100",
     "tags": ["customer", "newsletter"], "source": "demo"},
    {"firstName": "Bruno", "lastName": "Keller", "email": "bruno@example.com", "companyName": "Keller GmbH",
     "tags": ["lead"], "source": "demo"},
    {"firstName": "Chen", "lastName": "Wei", "phone": "+1 555 0102", "city": "Springfield", "source": "demo"},
]


def seed_crm(location):
    """Fill a location with a few contacts, workflows, forms with submissions and trigger links.

    Does nothing when the location has contacts already, so it can run on every start.
    """
    if location.contacts.exists():
        return
    with db.atomic():
        for body in DEMO_CONTACTS:
            crm.create_contact(location, body)
        Workflow.create(location=location, name="New lead follow-up", status="published")
        Workflow.create(location=location, name="Win-back campaign", status="draft", version=2)
        contact_form = Form.create(location=location, name="Contact us")
        Form.create(location=location, name="Newsletter sign-up")
        crm.submit_form(contact_form, {"name": "Dana Smith", "email": "dana@example.com", "message": "Call me back"})
        crm.submit_form(contact_form, {"first_name": "Alice", "email": "alice@example.com", "message": "Opening hours?"})
        crm.create_link(location, {"name": "Spring offer", "redirectTo": "https://example.com/spring"})
        crm.create_link(location, {"name": "Book a visit", "redirectTo": "https://example.com/book"})
