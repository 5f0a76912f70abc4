"""Who may do what: the one home of the role table in design.md.

                  agency keys          location keys
agency admin      full                 full, every location
agency user       see (masked)         full for their assigned locations, see the others
location admin    none (not listed)    full for their location
location user     none                 see (masked), their location

"Full" = create, reveal once, copy, rename, deactivate/reactivate, roll, delete.
Anything outside a user's reach is answered with 404 by the views.
"""

from peewee import JOIN

from keyhouse.models import ApiKey, AuditEvent, Location, Role, User, UserLocation


def visible_locations(user):
    """The locations `user` can see, as a query ordered by name."""
    query = Location.live().where(Location.agency == user.agency_id)
    if user.role in Role.LOCATION_LEVEL:
        query = query.where(Location.id == user.location_id)
    return query.order_by(Location.name, Location.id)


def managed_location_ids(user):
    """Ids of the locations whose keys `user` has full rights over."""
    if user.role in (Role.AGENCY_ADMIN, Role.LOCATION_ADMIN):
        return {location.id for location in visible_locations(user).select(Location.id)}
    if user.role == Role.AGENCY_USER:
        visible = visible_locations(user).select(Location.id).order_by()
        assigned = UserLocation.select(UserLocation.location).where(
            (UserLocation.user == user.id) & UserLocation.location.in_(visible)
        )
        return {row.location_id for row in assigned}
    return set()


def sees_agency_keys(user):
    return user.role in Role.AGENCY_LEVEL


def manages_agency_keys(user):
    return user.role == Role.AGENCY_ADMIN


def manages_webhooks(user):
    """Webhook endpoints tell about every key of the agency: only agency admins register them."""
    return user.role == Role.AGENCY_ADMIN


def sees_location(user, location):
    if location.agency_id != user.agency_id or not location.is_live:
        return False
    if user.role in Role.LOCATION_LEVEL:
        return location.id == user.location_id
    return True


def manages_location_keys(user, location):
    return sees_location(user, location) and location.id in managed_location_ids(user)


def sees_key(user, key):
    if key.agency_id != user.agency_id:
        return False
    if key.location_id is None:
        return sees_agency_keys(user)
    if user.role in Role.LOCATION_LEVEL:
        return key.location_id == user.location_id
    return True


def manages_key(user, key, managed_ids=None):
    """Full rights over `key`; pass `managed_ids` (managed_location_ids) when checking many keys."""
    if not sees_key(user, key):
        return False
    if key.location_id is None:
        return manages_agency_keys(user)
    if managed_ids is None:
        managed_ids = managed_location_ids(user)
    return key.location_id in managed_ids


def visible_audit_events(user):
    """The audit events `user` may read, with their key: the agency's, or only their location's."""
    query = (
        AuditEvent.select(AuditEvent, ApiKey)
        .join(ApiKey, JOIN.LEFT_OUTER, on=(AuditEvent.key == ApiKey.id))
        .where(AuditEvent.agency == user.agency_id)
    )
    if user.role in Role.LOCATION_LEVEL:
        query = query.where(AuditEvent.location == user.location_id)
    return query


def key_managers(key):
    """The members with full rights over `key` (the role table above), ordered by id."""
    members = User.select().where((User.agency == key.agency_id) & User.is_member).order_by(User.id)
    return [user for user in members if manages_key(user, key)]
