"""`robot doctor` (robot/doctor.py): each check passes or says what to fix."""
from __future__ import annotations

import http.server
import json
import shutil
import threading

import pytest

import robot.doctor as doctor
from recognizer.errors import ModelError
from robot.config import Browser, Login, Output, Target, TargetKind
from robot.run import RunParts
from tablebot.errors import ExitCode
from tests import fs_faults
from tests.robot_fakes import FAKE_PASSWORD, fake_parts, robot_cli

CHROMIUM_156 = "Chromium 156.0.8078.108 built on Debian GNU/Linux 12 (bookworm)"
DRIVER_156 = "ChromeDriver 156.0.8078.108 (730482a940ce25ae7cf051320d8340e793acf8b9-refs/branch-heads/8078@{#2244})"
DRIVER_155 = "ChromeDriver 155.0.7999.1 (abc-refs/branch-heads/7999@{#1})"


@pytest.fixture
def binaries(tmp_path):
    """Stand-in chromium and chromedriver files (the versions they report are set per test)."""
    paths = {}
    for name in ("chromium", "chromedriver"):
        paths[name] = tmp_path / name
        paths[name].write_text("#!/bin/sh\n")
        paths[name].chmod(0o755)
    return paths


def versions(monkeypatch, chromium: str, chromedriver: str) -> None:
    monkeypatch.setattr(doctor, "tool_version", lambda binary: chromium if binary.endswith("chromium") else chromedriver)


def test_all_checks_pass(write_config, binaries, monkeypatch, capsys):
    versions(monkeypatch, CHROMIUM_156, DRIVER_156)
    config = write_config({"browser": {"chromium_path": str(binaries["chromium"]),
                                       "chromedriver_path": str(binaries["chromedriver"])}})
    code, out, err = robot_cli(monkeypatch, capsys, "doctor", "--config", str(config), parts=fake_parts())
    assert code == 0, out + err
    names = [line.split()[1] for line in out.splitlines() if line.startswith("ok")]
    assert names == ["config", "schedule", "credentials", "browser", "model", "output", "lock"]
    assert "chromium and chromedriver 156" in out and "is writable" in out
    assert out.splitlines()[-1] == "all 7 checks passed"
    assert not list((config.parent / "runs").iterdir())  # the write probe is gone


def test_failures_say_what_to_fix_and_exit_non_zero(write_config, binaries, monkeypatch, capsys):
    versions(monkeypatch, CHROMIUM_156, DRIVER_155)

    def no_model(settings):
        raise ModelError(f"model file {settings.path} not found: retrain")

    monkeypatch.delenv("SITE_USER", raising=False)
    monkeypatch.setenv("SITE_PASS", FAKE_PASSWORD)
    config = write_config({
        "target": {"kind": "url", "url": "https://example.test"},
        "login": {"username_env": "SITE_USER", "password_env": "SITE_PASS"},
        "browser": {"chromium_path": str(binaries["chromium"]), "chromedriver_path": str(binaries["chromedriver"])},
    })
    code, out, err = robot_cli(monkeypatch, capsys, "doctor", "--config", str(config), parts=RunParts(load_reader=no_model))
    assert code == ExitCode.FAILED
    lines = out.splitlines()
    failed = [line.split()[1] for line in lines if line.startswith("FAIL")]
    assert failed == ["credentials", "browser", "model"]
    assert "SITE_USER not set" in out and "fix: export SITE_USER" in out and FAKE_PASSWORD not in out + err
    assert "chromium 156" in out and "chromedriver 155" in out and "fix: install matching versions" in out
    assert "not found: retrain" in out and "fix: train or copy a model there" in out
    assert err.strip() == "error: 3 of 7 checks failed (credentials, browser, model): fix them as shown above"


def test_a_broken_config_is_the_only_check(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "config.yaml"
    bad.write_text("pages: []\nsurprise: 1\n")
    code, out, _ = robot_cli(monkeypatch, capsys, "doctor", "--config", str(bad))
    assert code == ExitCode.FAILED
    assert out.startswith("FAIL  config") and len([line for line in out.splitlines() if line[:4] in ("ok  ", "FAIL")]) == 1


def test_bad_cron_fails_the_schedule_check(write_config):
    from robot.config import load_config

    config = load_config(write_config({"schedule": {"cron": "every monday", "interval_minutes": None}}))
    check = doctor.check_schedule(config)
    assert not check.ok and "not a crontab expression" in check.detail and "schedule.cron" in check.fix


def test_credentials_for_the_demo_target_are_optional(monkeypatch):
    monkeypatch.delenv("ROBOT_USERNAME", raising=False)
    check = doctor.check_credentials(Target(kind=TargetKind.DEMO), Login())
    assert check.ok and "one-off login" in check.detail


def test_unreadable_version_and_missing_binaries(binaries, monkeypatch, tmp_path):
    versions(monkeypatch, "Chromium (unknown)", DRIVER_156)
    settings = Browser(chromium_path=binaries["chromium"], chromedriver_path=binaries["chromedriver"])
    assert "cannot read the versions" in doctor.check_browser(settings).detail
    missing = doctor.check_browser(Browser(chromium_path=tmp_path / "nope"))
    assert not missing.ok and "does not exist" in missing.detail


@pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("chromedriver")), reason="needs chromium and chromedriver")
def test_the_installed_chromium_and_chromedriver_match():
    check = doctor.check_browser(Browser())
    assert check.ok, check.detail


def test_an_unwritable_output_folder_fails(tmp_path):
    folder = tmp_path / "out"
    with fs_faults.tmpfs(folder, "1m"), fs_faults.readonly(folder):
        check = doctor.check_output(Output(folder=folder))
    assert not check.ok and "cannot write" in check.detail and "change output.folder" in check.fix


class _StatusHandler(http.server.BaseHTTPRequestHandler):
    ready = True

    def do_GET(self):
        body = json.dumps({"value": {"ready": self.ready, "message": "no free slots"}}).encode()
        self.send_response(200 if self.path == "/wd/hub/status" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("ready", [True, False])
def test_remote_webdriver_status(ready, monkeypatch):
    handler = type("Handler", (_StatusHandler,), {"ready": ready})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        check = doctor.check_browser(Browser(remote_url=f"http://127.0.0.1:{server.server_port}/wd/hub"))
    finally:
        server.shutdown()
        server.server_close()
    assert check.ok is ready
    assert ("is ready" if ready else "not ready: no free slots") in check.detail


def test_remote_webdriver_down(closed_port):
    check = doctor.check_browser(Browser(remote_url=f"http://127.0.0.1:{closed_port}"))
    assert not check.ok and "does not answer" in check.detail and "browser.remote_url" in check.fix
