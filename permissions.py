"""Who may do what: the one home of the role table in design.md.

                  agency keys          location keys
agency admin      full                 full, every location
agency user       see (masked)         full for their assigned locations
location admin    none (not listed)    full for their location
location user     none                 see (masked), their location

Anything outside a user's reach is answered with 404 by the views.
"""

from models import Location, Role, User, UserLocation


def visible_locations(user):
    """The locations `user` can see, as a query ordered by name."""
    query = Location.select().where(Location.agency == user.agency_id)
    if user.role in Role.LOCATION_LEVEL:
        query = query.where(Location.id == user.location_id)
    return query.order_by(Location.name, Location.id)


def sees_agency_keys(user):
    return user.role in Role.AGENCY_LEVEL


def manages_agency_keys(user):
    return user.role == Role.AGENCY_ADMIN


def sees_location(user, location):
    if location.agency_id != user.agency_id:
        return False
    if user.role in Role.LOCATION_LEVEL:
        return location.id == user.location_id
    return True


def manages_location_keys(user, location):
    if not sees_location(user, location):
        return False
    if user.role in (Role.AGENCY_ADMIN, Role.LOCATION_ADMIN):
        return True
    if user.role == Role.AGENCY_USER:
        return (
            UserLocation.select()
            .where((UserLocation.user == user.id) & (UserLocation.location == location.id))
            .exists()
        )
    return False


def key_managers(key):
    """The members with full rights over `key` (the role table above), ordered by id."""
    members = User.select().where((User.agency == key.agency_id) & User.is_member).order_by(User.id)
    if key.location_id is None:
        return [user for user in members if manages_agency_keys(user)]
    location = key.location
    return [user for user in members if manages_location_keys(user, location)]
