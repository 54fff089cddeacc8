"""The Microsoft Teams adapter.

The Teams SDK loads a `.env` from the working folder when it is imported, and warns that one of its features (HTML
widgets, which the bot does not use) is a preview. The bot reads its own settings (bot.settings), so the SDK is
imported here, first, with the one turned off and the other kept out of every command's output.
"""

import os
import warnings

_before = os.environ.get("PYTHON_DOTENV_DISABLED")
os.environ["PYTHON_DOTENV_DISABLED"] = "1"
try:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="HtmlWidgetSecurityPolicy is in preview")
        import microsoft_teams.apps  # noqa: F401
finally:
    if _before is None:
        del os.environ["PYTHON_DOTENV_DISABLED"]
    else:
        os.environ["PYTHON_DOTENV_DISABLED"] = _before
