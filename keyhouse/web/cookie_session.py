"""The signed-cookie session, left unopened where callers authenticate with keys, not cookies."""

from flask.sessions import SecureCookieSessionInterface


class Sessions(SecureCookieSessionInterface):
    """Flask's session, except under the prefixes given to `without_session` (the API).

    There a request gets the null session: no cookie is read, signed or set, which
    would otherwise cost every API call a serializer and a signature check.
    """

    def __init__(self):
        self.prefixes = ()

    def open_session(self, app, request):
        if request.path.startswith(self.prefixes):
            return self.make_null_session(app)
        return super().open_session(app, request)


def without_session(app, prefix):
    """Requests under `prefix` get no session."""
    if not isinstance(app.session_interface, Sessions):
        app.session_interface = Sessions()
    app.session_interface.prefixes += (prefix,)
