"""`robot review`: serve the labelling page until Ctrl-C. Every label is on disk before the page answers."""
from __future__ import annotations

import logging
from pathlib import Path

import click

from recognizer.settings import TableShape
from robot.commands.options import run_parts
from robot.config import DEFAULT_CONFIG, load_config
from robot.review.app import PageSettings, create_app, is_loopback
from robot.review.sources import collection_loader, image_loader, run_loader
from robot.review.store import LabelStore
from robot.review.workspace import Workspace
from tablebot.errors import ConfigError

log = logging.getLogger(__name__)


@click.command("review")
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_CONFIG,
              show_default=True, help="The robot's config.yaml (review, output and model sections).")
@click.option("--images", type=click.Path(path_type=Path, exists=True, file_okay=False),
              help="Queue every cell of the table images in this folder (to build a first labelled set).")
@click.option("--collection", type=click.Path(path_type=Path, exists=True, file_okay=False),
              help="Queue the flagged cells of this `recognizer read --out` folder, least confident first; "
                   "corrections go to its cells.csv.")
@click.option("--run", "run_ids", multiple=True, metavar="RUN_ID", help="Only these harvest runs (repeatable).")
@click.option("--labels", "labels_folder", type=click.Path(path_type=Path, file_okay=False),
              help="Labels dataset folder (default: review.labels_folder).")
@click.option("--host", help="Address to bind (default: review.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: review.port; 0 picks a free one).")
@click.option("--rows", type=click.IntRange(1, 200), help="With --images: expected data rows.")
@click.option("--cols", type=click.IntRange(1, 200), help="With --images: expected data columns.")
@click.option("--skip-rows", default=0, show_default=True, type=click.IntRange(0, 10), help="With --images: header rows.")
@click.option("--skip-cols", default=0, show_default=True, type=click.IntRange(0, 10), help="With --images: header columns.")
def command(config_path, images, collection, run_ids, labels_folder, host, port, rows, cols, skip_rows, skip_cols) -> None:
    """Label cells in the browser: the flagged cells of harvest runs, of a collection read by
    `recognizer read` (--collection), or (--images) every cell of table images."""
    config = load_config(config_path)
    host = host or config.review.host
    port = config.review.port if port is None else port
    labels_folder = labels_folder or config.review.labels_folder
    if sum(map(bool, (images, collection, run_ids))) > 1:
        raise ConfigError("give one of --collection, --images and --run, not several")
    if collection:
        loader = collection_loader(collection)  # the collection's results as read: no model here
        mode = f"cells flagged in the collection in {collection}"
    elif images:
        shape = TableShape(rows=rows, cols=cols, skip_rows=skip_rows, skip_cols=skip_cols)
        loader = image_loader(images, shape, config.model, run_parts().load_reader)
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
