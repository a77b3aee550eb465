"""config.yaml, loaded once into one typed, validated object.

Unknown keys are refused, ranges are checked, and messages name the key.
Components receive only the part they need. Secrets are never here: the config
names the environment variables that hold them.
"""
from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Annotated, ClassVar, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from recognizer.settings import ModelSettings, Strict, TableShape
from tablebot.errors import ConfigError

DEFAULT_CONFIG = Path("config.yaml")


class TargetKind(str, enum.Enum):
    DEMO = "demo"  # start the bundled demo site on 127.0.0.1 for this run
    URL = "url"  # a real site at target.url


class DemoSettings(Strict):
    seed: int = Field(7, description="seed for the demo site's table values and looks", strict=True)
    port: int = Field(0, ge=0, le=65535, description="0: any free port", strict=True)
    session_seconds: int = Field(600, ge=1, description="demo session lifetime", strict=True)


class Target(Strict):
    kind: TargetKind = TargetKind.DEMO
    url: str | None = Field(None, description="base URL of the site when kind is url")
    demo: DemoSettings = DemoSettings()

    @model_validator(mode="after")
    def _url_for_url_kind(self) -> "Target":
        if self.kind is TargetKind.URL and not self.url:
            raise ValueError("target.url is required when target.kind is 'url'")
        if self.url is not None:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"target.url {self.url!r} must be a whole http:// or https:// address with a host, "
                                 "e.g. https://example.org")
        return self


class Login(Strict):
    path: str = Field("/login", description="login page, relative to the target URL")
    username_selector: str = "input[name=username]"
    password_selector: str = "input[name=password]"
    submit_selector: str = "button[type=submit]"
    success_selector: str = Field("#logout", description="present only once logged in")
    error_selector: str = Field(".login-error", description="present when the site refused the credentials")
    username_env: str = Field("ROBOT_USERNAME", description="environment variable holding the user name")
    password_env: str = Field("ROBOT_PASSWORD", description="environment variable holding the password")

    def credentials(self) -> tuple[str, str]:
        user, password = os.environ.get(self.username_env), os.environ.get(self.password_env)
        missing = [name for name, v in ((self.username_env, user), (self.password_env, password)) if not v]
        if missing:
            raise ConfigError(f"set the environment variable(s) {', '.join(missing)} to the site's login")
        return user, password  # type: ignore[return-value]


MAX_SLEEP_S = 60.0  # the longest `sleep` action
MAX_FRAME_DEPTH = 5  # nested <iframe>s a frame path may name


def _frame_path(frames: list[str]) -> list[str]:
    if any(not css.strip() for css in frames):
        raise ValueError("each frame step must be a non-empty CSS selector of an <iframe>")
    return frames


FramePath = Annotated[
    list[str],
    AfterValidator(_frame_path),
    Field(max_length=MAX_FRAME_DEPTH, description="CSS selectors of nested <iframe>s, outermost first; "
                                                  "the element is looked up inside the last one"),
]


class NameFrom(str, enum.Enum):
    """How the tables of a spec whose selector matches several elements are named (`name_from`)."""

    TEXT = "text"  # the element's trimmed text
    INDEX = "index"  # its position among the matches, from 1
    # anything else: the name of an attribute, e.g. data-wheel


class _Action(Strict):
    frame: FramePath = Field(default_factory=list)
    optional: bool = Field(False, description="a step that cannot be done is logged and skipped", strict=True)
    timeout_s: float | None = Field(None, gt=0, le=600, strict=True,
                                    description="how long to wait for the element; default: browser.wait_timeout_s")
    one_of: ClassVar[tuple[str, str, str] | None] = None  # two keys of which exactly one is given, and a hint

    @model_validator(mode="after")
    def _exactly_one(self) -> "_Action":
        if self.one_of is not None:
            first, second, hint = self.one_of
            if (getattr(self, first) is None) == (getattr(self, second) is None):
                raise ValueError(f"a {self.action} action needs exactly one of {first} or {second}{hint}")
        return self


class ClickAction(_Action):
    action: Literal["click"]
    selector: str


class TypeAction(_Action):
    """Types `text`, or the value of the environment variable `text_env` (for secrets); the text is never logged."""

    action: Literal["type"]
    selector: str
    text: str | None = None
    text_env: str | None = Field(None, description="environment variable holding the text (for secrets)")
    one_of = ("text", "text_env", "")

    def resolved_text(self) -> str:
        if self.text is not None:
            return self.text
        value = os.environ.get(self.text_env or "")
        if value is None:
            raise ConfigError(f"set the environment variable {self.text_env} (a type action's text_env)")
        return value


class SelectAction(_Action):
    action: Literal["select"]
    selector: str
    value: str | None = Field(None, description="the option's value attribute")
    text: str | None = Field(None, description="the option's visible text")
    one_of = ("value", "text", "")


