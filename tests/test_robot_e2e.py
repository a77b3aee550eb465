"""End to end: real headless Chromium against the bundled demo site on loopback.

The CLI runs in a subprocess. Where the recognizer's model is not there (yet), the error-path
tests run the same CLI with the fake reader (the browser side is what they test); the main
`--check-demo` test needs the real model and is skipped without it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recognizer.imageio import decode_png
from robot.config import load_config
from robot.run import run_once
from tablebot.errors import ExitCode
from tests.robot_fakes import FakeReader, fake_parts

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (shutil.which("chromedriver") and (shutil.which("chromium") or shutil.which("google-chrome"))),
                       reason="needs chromium and chromedriver (apt-get install chromium chromium-driver)"),
]

PROJECT = Path(__file__).resolve().parents[1]
ROBOT = PROJECT / ".venv" / "bin" / "robot"
CLI_TIMEOUT_S = 240
# The robot CLI with the fake reader (values from the demo truth when asked): for runs without a model.
FAKE_READER_CLI = (
    "import sys, robot.cli\n"
    "from tests.robot_fakes import FakeReader, fake_parts\n"
    "truth = None\n"
    "if sys.argv[1] == '--truth':\n"
    "    from robot.demo.server import DemoServer\n"
    "    truth = DemoServer(username='t', password='t', seed=7).truth\n"
    "    del sys.argv[1]\n"
    "robot.cli.main(obj=fake_parts(FakeReader(values=truth)))\n"
)


def model_exists(config_path: Path) -> bool:
    return load_config(config_path).model.path.is_file()


def run_robot(config_path: Path, *args: str, verbose: bool = False, env: dict[str, str] | None = None,
              fake_reader: bool | None = None, truth: bool = False) -> subprocess.CompletedProcess:
    """`robot [--verbose] run-once --config <config_path> [args]`: the real CLI, or the same CLI with the fake reader."""
    fake = (not model_exists(config_path)) if fake_reader is None else fake_reader
    base_env = {k: v for k, v in os.environ.items() if k not in ("ROBOT_USERNAME", "ROBOT_PASSWORD")}
    full_env = {**base_env, **(env or {})}
    command = [*(["--verbose"] if verbose else []), "run-once", "--config", str(config_path), *args]
    if fake:
        argv = [sys.executable, "-c", FAKE_READER_CLI, *(["--truth"] if truth else []), *command]
    else:
        argv = [str(ROBOT), *command]
    return subprocess.run(argv, cwd=PROJECT, env=full_env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S)


def url_target(server, **overrides) -> dict:
    return {"target": {"kind": "url", "url": server.url}, "browser": {"wait_timeout_s": 5}, **overrides}


def only_page(name: str, tables: list[dict]) -> dict:
    return {"pages": [{"name": name, "path": f"/tables/{name}", "tables": tables}]}


def test_wrong_password_exits_with_the_login_code(demo_server, write_config, demo_password):
    config = write_config(url_target(demo_server, **only_page("light", [
        {"name": "main", "selector": "#table-main", "rows": 8, "cols": 15}])))
    done = run_robot(config, env={"ROBOT_USERNAME": "robot", "ROBOT_PASSWORD": "not-" + demo_password})
    assert done.returncode == ExitCode.LOGIN, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "error: the site refused the login for the user in $ROBOT_USERNAME; check ROBOT_USERNAME/ROBOT_PASSWORD")
    assert demo_password not in done.stdout + done.stderr
    (run_dir,) = [p for p in (config.parent / "runs").iterdir() if p.is_dir()]  # beside it: robot.sqlite, robot.lock
    html = (run_dir / "failure__LoginFailed.html").read_text()
    assert "Wrong user name or password" in html and demo_password not in html


def test_unreachable_site_is_a_clear_error(write_config, closed_port):
    config = write_config({"target": {"kind": "url", "url": f"http://127.0.0.1:{closed_port}"},
                           "retry": {"backoff_s": 0.1}})  # retried (bounded), then this one line
    done = run_robot(config, env={"ROBOT_USERNAME": "robot", "ROBOT_PASSWORD": "pw"})
    assert done.returncode == ExitCode.TARGET, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: cannot reach http://127.0.0.1:{closed_port}/login (ERR_CONNECTION_REFUSED): "
        "check that the site is up and target.url is right; the robot retries with backoff (retry.attempts)")


def test_missing_selector_is_table_not_found(demo_server, write_config, demo_password):
    config = write_config(url_target(demo_server, **only_page("roulette", [
        {"name": "main", "selector": "#table-main", "rows": 8, "cols": 15},
        {"name": "gone", "selector": "#table-gone", "rows": 4, "cols": 10},
    ]), browser={"wait_timeout_s": 2}))
    done = run_robot(config, env={"ROBOT_USERNAME": "robot", "ROBOT_PASSWORD": demo_password})
    assert done.returncode == ExitCode.TARGET, done.stderr
    assert f"error: roulette/gone: timed out after 2 s waiting for table roulette/gone (selector '#table-gone') on " \
           f"{demo_server.url}/tables/roulette" in done.stderr
    (run_dir,) = [p for p in (config.parent / "runs").iterdir() if p.is_dir()]  # beside it: robot.sqlite, robot.lock
    assert (run_dir / "roulette__main.csv").is_file()  # the table that is there was still harvested
    assert (run_dir / "failure__roulette__gone.png").read_bytes().startswith(b"\x89PNG")


def test_verbose_run_never_shows_the_password(demo_server, write_config, demo_password):
    config = write_config(url_target(demo_server, **only_page("light", [
        {"name": "main", "selector": "#table-main", "rows": 8, "cols": 15}])))
    done = run_robot(config, verbose=True, env={"ROBOT_USERNAME": "robot", "ROBOT_PASSWORD": demo_password},
                     fake_reader=True)
    assert done.returncode == 0, done.stderr
    assert "/value" in done.stderr  # Selenium's command log is on, so the typed text was there to leak
    assert demo_password not in done.stdout + done.stderr
    for path in (config.parent / "runs").rglob("*"):
        if path.is_file():
            assert demo_password.encode() not in path.read_bytes(), path


def test_the_pipeline_writes_what_the_site_shows(write_config, monkeypatch):
    """Demo target, real browser, a reader that knows the truth: screenshots are the whole table images."""
    from robot.demo.render import table_geometry
    from robot.demo.server import DemoServer

    truth_site = DemoServer(username="t", password="t", seed=7)
    monkeypatch.delenv("ROBOT_USERNAME", raising=False)
    monkeypatch.delenv("ROBOT_PASSWORD", raising=False)
    result = run_once(load_config(write_config({"browser": {"device_scale_factor": 2.0}})),
                      parts=fake_parts(FakeReader(values=truth_site.truth)))
    assert result.ok and len(result.tables) == 5 and result.cells == 520
    for item in result.tables:
        spec = truth_site.pages[item.page].table(item.table_name)
        geo = table_geometry(spec.rows, spec.cols, spec.look)
        h, w = decode_png(item.png).shape[:2]
        assert abs(w - 2 * geo.width) <= 2 and abs(h - 2 * geo.height) <= 2, (item.stem, (w, h), geo)
        assert not np.all(decode_png(item.png) == decode_png(item.png)[0, 0])  # not a blank capture


def test_check_demo_cli_with_a_reader_that_knows_the_truth(write_config):
    done = run_robot(write_config(), "--check-demo", fake_reader=True, truth=True)
    assert done.returncode == 0, done.stderr
    assert "check overall: 100.00% right, 0 wrong of 520, 0 wrong and not flagged" in done.stdout


def test_run_once_check_demo_with_the_real_model(write_config):
    """The acceptance test: `robot run-once --check-demo` on the demo config, real recognizer."""
    config = write_config()
    if not model_exists(config):
        pytest.skip(f"no trained model at {load_config(config).model.path} yet")
    done = run_robot(config, "--check-demo", fake_reader=False)
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "check passed" in done.stdout
