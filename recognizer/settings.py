"""Typed settings for reading tables: the `model` and per-table shape parts of config.yaml."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_MODEL = Path(__file__).parent / "models" / "default.keras"


class Strict(BaseModel):
    """Unknown keys refused. Number fields also say `strict=True`: YAML's `true` is not the number 1."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSettings(Strict):
    path: Path = Field(DEFAULT_MODEL, description="Keras model file; its metadata JSON sits beside it")
    review_threshold: float = Field(
        0.95, ge=0.0, le=1.0, strict=True,
        description="cells whose calibrated confidence is below this are flagged needs_review",
    )
    max_pixels: int = Field(40_000_000, gt=0, description="images larger than this are refused", strict=True)


class TableShape(Strict):
    """What the reader may assume about one table image."""

    rows: int | None = Field(None, ge=1, le=200, description="expected data rows; a mismatch is an error", strict=True)
    cols: int | None = Field(None, ge=1, le=200, description="expected data columns; a mismatch is an error", strict=True)
    skip_rows: int = Field(0, ge=0, le=10, description="header rows of labels to skip", strict=True)
    skip_cols: int = Field(0, ge=0, le=10, description="header columns of labels to skip", strict=True)