class PressAction(_Action):
    action: Literal["press"]
    key: str = Field(..., description="a key name of selenium's Keys, e.g. Enter, Escape, Tab")
    selector: str | None = Field(None, description="the element to press it in; default: the focused one")

    @field_validator("key")
    @classmethod
    def _known_key(cls, key: str) -> str:
        from selenium.webdriver.common.keys import Keys

        if len(key) != 1 and not hasattr(Keys, key.upper()):
            raise ValueError(f"unknown key {key!r}: use a single character or a key name such as Enter, Escape, Tab")
        return key


class ScrollAction(_Action):
    action: Literal["scroll"]
    selector: str | None = None
    to: Literal["bottom", "top"] | None = None
    one_of = ("selector", "to", " (bottom, top)")


class WaitForAction(_Action):
    action: Literal["wait_for"]
    selector: str


class WaitGoneAction(_Action):
    action: Literal["wait_gone"]
    selector: str


class SleepAction(_Action):
    action: Literal["sleep"]
    seconds: float = Field(..., gt=0, le=MAX_SLEEP_S, strict=True)


Action = Annotated[
    ClickAction | TypeAction | SelectAction | PressAction | ScrollAction | WaitForAction | WaitGoneAction
    | SleepAction,
    Field(discriminator="action"),
]


NAME_CHARS = r"A-Za-z0-9_.-"  # what table names (file names, CSV values) may hold


class TableSpec(TableShape):
    name: str = Field(..., pattern=rf"^[{NAME_CHARS}]+$", description="used in file names and CSVs")
    selector: str = Field(..., description="CSS selector of the table element (img or canvas, or an HTML table "
                                           "or grid with `cells`)")
    cells: str | None = Field(None, min_length=1, description="CSS selector, inside the table element, of its cells: "
                                                              "their boxes are read from the page, no segmentation")
    header_cells: str | None = Field(None, min_length=1,
                                     description="CSS selector of the cells (or rows) that `cells` matches but are "
                                                 "headers, e.g. th or .head: left out")
    frame: FramePath = Field(default_factory=list)
    name_from: str | None = Field(
        None, min_length=1, pattern=r"^[A-Za-z_:][-A-Za-z0-9_:.]*$",
        description="one table per matching element, named <name>-<derived>: 'text', 'index' or an attribute name",
    )
    min_count: int | None = Field(None, ge=1, le=10000, strict=True,
                                  description="with name_from: wait for at least this many matches (default 1)")
    # Set on the tables a `name_from` spec expands to (`expanded`): the derived part of the name.
    _member: str | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _cells_need_a_shape(self) -> TableSpec:
        if self.header_cells is not None and self.cells is None:
            raise ValueError(f"table {self.name}: header_cells needs cells (the selector of the table's cells)")
        if self.cells is not None:
            if self.rows is None or self.cols is None:
                raise ValueError(f"table {self.name}: cells needs rows and cols, to check the cells found against")
            if self.skip_rows or self.skip_cols:
                raise ValueError(f"table {self.name}: with cells, leave header cells out with header_cells "
                                 "instead of skip_rows/skip_cols")
        return self

    @model_validator(mode="after")
    def _count_needs_name_from(self) -> TableSpec:
        if self.min_count is not None and self.name_from is None:
            raise ValueError("min_count counts the tables of a name_from spec: set name_from too, or drop min_count")
        return self

    @property
    def is_group(self) -> bool:
        """A spec that stands for every element its selector matches, not yet expanded (`name_from`)."""
        return self.name_from is not None and self._member is None

    @property
    def member(self) -> str | None:
        """For a table expanded from a `name_from` spec: the derived part of its name, which finds its element."""
        return self._member

    def expanded(self, member: str) -> TableSpec:
        """The table of one element this `name_from` spec matched, named `<name>-<member>`."""
        table = self.model_copy(update={"name": f"{self.name}-{member}"})
        table._member = member
        return table


class Page(Strict):
    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$")
    path: str = Field(..., description="page path relative to the target URL")
    tables: list[TableSpec] = Field(..., min_length=1)
    actions: list[Action] = Field(default_factory=list,
                                  description="run in order once the page is open, before its tables are captured")

    @field_validator("tables")
    @classmethod
    def _unique_tables(cls, tables: list[TableSpec]) -> list[TableSpec]:
        names = [t.name for t in tables]
        if len(set(names)) != len(names):
            raise ValueError(f"table names must be unique within a page, got {names}")
        return tables


class Browser(Strict):
    chromium_path: Path | None = Field(None, description="Chromium binary; default: found on PATH")
    chromedriver_path: Path | None = Field(None, description="chromedriver; default: found on PATH")
    use_webdriver_manager: bool = Field(False, description="download a chromedriver (needs internet)")
    remote_url: str | None = Field(None, description="drive a remote WebDriver (Selenium Grid) instead")
    window_width: int = Field(1400, ge=200, le=10000, strict=True)
    window_height: int = Field(1000, ge=200, le=10000, strict=True)
    device_scale_factor: float = Field(1.0, ge=0.5, le=4.0, strict=True)
    page_load_timeout_s: float = Field(30.0, gt=0, strict=True)
    wait_timeout_s: float = Field(10.0, gt=0, description="explicit wait for login and tables", strict=True)
    extra_args: list[str] = Field(default_factory=list)


