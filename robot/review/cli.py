"""`robot review`: serve the labelling page until Ctrl-C. Every label is on disk before the page answers."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import click

from recognizer.errors import InputImageError
from recognizer.imageio import read_image
from recognizer.settings import ModelSettings, TableShape
from robot.config import DEFAULT_CONFIG, load_config
from robot.review.app import PageSettings, create_app, is_loopback
from robot.review.runs import find_run_tables
from robot.review.store import LabelStore
from robot.review.workspace import TableDoc, Workspace, image_doc, run_doc
from tablebot.errors import ConfigError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def run_loader(output_folder: Path, run_ids: tuple[str, ...]) -> Callable[[], list[TableDoc]]:
    return lambda: [run_doc(rt) for rt in find_run_tables(output_folder, run_ids)]


def image_loader(folder: Path, shape: TableShape, model: ModelSettings, reader=None) -> Callable[[], list[TableDoc]]:
    """Read every table image in `folder` with the model (loaded once, on first use). `reader` is for tests."""
    state = {"reader": reader}

    def load() -> list[TableDoc]:
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise InputImageError(f"no table images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
        if state["reader"] is None:
            from recognizer.predictor import TableReader  # the model loads here, once

            state["reader"] = TableReader.from_settings(model)
        docs = []
        for path in files:
            try:
                table = state["reader"].read(read_image(path, model.max_pixels), shape, path.name)
            except InputImageError as exc:  # segmentation errors too: one bad image does not stop the rest
                log.warning("skipped %s", exc)
                continue
            docs.append(image_doc(path, path.name, table))
        return docs

    return load


@click.command("review")
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_CONFIG,
              show_default=True, help="The robot's config.yaml (review, output and model sections).")
@click.option("--images", type=click.Path(path_type=Path, exists=True, file_okay=False),
              help="Queue every cell of the table images in this folder (to build a first labelled set).")
@click.option("--run", "run_ids", multiple=True, metavar="RUN_ID", help="Only these harvest runs (repeatable).")
@click.option("--labels", "labels_folder", type=click.Path(path_type=Path, file_okay=False),
              help="Labels dataset folder (default: review.labels_folder).")
@click.option("--host", help="Address to bind (default: review.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: review.port; 0 picks a free one).")
@click.option("--rows", type=click.IntRange(1, 200), help="With --images: expected data rows.")
@click.option("--cols", type=click.IntRange(1, 200), help="With --images: expected data columns.")
@click.option("--skip-rows", default=0, show_default=True, type=click.IntRange(0, 10), help="With --images: header rows.")
@click.option("--skip-cols", default=0, show_default=True, type=click.IntRange(0, 10), help="With --images: header columns.")
def review_command(config_path, images, run_ids, labels_folder, host, port, rows, cols, skip_rows, skip_cols) -> None:
    """Label cells in the browser: the flagged cells of harvest runs, or (--images) every cell of table images."""
    config = load_config(config_path)
    host = host or config.review.host
    port = config.review.port if port is None else port
    labels_folder = labels_folder or config.review.labels_folder
    if images and run_ids:
        raise ConfigError("give --images or --run, not both")
    if images:
        shape = TableShape(rows=rows, cols=cols, skip_rows=skip_rows, skip_cols=skip_cols)
        loader = image_loader(images, shape, config.model)
        mode = f"every cell of the table images in {images}"
    else:
        loader = run_loader(config.output.folder, run_ids)
        mode = f"cells flagged in the harvest runs in {config.output.folder}"

    workspace = Workspace(LabelStore(labels_folder), loader, config.model.max_pixels)
    app = create_app(workspace, PageSettings(config.review.cell_height_px, labels_folder, mode), bind_host=host)
    from werkzeug.serving import make_server

    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}): choose another --port") from None
    if not is_loopback(host):
        log.warning("review: listening on %s: anyone who can reach this machine can change the labels", host)
    progress = workspace.progress()
    log.info("review: %s", mode)
    log.info("review: %d to label, %d done; labels go to %s", progress.left, progress.done, labels_folder)
    log.info("review: open http://%s:%d/  (Ctrl-C stops; every saved label is already on disk)", host, server.server_port)
    try:
        server.serve_forever()  # werkzeug's returns on Ctrl-C
    finally:
        server.server_close()
        log.info("review: stopped; %d label(s) in %s", len(workspace.store), labels_folder)
