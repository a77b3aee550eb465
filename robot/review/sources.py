"""Where the review tool's tables come from: a harvest's run folders, a `recognizer read` folder
(its results as they are: no picture is read by the model again), or a folder of table images read once."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from recognizer.collection import load_collection
from recognizer.errors import InputImageError
from recognizer.imageio import read_image
from recognizer.settings import ModelSettings, TableShape
from robot.review.workspace import TableDoc, collection_doc, image_doc, run_doc
from robot.run import Reader
from robot.runfolder import find_run_tables

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def run_loader(output_folder: Path, run_ids: tuple[str, ...]) -> Callable[[], list[TableDoc]]:
    return lambda: [run_doc(rt) for rt in find_run_tables(output_folder, run_ids)]


def collection_loader(folder: Path) -> Callable[[], list[TableDoc]]:
    return lambda: [collection_doc(folder, picture) for picture in load_collection(folder)]


def image_loader(folder: Path, shape: TableShape, model: ModelSettings,
                 load_reader: Callable[[ModelSettings], Reader]) -> Callable[[], list[TableDoc]]:
    """Read every table image in `folder`; the reader is loaded once, on first use."""
    state: dict[str, Reader | None] = {"reader": None}

    def load() -> list[TableDoc]:
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise InputImageError(f"no table images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
        if state["reader"] is None:
            state["reader"] = load_reader(model)
        docs = []
        for path in files:
            try:
                # Labelling a look the model does not know yet: most of its cells may be unreadable.
                table = state["reader"].read(read_image(path, model.max_pixels), shape, path.name,
                                             refuse_unreadable=False)
            except InputImageError as exc:  # segmentation errors too: one bad image does not stop the rest
                log.warning("skipped %s", exc)
                continue
            docs.append(image_doc(path, path.name, table))
        return docs

    return load
