"""Refused input: the one exception shape the domain raises and the views show next to a field."""


class Problem(ValueError):
    """A change was refused; `message` says why, for people, and `field` names the input at fault (or None)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field
