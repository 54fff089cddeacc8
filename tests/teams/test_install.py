"""Installing the bot: in a team it learns the roster a page at a time (so the clock can nudge people who have not
written to it yet); offered to many tenants (no TENANT_ID), it serves each tenant that installed it, and only those."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.app import build_teams
from bot.core.admins import OPERATOR
from bot.core.model import Team
from bot.settings import Settings
from bot.store.models import TeamsAddress, Thanks
from tests.conftest import serve
from tests.teams.conftest import ALICE, BOB, TENANT, TeamsDriver
from tests.teams.test_nudges import tick


def test_added_to_a_team_the_bot_learns_its_roster_page_by_page_and_can_nudge_everyone(teams, store):
    teams.connector.members = [
        {"id": f"29:1person{n}", "name": f"Person {n}", "aadObjectId": f"00000000-0000-0000-0000-{n:012d}"}
        for n in range(210)
    ]
    installed = teams.activity("installationUpdate", ALICE, "channel", action="add")
    assert teams.post(installed) == 200
    pages = teams.connector.sent("GET", "/pagedMembers")
    assert len(pages) == 2 and pages[1].query["continuationToken"] == ["200"]
    with store.session() as s:
        people = s.scalar(select(func.count()).select_from(TeamsAddress).where(TeamsAddress.kind == "person"))
    assert people == 210
    teams.bot.services.workspaces.update(Team("teams", TENANT), OPERATOR, {"sends_per_second": 0})  # no pacing
    tick(teams)
    assert len(teams.connector.sent("POST", "/v3/conversations")) == 210  # each person's chat, opened to nudge them


def test_offered_to_many_tenants_it_serves_each_tenant_that_installed_it(database_url, store, connector, clock):
    settings = Settings(database_url=database_url, teams_unauthenticated=True)  # no TENANT_ID
    bot = build_teams(settings, store=store, now=clock)
    asyncio.run(bot.app.initialize())
    served = serve(bot.app.server.adapter.app)
    try:
        driver = TeamsDriver(served.url, bot, connector, connector.url)
        assert driver.say("thanks <at>Bob Example</at> for the cover", mentions=(BOB,)) == 403  # not installed
        assert driver.post(driver.activity("installationUpdate", ALICE, "personal", action="add")) == 200
        assert driver.say("thanks <at>Bob Example</at> for the cover", mentions=(BOB,)) == 200
        driver.tenant = "22222222-0000-0000-0000-00000000beef"  # another tenant, which never installed it
        assert driver.say("thanks <at>Bob Example</at> for the cover", mentions=(BOB,)) == 403
    finally:
        served.stop()
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Thanks)) == 1
    assert bot.tenants.served() == [Team("teams", TENANT)]


def test_added_to_a_group_chat_later_the_bot_learns_who_is_in_it(teams, store):
    teams.connector.members = [ALICE, BOB]
    update = teams.activity(
        "conversationUpdate",
        ALICE,
        "groupChat",
        membersAdded=[{"id": "28:00000000-0000-0000-0000-0000000000b0"}],
    )
    assert teams.post(update) == 200
    with store.session() as s:
        kinds = sorted(s.scalars(select(TeamsAddress.kind)).all())
    assert kinds == ["conversation", "person", "person"]
    assert teams.say("thanks <at>Bob Example</at> for the lift", where="groupChat", mentions=(BOB,)) == 200
    assert teams.connector.sent("GET", f"/members/{BOB['id']}") == []  # already met: no lookup
