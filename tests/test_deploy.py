"""Deploying: the wheel that `pip install .` builds (what the Dockerfile installs) runs from any folder, and
compose.yaml, read by Docker Compose itself (`docker-compose config`, from the dev extra), runs what the Procfile
runs against its own PostgreSQL. Building the image needs a Docker engine, which the tests do not have."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from bot.store.db import MIGRATIONS, make_engine
from tests.test_cli import bot_env

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = shutil.which("docker-compose", path=str(Path(sys.executable).parent)) or "docker-compose"


def procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {name: command.split() for name, command in (line.split(":", 1) for line in lines if line.strip())}


@pytest.fixture
def deploy_folder(tmp_path: Path) -> Path:
    """A copy of what a person deploys from, so that a developer's own .env plays no part."""
    for name in ("compose.yaml", "Dockerfile", ".env.example"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def compose_config(folder: Path, *options: str) -> dict:
    """The project as Docker Compose resolves it: anchors merged, ${…} filled in, .env read."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("PORT", "POSTGRES_PASSWORD") and not k.startswith("COMPOSE_")
    }
    result = subprocess.run(
        [COMPOSE, *options, "config", "--format", "json"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_starts_postgres_then_the_procfile_web_and_clock_from_the_dockerfile(deploy_folder):
    project = compose_config(deploy_folder)  # no .env yet: the file is optional
    services = project["services"]
    assert set(services) == {"db", "web", "clock"}
    db = services["db"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in db["healthcheck"]["test"]
    volume = db["volumes"][0]
    assert (volume["type"], volume["target"]) == ("volume", "/var/lib/postgresql/data")
    assert volume["source"] in project["volumes"]

    procfile_commands = procfile()
    for name in ("web", "clock"):
        service = services[name]
        assert service["command"] == procfile_commands[name]
        assert service["build"] == {"context": str(deploy_folder), "dockerfile": "Dockerfile"}
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        url = make_url(service["environment"]["DATABASE_URL"])
        assert (url.host, url.port, url.database) == ("db", 5432, db["environment"]["POSTGRES_DB"])
        assert (url.username, url.password) == (
            db["environment"]["POSTGRES_USER"],
            db["environment"]["POSTGRES_PASSWORD"],
        )
    assert services["web"]["image"] == services["clock"]["image"]


def test_the_web_service_is_published_and_checked_on_healthz(deploy_folder):
    web = compose_config(deploy_folder)["services"]["web"]
    assert web["environment"]["PORT"] == "3000"
    assert [(p["published"], p["target"]) for p in web["ports"]] == [("3000", 3000)]
    check = web["healthcheck"]["test"]
    assert check[:3] == ["CMD", "python", "-c"]
    assert "urlopen('http://127.0.0.1:3000/healthz'" in check[3]


def test_a_filled_in_env_file_configures_the_bot_but_not_its_database_or_port_inside(deploy_folder):
    env_file = (deploy_folder / ".env.example").read_text()
    env_file = env_file.replace("SLACK_BOT_TOKEN=xoxb-...", "SLACK_BOT_TOKEN=xoxb-123").replace(
        "PORT=3000", "PORT=8080"
    )
    (deploy_folder / ".env").write_text(env_file + "POSTGRES_PASSWORD=s3cret\n")  # .env.example's DATABASE_URL= stays
    services = compose_config(deploy_folder)["services"]
    web = services["web"]
    assert web["environment"]["SLACK_BOT_TOKEN"] == "xoxb-123"
    assert [(p["published"], p["target"]) for p in web["ports"]] == [("8080", 3000)]
    assert web["environment"]["PORT"] == "3000"
    for name in ("web", "clock"):
        assert services[name]["environment"]["DATABASE_URL"] == "postgresql://smallchanges:s3cret@db:5432/smallchanges"
    assert services["db"]["environment"]["POSTGRES_PASSWORD"] == "s3cret"


def test_teams_runs_only_under_its_profile(deploy_folder):
    services = compose_config(deploy_folder, "--profile", "teams")["services"]
    teams = services["teams"]
    assert teams["command"] == procfile()["teams"]
    assert teams["environment"]["PORT"] == "3978"
    assert [(p["published"], p["target"]) for p in teams["ports"]] == [("3978", 3978)]
    assert teams["depends_on"]["db"]["condition"] == "service_healthy"
    assert make_url(teams["environment"]["DATABASE_URL"]).host == "db"


def test_the_image_runs_the_web_process_by_default_and_not_as_root():
    final_stage = (ROOT / "Dockerfile").read_text().split("\nFROM ")[-1]
    instructions = dict(line.split(" ", 1) for line in final_stage.splitlines() if line and line[0].isupper())
    assert final_stage.startswith("python:3.11-slim")
    assert json.loads(instructions["CMD"]) == procfile()["web"]
    assert instructions["USER"].split(":")[0] not in ("0", "root")


def test_the_installed_wheel_carries_its_config_and_migrations_and_runs_from_any_folder(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("bot", "config"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(tmp_path / "dist"), str(source)]
    subprocess.run(build, check=True, capture_output=True, timeout=120)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "bot").rglob("*.py") if "__pycache__" not in p.parts}
    assert modules <= packed
    config = {"bot/" + p.relative_to(ROOT).as_posix() for p in (ROOT / "config").rglob("*") if p.is_file()}
    assert config <= packed

    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True, timeout=120)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = bot_env(
        elsewhere,
        PYTHONPATH=str(site),  # the installed package, not this checkout
        DATABASE_URL=f"sqlite:///{elsewhere / 'bot.db'}",
        CLIENT_ID="00000000-0000-0000-0000-111111111111",
    )

    def bot(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "teams-package" in bot("--help")
    bot("migrate")  # reads config/defaults.toml, then runs the migrations, all from the installed package
    assert {"workspaces", "thanks", "changes", "alembic_version"} <= set(
        inspect(make_engine(env["DATABASE_URL"])).get_table_names()
    )
    package = bot("teams-package", "--host", "bot.example.org").strip()  # config/teams/manifest.json and its schema
    assert "manifest.json" in zipfile.ZipFile(elsewhere / package).namelist()
    where = subprocess.run(
        [sys.executable, "-c", "from bot.settings import CONFIG_DIR; print(CONFIG_DIR)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()) == site / "bot" / "config"


@pytest.fixture
def empty_database_url(database_url, tmp_path) -> Iterator[str]:
    """A database no process has migrated yet: a new SQLite file, or a new PostgreSQL schema (dropped afterwards)."""
    if make_url(database_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    schema = f"starting_together_{os.getpid()}"
    admin = make_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_a_web_and_a_clock_starting_together_on_an_empty_database_migrate_it_once(empty_database_url, tmp_path):
    """compose.yaml starts both at once, and each migrates as it starts (Store.migrate): one waits for the other."""
    env = bot_env(tmp_path, DATABASE_URL=empty_database_url)
    both = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "migrate"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    errors = [process.communicate(timeout=60)[1] for process in both]
    assert [process.returncode for process in both] == [0, 0], errors
    engine = make_engine(empty_database_url)
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    engine.dispose()
    assert versions == [ScriptDirectory(str(MIGRATIONS)).get_current_head()]
