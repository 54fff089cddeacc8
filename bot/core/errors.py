"""What the core tells an adapter when it will not, or cannot, do something."""


class Refused(Exception):
    """A request the rules turn down. The message is written for the person who asked."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class StoreUnavailable(Exception):
    """The database did not answer, so nothing was saved."""


class PlatformUnavailable(Exception):
    """The chat platform could not tell us what we needed, so nothing was saved."""
