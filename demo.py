"""The demo agency that `keyhouse dev` (and `keyhouse seed-demo`) creates.

Its keys have different ages, so the first sweep (RQ's cron enqueues one as soon
as `keyhouse dev` starts) fills the bell with warnings at once.
"""

import datetime

import apikeys
from models import Agency, ApiKey, Location, Role, User, UserLocation, db, utcnow

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
