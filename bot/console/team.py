"""The console's built-in sample team, in users.info shape. Tests play with the same people."""

from bot.console.fake_slack import user

ALICE, BOB, CAROL, DANI, ED, ROBOT = "U0ALICE", "U0BOB", "U0CAROL", "U0DANI", "U0ED", "U0ROBOT"

SAMPLE_TEAM = [
    user(ALICE, "Alice Adeyemi", tz="Europe/London"),
    user(BOB, "Bob Brennan", tz="Europe/London"),
    user(CAROL, "Carol Chatterjee", tz="Asia/Kolkata"),
    user(DANI, "Dani Douglas", tz="America/New_York", is_admin=True),
    user(ED, "Ed Evans", tz="Europe/London", deleted=True),
    user(ROBOT, "Rota Reminder", tz="Europe/London", is_bot=True),
    user("USLACKBOT", "Slackbot", tz="America/Los_Angeles"),
]
