"""Deploying: the wheel that `pip install .` builds runs from any folder, with its config and migrations."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from sqlalchemy import inspect

from bot.store.db import make_engine
from tests.test_cli import bot_env

ROOT = Path(__file__).resolve().parent.parent


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
