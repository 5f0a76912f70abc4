"""Sign-ins: each signed-in browser is a row the server can end.

The session cookie carries a random nonce and the "Remember me" cookie a
random token; the table keeps only their SHA-256 digests. Deleting a row ends
that browser's session and its remember-cookie at once.
"""

from peewee import CharField, DateTimeField, ForeignKeyField

from .base import BaseModel, utcnow
from .tenancy import User


class SignIn(BaseModel):
    user = ForeignKeyField(User, backref="sign_ins", on_delete="CASCADE")
    session_digest = CharField(max_length=64, unique=True)
    remember_digest = CharField(max_length=64, null=True, unique=True)  # None without "Remember me"
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)  # fixed at sign-in: SESSION_HOURS, or REMEMBER_DAYS with "Remember me"
