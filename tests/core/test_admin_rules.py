"""Who may act for the whole workspace, decided by the services themselves: an adapter that forgot to check cannot
export a team's records or change its settings. And which reaction thanks, decided by the core."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.core.admins import OPERATOR, Admins
from bot.core.errors import Refused
from bot.core.model import Person, Team, WorkspaceConfig
from bot.core.outbox import Outbox
from bot.core.records import RecordsService
from bot.core.thanks import ThanksService
from bot.core.workspace import WorkspaceSettingsService
from bot.settings import Defaults
from bot.store.models import SettingsChange
from tests.core.test_thanks_rules import Directory

TEAM = Team("slack", "T1")
ALICE, DANI, OLA = "U1", "U2", "U3"  # a colleague, a workspace admin, someone the operator named in ADMIN_USER_IDS


@pytest.fixture
def admins() -> Admins:
    people = Directory(Person(ALICE, "Alice"), Person(DANI, "Dani", is_admin=True), Person(OLA, "Ola"))
    return Admins(people, named=[OLA])


@pytest.fixture
def records(store, admins) -> RecordsService:
    store.workspace_id(TEAM.platform, TEAM.external_id)  # the team has used the bot
    return RecordsService(store, admins)


@pytest.fixture
def workspaces(store, admins) -> WorkspaceSettingsService:
    return WorkspaceSettingsService(store, WorkspaceConfig(), Outbox(store), admins)


@pytest.mark.parametrize("who", [ALICE, None, ""])
def test_only_an_admin_may_export_the_teams_records(records, who):
    with pytest.raises(Refused, match="Only workspace admins and owners") as refused:
        records.export(TEAM, who)
    assert "Nothing was exported" in refused.value.message


@pytest.mark.parametrize("who", [DANI, OLA, OPERATOR])
def test_admins_the_named_and_the_operator_may_export(records, who):
    assert records.export(TEAM, who).workspace == TEAM.external_id


def test_only_an_admin_may_change_the_settings(workspaces):
    with pytest.raises(Refused, match="can change Small Changes' settings"):
        workspaces.update(TEAM, ALICE, {"weekly_cap": 3})
    assert workspaces.get(TEAM).weekly_cap == WorkspaceConfig().weekly_cap, "nothing was changed"

    assert workspaces.update(TEAM, DANI, {"weekly_cap": 3}) == ["weekly_cap"]
    assert workspaces.get(TEAM).weekly_cap == 3


def test_only_an_admin_may_open_the_settings(workspaces):
    with pytest.raises(Refused, match="can change Small Changes' settings"):
        workspaces.for_admin(TEAM, ALICE)
    assert workspaces.for_admin(TEAM, OLA) == workspaces.get(TEAM)


def test_the_workspaces_chosen_reaction_is_the_one_that_thanks(store, workspaces):
    thanks = ThanksService(store, Directory(), Defaults(), workspaces, Outbox(store))
    assert thanks.thanks_by_reaction(TEAM, "pray")
    assert not thanks.thanks_by_reaction(TEAM, "raised_hands")

    workspaces.update(TEAM, DANI, {"thanks_reaction": "raised_hands"})

    assert thanks.thanks_by_reaction(TEAM, "raised_hands")
    assert not thanks.thanks_by_reaction(TEAM, "pray")


TEAMS_PERSON = "29:1GkD5-zXkqTnLvKs_7b6bDf2d1XyQ0Hn9YdLrJ3wE4tM8nVcPq2aWsZ0oIuYtRe"
TEAMS_CHANNEL = "19:a1b2c3d4e5f6@thread.tacv2"


def test_managers_and_a_digest_channel_are_taken_as_each_platform_writes_them(workspaces):
    changes = {"managers": ["U0MANAGER", TEAMS_PERSON], "digest_channel": TEAMS_CHANNEL}
    assert sorted(workspaces.update(TEAM, DANI, changes)) == ["digest_channel", "managers"]
    assert workspaces.get(TEAM).managers == ("U0MANAGER", TEAMS_PERSON)


@pytest.mark.parametrize(
    "field,value", [("managers", ["U1 U2"]), ("managers", ["<script>"]), ("digest_channel", "#general please")]
)
def test_an_id_no_platform_writes_is_refused_by_its_field(workspaces, field, value):
    with pytest.raises(Refused) as refused:
        workspaces.update(TEAM, DANI, {field: value})
    assert refused.value.field == field
    assert workspaces.get(TEAM) == WorkspaceConfig()


def test_the_operators_change_is_recorded_in_the_settings_history_as_the_operator(workspaces, store):
    assert workspaces.update(TEAM, OPERATOR, {"weekly_cap": 2}) == ["weekly_cap"]
    with store.session() as s:
        assert s.scalars(select(SettingsChange.actor_id)).all() == ["operator"]
    assert workspaces.get(TEAM).weekly_cap == 2


def test_an_admin_can_make_someone_an_admin_in_the_settings_and_that_is_all_it_takes(store):
    people = Directory(Person(ALICE, "Alice"), Person(DANI, "Dani", is_admin=True))
    admins = Admins(people, added=lambda team: workspaces.get(team).admins)
    workspaces = WorkspaceSettingsService(store, WorkspaceConfig(), Outbox(store), admins)
    with pytest.raises(Refused):
        workspaces.for_admin(TEAM, ALICE)
    workspaces.update(TEAM, DANI, {"admins": [ALICE]})
    assert workspaces.for_admin(TEAM, ALICE) == workspaces.get(TEAM)


@pytest.mark.parametrize("zone,allowed", [("Europe/London", True), ("Mars/Olympus", False), ("../../etc", False)])
def test_the_workspaces_default_timezone_must_be_a_real_one(workspaces, zone, allowed):
    if allowed:
        workspaces.update(TEAM, DANI, {"timezone": zone})
        assert workspaces.get(TEAM).timezone == zone
    else:
        with pytest.raises(Refused) as refused:
            workspaces.update(TEAM, DANI, {"timezone": zone})
        assert refused.value.field == "timezone"
