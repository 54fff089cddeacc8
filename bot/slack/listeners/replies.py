"""What a person is told when their request could not be saved: plainly, never a stack trace."""

from bot.core.errors import PlatformUnavailable, StoreUnavailable


def why_not(exc: Exception) -> str:
    if isinstance(exc, StoreUnavailable):
        return "the database isn't answering right now"
    if isinstance(exc, PlatformUnavailable):
        return "Slack didn't answer when I checked who's who"
    return "something went wrong on my side"


def not_saved(what: str, exc: Exception) -> str:
    return f":warning: Your {what} was *not* saved: {why_not(exc)}. Nothing was posted. Please try again in a minute."
