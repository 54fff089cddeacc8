"""`python -m bot export` and `python -m bot forget-user` as an operator runs them, on records the team made
through Slack: what an export holds (and leaves out), and what erasing a person removes and keeps."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.__main__ import main
from bot.console.team import ALICE, BOB, CAROL, DANI
from bot.core.admins import OPERATOR, Admins
from bot.core.model import Team
from bot.core.ports import is_former_colleague
from bot.core.records import RecordsService, UnknownWorkspace
from bot.store import models
from bot.store.models import Backing, Change, ChangeEvent, NudgeResponse, Person, Send, SettingsChange, Thanks
from tests.slack.test_smallchange import click, newest_card, replies_to, suggest
from tests.test_cli import ROOT

TEAM = Team("slack", "T0SAMPLE")
TUESDAY = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def keep_logging():
    """main() configures logging for a process; put the test run's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def cli(monkeypatch, tmp_path, database_url, capsys):
    """Run `python -m bot …` in this process, on the test's database; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
            if isinstance(stop.code, str):
                print(stop.code, file=sys.stderr)  # as the interpreter would on the way out
        out, err = capsys.readouterr()
        return code, out, err

    return run


def team_activity(slack) -> None:
    """Nudges to the three Londoners, Alice's snoozed; thanks each way (one private, one a spreadsheet would run as a
    formula), an idea Bob took on and Carol backs, and an idea Bob suggested."""
    slack.services.nudges.tick(TEAM, TUESDAY)
    [nudge] = [c for c in slack.fake.calls_to("chat.postMessage") if c.params["channel"] == ALICE]
    slack.press(nudge, "nudge_snooze", ALICE)
    slack.thanks(f"<@{BOB}|bob> for covering my home visit #supportive", ALICE)
    slack.thanks(f"private <@{ALICE}|alice> for listening after a hard visit", BOB)
    slack.thanks(f'<@{BOB}|bob> for =HYPERLINK("http://evil") and cake', CAROL)
    card = suggest(slack, "one shared template for visit notes", ALICE)
    click(slack, card, "change_take", BOB)
    click(slack, card, "change_back", CAROL)
    click(slack, card, "change_status", BOB, choose="trying")
    suggest(slack, "@here a quiet room on Fridays", BOB)


def everything(store) -> dict[str, list[tuple]]:
    """Every row of every table, to show that a dry run changed nothing."""
    with store.session() as s:
        return {
            table.name: sorted(tuple(map(str, row)) for row in s.execute(table.select()))
            for table in models.Base.metadata.sorted_tables
        }


# == export ======================================================================================================


def test_a_json_export_holds_thanks_ideas_with_history_and_nudge_outcomes(slack, cli):
    team_activity(slack)
    code, out, _ = cli("export", "--workspace", "T0SAMPLE", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["workspace"] == "T0SAMPLE" and document["since"] is None
    assert [(t["giver"], t["recipients"], t["private"], t["reason"]) for t in document["thanks"]] == [
        (ALICE, [BOB], False, "covering my home visit #supportive"),
        (BOB, [ALICE], True, None),
        (CAROL, [BOB], False, '=HYPERLINK("http://evil") and cake'),
    ]
    assert document["thanks"][0]["values"] == ["supportive"] and document["thanks"][0]["channel"] == "C0GENERAL"
    assert "listening after a hard visit" not in out, "a private thank-you is counted, never quoted"
    assert any("Private thanks are counted, never quoted" in note for note in document["notes"])

    template, quiet_room = document["ideas"]
    assert (template["suggester"], template["owner"], template["status"], template["backers"]) == (
        ALICE,
        BOB,
        "trying",
        1,
    )
    assert [(h["actor"], h["kind"], h["old"], h["new"]) for h in template["history"]] == [
        (ALICE, "created", None, "idea"),
        (BOB, "owner", None, BOB),
        (BOB, "status", "idea", "trying"),
    ]
    assert quiet_room["text"] == "@here a quiet room on Fridays"

    nudges = {n["kind"]: n for n in document["nudges"]}
    assert len(document["nudges"]) == 3 and set(nudges) == {"nudge"}
    assert sorted(tuple(r["action"] for r in n["responses"]) for n in document["nudges"]) == [(), (), ("snooze",)]
    assert all(n["state"] == "sent" and n["attempts"] == 1 for n in document["nudges"])
    assert all("user" not in n for n in document["nudges"]), "outcomes, not who was nudged"


def test_since_keeps_only_what_was_recorded_from_that_date(slack, cli, clock, tmp_path):
    slack.thanks(f"<@{BOB}|bob> for last week's cover", ALICE)
    suggest(slack, "an old idea", ALICE)
    clock.advance(days=7)
    slack.thanks(f"<@{ALICE}|alice> for this week's cover", BOB)
    suggest(slack, "a new idea", BOB)

    code, out, _ = cli("export", "--since", "2026-12-01", "--format", "json", "--out", "since.json")

    assert code == 0 and out.strip() == "since.json"
    document = json.loads((tmp_path / "since.json").read_text())
    assert document["since"] == "2026-12-01"
    assert [t["reason"] for t in document["thanks"]] == ["this week's cover"]
    assert [i["text"] for i in document["ideas"]] == ["a new idea"]


def test_a_csv_export_is_six_files_and_no_cell_can_run_as_a_formula(slack, cli, tmp_path):
    team_activity(slack)
    slack.thanks(f"<@{CAROL}|carol> for -1 problems +2 solutions", ALICE)

    code, out, _ = cli("export")  # the database holds one workspace, and CSV is the default

    assert code == 0
    paths = [Path(line) for line in out.splitlines()]
    assert [p.name for p in paths] == [
        "thanks.csv",
        "ideas.csv",
        "idea_history.csv",
        "time_freed.csv",
        "nudges.csv",
        "raised_with_leaders.csv",
    ]
    assert paths[0].parent.name.startswith("export-T0SAMPLE-") and all((tmp_path / p).exists() for p in paths)
    assert paths[0].parts[0] == "exports", "under a folder .gitignore covers, so no one commits people's records"
    assert "exports/" in (ROOT / ".gitignore").read_text().splitlines()
    read = {p.name: list(csv.DictReader(io.StringIO((tmp_path / p).read_text(encoding="utf-8")))) for p in paths}
    thanks = read["thanks.csv"]
    assert [t["reason"] for t in thanks] == [
        "covering my home visit #supportive",
        "(private: not quoted)",
        '\'=HYPERLINK("http://evil") and cake',
        "'-1 problems +2 solutions",
    ]
    assert thanks[0]["recipients"] == BOB and thanks[0]["values"] == "supportive"
    ideas = read["ideas.csv"]
    assert [i["text"] for i in ideas] == ["one shared template for visit notes", "'@here a quiet room on Fridays"]
    history = read["idea_history.csv"]
    assert [(h["idea_id"], h["kind"], h["new"]) for h in history][:3] == [
        (ideas[0]["id"], "created", "idea"),
        (ideas[0]["id"], "owner", BOB),
        (ideas[0]["id"], "status", "trying"),
    ]
    nudges = read["nudges.csv"]
    assert sorted(n["responses"].split(" at ")[0] for n in nudges) == ["", "", "snooze"]


def test_an_unknown_workspace_is_one_clear_line_and_a_failure(slack, cli):
    team_activity(slack)
    code, out, err = cli("export", "--workspace", "T0NOPE", "--format", "json")
    assert code != 0 and out == ""
    assert err.strip() == "No workspace T0NOPE in this database (it holds: T0SAMPLE)."


def test_an_empty_database_has_nothing_to_export(cli):
    code, _, err = cli("export", "--format", "json")
    assert code != 0
    assert err.strip() == "There is no workspace here yet: nothing has been recorded, or installed, for one."


def test_the_core_refuses_a_workspace_it_has_never_seen(store):
    with pytest.raises(UnknownWorkspace):
        RecordsService(store, Admins(directory=None)).export(Team("slack", "T0NEVER"), OPERATOR)


# == forget-user ===================================================================================================


def test_a_dry_run_lists_what_would_go_and_changes_nothing(slack, store, cli):
    team_activity(slack)
    before = everything(store)

    code, out, _ = cli("forget-user", BOB, "--dry-run")

    assert code == 0
    assert everything(store) == before
    lines = out.splitlines()
    assert lines[0] == f"Dry run: nothing was changed. Forgetting {BOB} in T0SAMPLE would do this:"
    counts = {name: int(n) for name, n in (re.match(r"\s+(.+?)\s+(\d+)  ", line).groups() for line in lines[1:-1])}
    assert counts == {
        "people": 1,
        "sends": 1,
        "nudge_responses": 0,
        "backings": 0,
        "thanks they gave": 1,
        "thanks they received": 2,
        "thanks": 0,
        "ideas they suggested": 1,
        "ideas they owned": 1,
        "change_events": 3,  # suggested one idea, took one on, moved it to trying
        "time_freed answers": 0,
        "leader_raises": 0,
        "settings_changes": 0,
        "outbox": 3,  # the DMs of the two thank-yous to him, and the receipt for the private one he gave
        "addresses": 0,  # a Slack person: none kept beyond the people row
        "workspace managers": 0,
        "workspace admins": 0,
        "workspace leaders": 0,
    }
    assert "kept for the giver; they show as a former colleague" in out
    assert "may still name them" in lines[-1]


def test_forgetting_someone_removes_their_data_and_keeps_others_records(slack, store, cli):
    team_activity(slack)
    slack.services.workspaces.update(TEAM, DANI, {"managers": [BOB, CAROL]})
    slack.thanks(f"<@{CAROL}|carol> for the second thank-you today", BOB)  # Bob gives twice on one day

    code, out, _ = cli("forget-user", BOB, "--workspace", "T0SAMPLE")

    assert code == 0 and out.startswith(f"Forgot {BOB} in T0SAMPLE:")
    with store.session() as s:
        for model in (Person, Send, Backing):
            assert s.scalars(select(model).where(model.user_id == BOB)).all() == []
        assert not [lane for lane in s.scalars(select(models.OutboxMessage.lane)) if BOB in lane]
        assert s.scalars(select(NudgeResponse).where(NudgeResponse.user_id == BOB)).all() == []
        givers = [t.giver_id for t in s.scalars(select(Thanks).order_by(Thanks.id))]
        received = {t.reason: [r.recipient_id for r in t.recipients] for t in s.scalars(select(Thanks))}
        template = s.scalars(select(Change).where(Change.text.like("one shared%"))).one()
        quiet_room = s.scalars(select(Change).where(Change.text.like("%quiet room%"))).one()
        actors = [e.actor_id for e in s.scalars(select(ChangeEvent).order_by(ChangeEvent.id))]
        managers = json.loads(s.get(models.WorkspaceSettings, template.workspace_id).overrides)["managers"]
        managers_change = s.scalars(select(SettingsChange).where(SettingsChange.setting == "managers")).one()

    everyone = {ALICE, CAROL, DANI}
    former = givers[1]
    assert is_former_colleague(former) and givers == [ALICE, former, CAROL, former], "one placeholder per erasure"
    assert received["covering my home visit #supportive"] == [former], "Alice's thank-you to Bob is still hers"
    assert received['=HYPERLINK("http://evil") and cake'] == [former]
    assert received["the second thank-you today"] == [CAROL], "Carol keeps the thanks Bob gave her"
    assert template.owner_id is None and template.status == "trying", "the idea waits for a new owner"
    assert quiet_room.suggester_id == former and quiet_room.text == "@here a quiet room on Fridays"
    assert set(actors) <= everyone | {former} and actors[-1] == former
    assert managers == [CAROL]
    assert BOB not in (managers_change.old or "") + (managers_change.new or "")
    assert "Free text others typed" in out

    # The team sees a former colleague where Bob was, and can take his idea on.
    body = slack.requests.command("/smallchange", "list", ALICE)
    slack.signed(body)
    [listing] = replies_to(slack.fake, body)
    assert "no owner yet" in listing.text()
    click(slack, newest_card(slack.fake), "change_back", ALICE)  # the quiet-room card re-renders
    assert "Suggested by a former colleague" in newest_card(slack.fake).context
    assert BOB not in json.dumps(newest_card(slack.fake).call.params)


def test_an_owned_idea_can_be_taken_on_again_after_its_owner_is_forgotten(slack, store, cli):
    card = suggest(slack, "a tea round at three", ALICE)
    click(slack, card, "change_take", BOB)
    assert cli("forget-user", BOB)[0] == 0

    click(slack, newest_card(slack.fake), "change_back", CAROL)  # any click shows the card as it is now
    assert "Owner: nobody yet" in newest_card(slack.fake).context
    click(slack, newest_card(slack.fake), "change_take", CAROL)

    assert "Owner: <@U0CAROL>" in newest_card(slack.fake).context
    with store.session() as s:
        events = [(e.kind, e.old, e.new) for e in s.scalars(select(ChangeEvent).order_by(ChangeEvent.id))]
    handed_back = events[-2]
    assert handed_back[0] == "owner" and is_former_colleague(handed_back[1]) and handed_back[2] is None


def test_a_thank_you_between_two_forgotten_people_goes_and_each_gets_their_own_placeholder(slack, store, cli):
    slack.thanks(f"<@{ALICE}|alice> for the school run", BOB)  # Bob's first thank-you today
    slack.thanks(f"<@{CAROL}|carol> for the handover", BOB)
    slack.thanks(f"<@{CAROL}|carol> for the lift", BOB)
    slack.thanks(f"<@{ALICE}|alice> for the rota", CAROL)  # Carol's first thank-you today

    assert cli("forget-user", CAROL)[0] == 0
    code, out, _ = cli("forget-user", BOB)

    assert code == 0
    assert "    2  deleted: everyone else in them is a former colleague too" in out
    with store.session() as s:
        left = s.scalars(select(Thanks).order_by(Thanks.id)).all()
    assert [(t.reason, [r.recipient_id for r in t.recipients]) for t in left] == [
        ("the school run", [ALICE]),
        ("the rota", [ALICE]),
    ], "Alice keeps both thank-yous"
    bob, carol = (t.giver_id for t in left)
    assert is_former_colleague(bob) and is_former_colleague(carol) and bob != carol
    assert [t.giver_day for t in left] == [TUESDAY.date()] * 2 and [t.daily_seq for t in left] == [1, 1]


def test_forget_user_asks_which_workspace_when_there_are_several(slack, store, cli):
    team_activity(slack)
    store.workspace_id("slack", "T0OTHER")
    code, _, err = cli("forget-user", BOB)
    assert code != 0 and "--workspace" in err and "T0SAMPLE, T0OTHER" in err
    assert everything(store)["people"] != []
    with store.session() as s:
        assert s.scalars(select(Person).where(Person.user_id == BOB)).one()


def test_forgetting_someone_the_bot_never_met_says_so_and_changes_nothing(slack, store, cli):
    team_activity(slack)
    before = everything(store)
    code, out, err = cli("forget-user", "U0NOBODY")
    assert code != 0 and out == ""
    assert err.strip() == "No one with the id U0NOBODY is recorded in T0SAMPLE: nothing was erased."
    assert everything(store) == before


def adopted_with_time_freed(slack, clock) -> None:
    """An idea Alice suggested and Bob took on and adopted; Bob said it frees 30 minutes a week for 6 people, and a
    day later Alice said instead it is not about time but safer (in words a spreadsheet would run)."""
    card = suggest(slack, "one shared template for visit notes", ALICE)
    click(slack, card, "change_take", BOB)
    click(slack, newest_card(slack.fake), "change_status", BOB, choose="adopted")
    [change] = slack.services.changes.mine(TEAM, BOB)
    slack.services.changes.say_time_freed(TEAM, change.id, BOB, minutes="30", people="6")
    clock.advance(days=1)
    slack.services.changes.say_time_freed(TEAM, change.id, ALICE, benefit="safer", note="=no lone visits")


def test_the_export_holds_every_answer_about_time_freed_and_the_latest_as_it_stands(slack, cli, clock, tmp_path):
    adopted_with_time_freed(slack, clock)

    code, out, _ = cli("export", "--format", "json")
    assert code == 0
    [idea] = json.loads(out)["ideas"]
    first = {"by": BOB, "minutes": 30, "people": 6, "minutes_a_week": 180, "not_about_time": None, "note": None}
    latest = {"by": ALICE, "minutes": None, "people": None, "minutes_a_week": None, "not_about_time": "safer"}
    latest |= {"note": "=no lone visits"}
    assert [{k: v for k, v in a.items() if k != "at"} for a in idea["time_freed_history"]] == [first, latest]
    assert idea["time_freed"] == idea["time_freed_history"][-1]
    assert idea["time_freed"]["at"] == (TUESDAY.replace(day=25)).isoformat()

    code, out, _ = cli("export", "--out", str(tmp_path / "csv"))
    assert code == 0
    read = {p.name: list(csv.DictReader(io.StringIO(p.read_text(encoding="utf-8")))) for p in map(Path, out.split())}
    [row] = read["ideas.csv"]
    assert (row["time_freed_not_about_time"], row["time_freed_minutes"], row["time_freed_note"]) == (
        "safer",
        "",
        "'=no lone visits",
    )
    assert [
        (a["by"], a["minutes"], a["people"], a["minutes_a_week"], a["not_about_time"]) for a in read["time_freed.csv"]
    ] == [
        (BOB, "30", "6", "180", ""),
        (ALICE, "", "", "", "safer"),
    ]
    assert {a["idea_id"] for a in read["time_freed.csv"]} == {row["id"]}


def test_forgetting_someone_who_answered_keeps_their_answer_under_a_former_colleague(slack, store, cli, clock):
    adopted_with_time_freed(slack, clock)

    code, out, _ = cli("forget-user", ALICE)

    assert code == 0 and re.search(r"time_freed answers\s+1  kept; they show as a former colleague", out)
    with store.session() as s:
        answers = [
            (a.actor_id, a.benefit)
            for a in s.scalars(select(models.TimeFreedAnswer).order_by(models.TimeFreedAnswer.id))
        ]
    assert answers[0] == (BOB, None) and answers[1][1] == "safer"
    assert is_former_colleague(answers[1][0])
    assert ALICE not in json.dumps(cli("export", "--format", "json")[1])


def test_forgetting_someone_covers_their_answers_about_time_freed_and_their_raises_with_leaders(
    slack, store, cli, clock
):
    adopted_with_time_freed(slack, clock)  # Alice's is the latest answer
    slack.services.workspaces.update(TEAM, DANI, {"leaders": [DANI]})
    change = slack.services.changes.suggest(TEAM, ALICE, "a shared diary with the health visitors", within_gift=False)
    slack.services.leaders.raise_with_leaders(TEAM, change.id, ALICE, ["funding"])

    code, out, _ = cli("forget-user", ALICE, "--dry-run")
    assert code == 0
    assert re.search(r"time_freed answers\s+1  kept", out) and re.search(r"leader_raises\s+1  kept", out)

    assert cli("forget-user", ALICE)[0] == 0
    with store.session() as s:
        answered = s.scalars(select(models.TimeFreedAnswer.actor_id).order_by(models.TimeFreedAnswer.id)).all()
        raised_by = s.scalars(select(models.LeaderRaise.raised_by)).all()
    assert answered[0] == BOB and is_former_colleague(answered[1])
    assert raised_by == [answered[1]], "one erasure, one placeholder, in both tables"
