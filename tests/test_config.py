"""config.yaml -> one validated AppConfig: unknown keys and bad values are refused with the key named."""
from pathlib import Path

import pytest
import yaml

from robot.config import TargetKind, load_config
from tablebot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
PAGES = [{"name": "p", "path": "/t", "tables": [{"name": "main", "selector": "#t", "rows": 8, "cols": 15}]}]


def write(tmp_path, data) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def test_the_shipped_config_loads_with_the_demo_target():
    config = load_config(ROOT / "config.yaml")
    assert config.target.kind is TargetKind.DEMO
    assert [p.name for p in config.pages] == ["light", "dark", "roulette", "zebra"]
    assert config.model.path == ROOT / "recognizer" / "models" / "default.keras"


def test_relative_paths_are_relative_to_the_config_folder(tmp_path):
    config = load_config(write(tmp_path, {"pages": PAGES, "output": {"folder": "out"}, "model": {"path": "/abs/m.keras"}}))
    assert config.output.folder == tmp_path / "out"
    assert config.model.path == Path("/abs/m.keras")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"pages": PAGES, "browsr": {}}, "browsr: Extra inputs are not permitted"),
        ({"pages": PAGES, "model": {"review_threshold": 1.5}}, "model.review_threshold: Input should be less than or equal to 1"),
        ({"pages": PAGES, "target": {"kind": "url"}}, "target.url is required"),
        ({"pages": []}, "pages: List should have at least 1 item"),
        ({"pages": PAGES, "schedule": {"cron": "*/5 * * * *", "interval_minutes": 5}}, "not both"),
        ({"pages": [{**PAGES[0], "tables": [{"name": "a b", "selector": "#t"}]}]}, "pages.0.tables.0.name"),
    ],
)
def test_bad_values_name_the_key(tmp_path, data, message):
    with pytest.raises(ConfigError, match=message.replace("*", r"\*")):
        load_config(write(tmp_path, data))


TABLE = PAGES[0]["tables"][0]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"pages": PAGES, "target": {"kind": "url", "url": "example.org"}}, "target: Value error, target.url 'example.org' must"),
        ({"pages": PAGES, "target": {"kind": "url", "url": "http://"}}, "target.url 'http://' must be a whole http"),
        ({"pages": PAGES, "target": {"kind": "url", "url": "ftp://example.org"}}, "target.url 'ftp://example.org' must"),
        ({"pages": PAGES, "schedule": {"interval_minutes": None}}, "schedule: .*give schedule.cron or schedule.interval_minutes"),
        ({"pages": [{**PAGES[0], "tables": [{**TABLE, "rows": True}]}]}, "pages.0.tables.0.rows: Input should be a valid integer"),
        ({"pages": [{**PAGES[0], "tables": [{**TABLE, "skip_cols": False}]}]}, "pages.0.tables.0.skip_cols: Input should be a valid int"),
        ({"pages": [{**PAGES[0], "tables": [{**TABLE, "cols": 15.0}]}]}, "pages.0.tables.0.cols: Input should be a valid integer"),
        ({"pages": PAGES, "retry": {"attempts": True}}, "retry.attempts: Input should be a valid integer"),
        ({"pages": PAGES, "browser": {"wait_timeout_s": True}}, "browser.wait_timeout_s: Input should be a valid number"),
    ],
)
def test_a_url_without_scheme_or_host_no_schedule_and_booleans_for_numbers_are_refused(tmp_path, data, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, data))


def test_whole_numbers_still_do_for_number_settings(tmp_path):
    config = load_config(write(tmp_path, {"pages": PAGES, "browser": {"wait_timeout_s": 5}, "schedule": {"interval_minutes": 30}}))
    assert config.browser.wait_timeout_s == 5.0 and config.schedule.interval_minutes == 30.0


def test_a_yaml_syntax_error_names_its_line_and_column(tmp_path):
    text = "pages:\n  - name: p\n    path: /t\n   tables: []\n"
    with pytest.raises(ConfigError, match=r"config.yaml line 4, column 4: not valid YAML: expected <block end>"):
        load_config(write(tmp_path, text))
    with pytest.raises(ConfigError, match=r"line 1, column 17: not valid YAML: expected ',' or ']'"):
        load_config(write(tmp_path, "pages: [unclosed"))


def test_bad_yaml_and_missing_file_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML") as info:
        load_config(write(tmp_path, "pages: [unclosed"))
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_credentials_come_from_the_named_environment_variables(tmp_path, monkeypatch):
    config = load_config(write(tmp_path, {"pages": PAGES, "login": {"username_env": "SITE_USER", "password_env": "SITE_PASS"}}))
    monkeypatch.delenv("SITE_USER", raising=False)
    monkeypatch.delenv("SITE_PASS", raising=False)
    with pytest.raises(ConfigError, match="SITE_USER, SITE_PASS"):
        config.login.credentials()
    monkeypatch.setenv("SITE_USER", "me")
    monkeypatch.setenv("SITE_PASS", "s3cret")
    assert config.login.credentials() == ("me", "s3cret")
