"""What the core tells an adapter when it will not, or cannot, do something."""


class Refused(Exception):
    """A request the rules turn down. The message is written for the person who asked; `field` names what it is
    about (a form's field), when it is about one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


class StoreUnavailable(Exception):
    """The database did not answer, so nothing was saved."""


class PlatformUnavailable(Exception):
    """The chat platform could not tell us what we needed, so nothing was saved."""


class Replayed(Exception):
    """The same signed request again: it was acted on the first time, so this time nothing is done."""
