"""The console's built-in sample team, in users.info shape. Tests play with the same people.

In Teams the same people are Teams people: each has a Teams id (29:…, how Teams mentions them and opens their 1:1
chat), an Entra object id (the core's id for them) and a display name, in one sample tenant. Ed has left and the
rota bot is no person, so neither is in the Teams team."""

from dataclasses import dataclass

from bot.console.fake_slack import user

ALICE, BOB, CAROL, DANI, ED, FEMI, ROBOT = "U0ALICE", "U0BOB", "U0CAROL", "U0DANI", "U0ED", "U0FEMI", "U0ROBOT"

SAMPLE_TEAM_ID = "T0SAMPLE"
SAMPLE_TEAM = [
    user(ALICE, "Alice Adeyemi", tz="Europe/London"),
    user(BOB, "Bob Brennan", tz="Europe/London"),
    user(CAROL, "Carol Chatterjee", tz="Asia/Kolkata"),
    user(DANI, "Dani Douglas", tz="America/New_York", is_admin=True),
    user(ED, "Ed Evans", tz="Europe/London", deleted=True),
    user(FEMI, "Femi Fashola", tz="Europe/London"),
    user(ROBOT, "Rota Reminder", tz="Europe/London", is_bot=True),
    user("USLACKBOT", "Slackbot", tz="America/Los_Angeles"),
]

TEAMS_TENANT = "5a3c0000-0000-4000-8000-00000000c0de"
TEAMS_BOT = {"id": "28:5a3c0000-0000-4000-8000-0000000000b0", "name": "Small Changes"}


@dataclass(frozen=True)
class TeamsPerson:
    teams_id: str  # 29:…
    aad_object_id: str  # Entra object id
    name: str
    tz: str

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    def account(self) -> dict:
        """As Teams writes a person in an activity's `from` and the Bot Connector lists a member."""
        return {"id": self.teams_id, "name": self.name, "aadObjectId": self.aad_object_id}


TEAMS_PEOPLE = [
    TeamsPerson("29:1sample-alice", "a11ce000-0000-4000-8000-000000000001", "Alice Adeyemi", "Europe/London"),
    TeamsPerson("29:1sample-bob", "b0b00000-0000-4000-8000-000000000002", "Bob Brennan", "Europe/London"),
    TeamsPerson("29:1sample-carol", "ca401000-0000-4000-8000-000000000003", "Carol Chatterjee", "Asia/Kolkata"),
    TeamsPerson("29:1sample-dani", "da410000-0000-4000-8000-000000000004", "Dani Douglas", "America/New_York"),
    TeamsPerson("29:1sample-femi", "fe410000-0000-4000-8000-000000000006", "Femi Fashola", "Europe/London"),
]