class Schedule(Strict):
    cron: str | None = Field(None, description="crontab expression, e.g. '*/30 * * * *'")
    interval_minutes: float | None = Field(60.0, gt=0, strict=True)
    run_time_limit_s: float = Field(900.0, gt=0, description="a run longer than this is stopped", strict=True)
    misfire_grace_s: int | None = Field(None, ge=1, description="default: half the interval", strict=True)
    jobstore_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite in the output folder")
    stop_grace_s: float = Field(
        60.0, gt=0, strict=True,
        description="after SIGINT/SIGTERM, time for the current table to finish before the browser is quit",
    )

    @model_validator(mode="after")
    def _one_trigger(self) -> "Schedule":
        if self.cron and self.interval_minutes is not None and "interval_minutes" in self.model_fields_set:
            raise ValueError("give schedule.cron or schedule.interval_minutes, not both")
        if not self.cron and self.interval_minutes is None:
            raise ValueError("give schedule.cron or schedule.interval_minutes: the schedule needs one of them")
        return self


class Retry(Strict):
    """Transient failures (HTTP 5xx, time-outs, an expired session, a crashed browser) are retried per page
    with exponential backoff: backoff_s, 2*backoff_s, ... up to backoff_max_s. A refused login is never retried."""

    attempts: int = Field(3, ge=1, le=10, description="tries per page, the first one included", strict=True)
    backoff_s: float = Field(2.0, ge=0, le=600, description="wait before the second try; doubles with each try", strict=True)
    backoff_max_s: float = Field(30.0, ge=0, le=3600, description="longest wait between two tries", strict=True)
    browser_restarts: int = Field(2, ge=0, le=10, description="how often one run may restart a crashed browser", strict=True)
    relogins: int = Field(3, ge=0, le=20, description="how often one run may log in again after its session expired", strict=True)


class Output(Strict):
    folder: Path = Field(Path("data/runs"), description="one sub-folder per run is written here")
    keep_screenshots: bool = True
    deduplicate: bool = Field(
        True, description="skip a table an earlier run already captured (same image, or same values, same page/table)"
    )


class Review(Strict):
    """`robot review`: the labelling web page."""

    host: str = Field("127.0.0.1", description="address to bind; anything but loopback exposes the labels")
    port: int = Field(8765, ge=0, le=65535, description="0: any free port", strict=True)
    labels_folder: Path = Field(Path("data/labels"), description="labels.csv and cells/ for `recognizer finetune`")
    cell_height_px: int = Field(160, ge=32, le=1000, description="on-screen height of the cell being labelled", strict=True)


class AppConfig(Strict):
    target: Target = Target()
    login: Login = Login()
    pages: list[Page] = Field(..., min_length=1)
    before_each_page: list[Action] = Field(default_factory=list,
                                           description="run on every page before its own actions (cookie consent)")
    browser: Browser = Browser()
    schedule: Schedule = Schedule()
    retry: Retry = Retry()
    output: Output = Output()
    model: ModelSettings = ModelSettings()
    review: Review = Review()

    @model_validator(mode="after")
    def _unique_pages(self) -> "AppConfig":
        names = [p.name for p in self.pages]
        if len(set(names)) != len(names):
            raise ValueError(f"page names must be unique, got {names}")
        return self


def load_config(path: str | os.PathLike = DEFAULT_CONFIG) -> AppConfig:
    """Read and validate config.yaml. Relative paths inside it are relative to the file's folder."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found: pass --config or copy config.yaml from the project") from None
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_error(path, exc)) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must be a mapping of sections (target, login, pages, ...)")
    try:
        config = AppConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{path}: {key}: {first['msg']}{more}") from None
    return _resolve_paths(config, path.parent.resolve())


def yaml_error(path: Path, exc: yaml.YAMLError) -> str:
    """One line: where in the file (line and column, counted from 1) and what is wrong there."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    what = f"{problem} ({context})" if context else problem
    return f"{path}{where}: not valid YAML: {what}"


def _resolve_paths(config: AppConfig, base: Path) -> AppConfig:
    def rel(p: Path | None) -> Path | None:
        return p if p is None or p.is_absolute() else base / p

    def with_paths(section, *keys: str):
        return section.model_copy(update={k: rel(getattr(section, k)) for k in keys})

    return config.model_copy(
        update={
            "output": with_paths(config.output, "folder"),
            "model": with_paths(config.model, "path"),
            "browser": with_paths(config.browser, "chromium_path", "chromedriver_path"),
            "review": with_paths(config.review, "labels_folder"),
        }
    )
