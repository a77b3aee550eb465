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
