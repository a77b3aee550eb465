"""Where matplotlib keeps its fonts (the DejaVu family), found without importing matplotlib.

The synthetic generator, the demo site and the test fixtures fall back on these files where the
system has no DejaVu; importing matplotlib only to ask would cost every caller its start-up.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path


def matplotlib_font_dir() -> Path | None:
    """matplotlib's `mpl-data/fonts/ttf` folder, or None when matplotlib (or the folder) is missing."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"
    return folder if folder.is_dir() else None
