"""Shared fixtures: a fake browser and site, a config writer, the demo site, a closed port.

The fake classes live in `tests/robot_fakes.py`.
"""
from __future__ import annotations

import contextlib
import copy
import logging
import secrets
import socket
from pathlib import Path
from typing import Callable, Iterator

import pytest
import yaml

from tests.robot_fakes import (
    FAKE_PASSWORD,
    FAKE_USER,
    FakeDriver,
    FakeElement,
    FakeReader,
    FakeSite,
    grid_png,
)

PROJECT = Path(__file__).resolve().parents[1]
PROJECT_CONFIG = PROJECT / "config.yaml"


@pytest.fixture(autouse=True)
def _restore_root_logging():
    """CLI tests run `setup_logging(force=True)`, which points the root handler at that test's captured
    stderr; put the root logger back so later tests (and their threads) do not log into a closed stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def fake_site() -> FakeSite:
    """The config.yaml pages as fake tables: each page's tables as ruled grids of the right shape."""
    config = yaml.safe_load(PROJECT_CONFIG.read_text())
    tables = {
        page["path"]: {t["selector"]: FakeElement(grid_png(t["rows"], t["cols"])) for t in page["tables"]}
        for page in config["pages"]
    }
    return FakeSite(FAKE_USER, FAKE_PASSWORD, tables)


@pytest.fixture
def fake_driver(fake_site: FakeSite) -> FakeDriver:
    return FakeDriver(fake_site)


# ---------------------------------------------------------------------------- configs

def deep_merge(base: dict, overrides: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """write_config(overrides={...}, name="config.yaml") -> path of the project's config.yaml with
    `overrides` deep-merged in, output going to tmp_path/runs and the project's model."""

    def write(overrides: dict | None = None, name: str = "config.yaml") -> Path:
        config = yaml.safe_load(PROJECT_CONFIG.read_text())
        config = deep_merge(config, {
            "output": {"folder": str(tmp_path / "runs")},
            "model": {"path": str(PROJECT / config["model"]["path"])},
        })
        config = deep_merge(config, overrides or {})
        path = tmp_path / name
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    return write


# ---------------------------------------------------------------------------- real browser and demo site

@pytest.fixture
def demo_password() -> str:
    return "demo-pw-" + secrets.token_hex(8)


@contextlib.contextmanager
def serving_demo(password: str) -> Iterator:
    """The bundled demo site on loopback (seed 7), user `robot`, started for tests (truth and faults exposed)."""
    DemoServer = pytest.importorskip("robot.demo.server", reason="the demo site (robot/demo) is not there yet").DemoServer

    with DemoServer(seed=7, username="robot", password=password, expose_truth=True) as server:
        yield server


@pytest.fixture
def demo_server(demo_password: str):
    """The bundled demo site on loopback (seed 7), user `robot`, a random password, started for tests
    (its truth and fault switches exposed)."""
    with serving_demo(demo_password) as server:
        yield server


@pytest.fixture(scope="module")
def module_demo_site():
    """`demo_server` shared by a module's tests: (server, password). Tests must leave its faults off."""
    password = "demo-pw-" + secrets.token_hex(8)
    with serving_demo(password) as server:
        yield server, password


@pytest.fixture(scope="module")
def module_chromium():
    """Real headless Chromium (the project config's browser settings) shared by a module's tests."""
    from robot.browser.manage import open_browser
    from robot.config import load_config

    with open_browser(load_config(PROJECT_CONFIG).browser) as driver:
        yield driver


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def reader() -> FakeReader:
    """A fake reader (no TensorFlow) for runs: what it returns is set per test."""
    return FakeReader()
