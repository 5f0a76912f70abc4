"""The demo agency that `keyhouse dev` (and `keyhouse seed-demo`) creates."""

import crm
from models import Agency, Form, Location, Role, User, UserLocation, Workflow, db

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
        for location in agency.locations:
            seed_crm(location)
    return [(email, Role.LABELS[role]) for email, _, role, _ in DEMO_USERS]


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
