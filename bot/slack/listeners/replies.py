"""What a person is told when their request could not be saved: plainly, never a stack trace."""

from bot.core.errors import PlatformUnavailable, StoreUnavailable


def not_saved(what: str, exc: Exception) -> str:
    if isinstance(exc, StoreUnavailable):
        why = "the database isn't answering right now"
    elif isinstance(exc, PlatformUnavailable):
        why = "Slack didn't answer when I checked who's who"
    else:
        why = "something went wrong on my side"
    return f":warning: Your {what} was *not* saved: {why}. Nothing was posted. Please try again in a minute."
