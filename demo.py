"""The demo agency that `keyhouse dev` (and `keyhouse seed-demo`) creates."""

from models import Agency, Location, Role, User, UserLocation, db

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
    return [(email, Role.LABELS[role]) for email, _, role, _ in DEMO_USERS]
