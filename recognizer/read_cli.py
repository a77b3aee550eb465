"""`recognizer read PATH... --out DIR`: a collection of pictures -> cells.csv, summary.csv,
collection.json (`recognizer.collection`) and, per picture, a CSV grid and a JSON named by the
picture's relative path."""
from __future__ import annotations

import contextlib
import csv
import hashlib
import logging
import os
import signal
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import click

from recognizer.collection import (
    CELLS_COLUMNS,
    CELLS_FILE,
    COLLECTION_FILES,
    MANIFEST_FILE,
    SUMMARY_COLUMNS,
    SUMMARY_FILE,
    cell_fields,
    read_corrections,
    with_corrections,
    write_manifest,
    write_per_picture,
)
from recognizer.errors import InputImageError, NotATableError, SegmentationError
from recognizer.inputs import InputsError, gather, read_list
from recognizer.journal import JOURNAL_NAME, Journal, fingerprint
from recognizer.settings import DEFAULT_MODEL, ModelSettings, TableShape
from recognizer.table import (
    Table,
    table_from_dict,
    table_to_dict,
)
from tablebot.errors import ExitCode
from tablebot.files import atomic_open

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    source: str
    sha256: str = ""
    table: Table | None = None
    status: str = "read"  # read | refused (wrong shape, header) | no-table (a photo) | unreadable (not decoded)
    error: str = ""


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False), help="Output folder.")
@click.option("--from-file", "from_file", type=click.File("r", encoding="utf-8"),
              help="Also read the paths listed in this file, one per line, relative to the current folder ('-': standard input).")
@click.option("--include", multiple=True, metavar="GLOB", help="Only sources whose relative path matches (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip sources whose relative path matches (repeatable).")
@click.option("--per-picture/--no-per-picture", default=True, show_default=True,
              help="Also write OUT/<source>.csv and OUT/<source>.json for each picture.")
@click.option("--rows", type=click.IntRange(1, 200), help="Expected data rows (a mismatch refuses the picture).")
@click.option("--cols", type=click.IntRange(1, 200), help="Expected data columns (a mismatch refuses the picture).")
@click.option("--skip-rows", default=0, show_default=True, type=click.IntRange(0, 10), help="Header rows to skip.")
@click.option("--skip-cols", default=0, show_default=True, type=click.IntRange(0, 10), help="Header columns to skip.")
@click.option("--model", "model_path", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_MODEL, show_default=True)
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help="Review threshold (default from the model settings).")
@click.option("--jobs", type=click.IntRange(1, 256), default=None,
              help="Worker processes reading pictures in parallel (default: the cores available; 1: in this process).")
def read(paths, out_dir, from_file, include, exclude, per_picture, rows, cols, skip_rows, skip_cols, model_path,
         threshold, jobs) -> None:
    """Read the table pictures in PATHS (files, or folders searched recursively for .png .jpg
    .jpeg .webp .bmp .gif .tif .tiff) into OUT/cells.csv (one row per cell), OUT/summary.csv (one
    row per picture), OUT/collection.json (where each picture is, for `robot review --collection`)
    and, per picture, OUT/<name>.csv (the grid) and OUT/<name>.json, where <name> is its path
    relative to the folder given, suffix included (a/t.png -> OUT/a/t.png.csv).

    A picture that cannot be read gets one error line naming it; the others are still read.
    The exit code is 0 only if every picture gave a table: one not decoded, with no table in it
    (a photo, a chart) or refused (wrong shape, a header taken for data) makes it 4 at the end,
    after the others are read and written; summary.csv says which and why.

    Each finished picture is journaled in OUT/.journal.jsonl: a rerun with the same model,
    threshold and shape reads only new or changed pictures; an interrupted run (Ctrl-C,
    SIGTERM, kill -9) loses at most the picture in flight (with --jobs, those in flight).

    With --jobs N above 1, N worker processes each load the model once and read the pictures
    (one inference thread each); the outputs are the same, in the same order, whatever N.

    Corrections made in OUT/cells.csv (`robot review --collection OUT`, confirmed=true) are kept
    by a rerun for each picture of unchanged content and shape.
    """
    listed = read_list(from_file) if from_file is not None else []
    try:
        sources = gather([*paths, *listed], include, exclude)
    except InputsError as exc:
        raise click.UsageError(str(exc)) from None
    if not sources:
        raise click.UsageError("no pictures to read: give files or folders (or --from-file), and check --include/--exclude")
    clash = [s.name for s in sources if per_picture and {f"{s.name}.csv", f"{s.name}.json"} & set(COLLECTION_FILES)]
    if clash:
        raise click.UsageError(f"{clash[0]}'s own outputs would overwrite the collection's files: rename {clash[0]}")

    from recognizer.imageio import read_file

    jobs = jobs or default_jobs()
    settings = ModelSettings(path=model_path, **({"review_threshold": threshold} if threshold is not None else {}))
    shape = TableShape(rows=rows, cols=cols, skip_rows=skip_rows, skip_cols=skip_cols)
    with stop_on_sigterm():
        if jobs == 1:
            init_worker(settings, shape, threads=None)  # loads the model once, before the loop
        with Journal(out_dir / JOURNAL_NAME, fingerprint(settings, shape)) as journal:
            try:
                outcomes, skipped = read_all(sources, journal, out_dir, per_picture, read_file, settings, shape, jobs)
                # The journal holds the model's readings; a person's corrections (robot review) live in cells.csv.
                corrections = read_corrections(out_dir)
                for o in outcomes:
                    if o.table is not None:
                        o.table = with_corrections(o.table, o.sha256, corrections)
                with atomic_open(out_dir / CELLS_FILE) as f:
                    write_cells_csv(outcomes, f)
                with atomic_open(out_dir / SUMMARY_FILE) as f:
                    write_summary_csv(outcomes, f)
                with atomic_open(out_dir / MANIFEST_FILE) as f:  # for `robot review --collection`
                    write_manifest(f, journal.fingerprint, {s.name: s.path for s in sources})
            except KeyboardInterrupt:
                print(f"error: interrupted; the pictures read so far are kept in {journal.path}: "
                      "run the same command again to go on", file=sys.stderr)
                sys.exit(int(ExitCode.INTERRUPTED))

    tables = [o.table for o in outcomes if o.table is not None]
    refused = sum(o.status == "refused" for o in outcomes)
    unreadable = sum(o.status == "unreadable" for o in outcomes)
    no_table = sum(o.status == "no-table" for o in outcomes)
    numbers = sum(c.value is not None for t in tables for c in t)
    flagged = sum(len(t.flagged) for t in tables)
    print(f"read {len(tables)}/{len(outcomes)} images, {numbers} numbers, {flagged} flagged for review, "
          f"{refused} refused, {no_table} no table, {unreadable} unreadable, {skipped} already read -> {out_dir}")
    # A script that reads a folder must be able to tell from the exit code alone that some picture
    # gave no table, whatever the reason: summary.csv and the error lines say which and why.
    if unreadable or no_table or refused:
        sys.exit(int(ExitCode.INPUT))


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# ---------------------------------------------------------------- one picture (in a worker, or in-process)

_READER = None  # this process's TableReader (init_worker)
_INIT_ERROR: Exception | None = None
_SETTINGS: ModelSettings | None = None
_SHAPE: TableShape | None = None


def init_worker(settings: ModelSettings, shape: TableShape, threads: int | None = 1) -> None:
    """Load the model once per process. In a pool worker (`threads` 1): one inference thread, so
    that N workers share N cores without fighting, and Ctrl-C left to the parent, which stops the
    pool. A load error is kept and raised by every task, so that the parent reports it (an
    initializer that raises would make the pool respawn workers forever)."""
    global _READER, _INIT_ERROR, _SETTINGS, _SHAPE
    _SETTINGS, _SHAPE, _INIT_ERROR = settings, shape, None
    if threads is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        import cv2

        from recognizer import model

        model.INFERENCE_THREADS = threads
        cv2.setNumThreads(threads)
    from recognizer.predictor import TableReader

    if threads is None:  # in-process: a load error is the run's error, raised at once, as before
        _READER = TableReader.from_settings(settings)
        return
    try:
        _READER = TableReader.from_settings(settings)
    except Exception as exc:  # noqa: BLE001 (kept, raised by each task in the parent's run)
        _INIT_ERROR = exc


def read_task(task: tuple[str, str]) -> tuple[str, str, str, dict | None]:
    """(path, name) -> (status, error, sha256, table_to_dict or None): the picture read from disk,
    hashed, decoded and read. sha256 is empty when the file could not be read."""
    from recognizer.imageio import read_file

    path, name = task
    try:
        data = read_file(Path(path), name)
    except InputImageError as exc:
        return "unreadable", reason(exc, name), "", None
    return read_data(data, name)


def read_data(data: bytes, name: str) -> tuple[str, str, str, dict | None]:
    from recognizer.imageio import decode_image

    if _INIT_ERROR is not None:
        raise _INIT_ERROR
    sha = hashlib.sha256(data).hexdigest()
    try:
        image = decode_image(data, _SETTINGS.max_pixels, name)
        table = _READER.read(image, _SHAPE, source=name)
    except InputImageError as exc:
        status = ("no-table" if isinstance(exc, NotATableError)
                  else "refused" if isinstance(exc, SegmentationError) else "unreadable")
        return status, reason(exc, name), sha, None
    return "read", "", sha, table_to_dict(table)


# ---------------------------------------------------------------- the collection (the parent)

def read_all(sources, journal, out_dir, per_picture, read_file, settings, shape, jobs):
    """(the outcome of every source in order, how many came from the journal). Each picture read
    is journaled as soon as it is done (after its per-picture files); one found there is not read.
    With `jobs` above 1 the pictures not in the journal are read by a pool of worker processes,
    their results taken in order, so the outputs and messages are those of one process."""
    if jobs == 1:
        return _read_in_order(sources, journal, out_dir, per_picture, read_file, None)
    # First pass: hash each picture for the journal lookup (the bytes are not kept: the worker
    # reads the file again, and its own hash is the one journaled; the loop reuses these hashes).
    pending, hashes = [], {}
    for source in sources:
        try:
            hashes[source.name] = sha = hashlib.sha256(read_file(source.path, source.name)).hexdigest()
        except InputImageError:
            continue  # reported in order below
        if journal.get(sha) is None:
            pending.append((str(source.path), source.name))
    if len(pending) < 2:  # nothing worth starting workers for
        init_worker(settings, shape, threads=None)
        return _read_in_order(sources, journal, out_dir, per_picture, read_file, None, hashes)
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    todo = {name for _, name in pending}
    with context.Pool(min(jobs, len(pending)), initializer=init_worker, initargs=(settings, shape)) as pool:
        try:
            results = pool.imap(read_task, pending, chunksize=2)
            return _read_in_order(sources, journal, out_dir, per_picture, read_file, (todo, results), hashes)
        except BaseException:
            pool.terminate()  # Ctrl-C, SIGTERM, an error: stop the workers now; the journal is kept
            raise


def _read_in_order(sources, journal, out_dir, per_picture, read_file, pooled, hashes=None):
    """The loop over the sources, in order; `pooled`: (names the pool reads, its ordered results);
    `hashes`: name -> sha256 of the pictures already hashed, not read again to be looked up."""
    hashes = hashes or {}
    outcomes = []
    skipped = 0
    bar, say = progress(sources)
    for source in bar:
        outcome = Outcome(source.name)
        outcomes.append(outcome)
        if pooled is not None and source.name in pooled[0]:
            result = next(pooled[1])
        else:
            data, sha = None, hashes.get(source.name)
            if sha is None:
                try:
                    data = read_file(source.path, source.name)
                except InputImageError as exc:  # nothing to key a journal line on: tried again next time
                    outcome.status, outcome.error = "unreadable", reason(exc, source.name)
                    say(f"error: {source.name}: {outcome.error}")
                    continue
                sha = hashlib.sha256(data).hexdigest()
            done = journal.get(sha)
            if done is not None:
                skipped += 1
                outcome.sha256 = sha
                outcome.status, outcome.error = done.status, done.error
                outcome.table = None if done.table is None else replace(done.table, source=source.name)
                if outcome.error:
                    say(f"error: {source.name}: {outcome.error}")
                if per_picture and outcome.table is not None:
                    write_per_picture(outcome.table, out_dir, source.name, only_missing=True)
                continue
            # Hashed already but not journaled (fewer than two to read: no pool): read it now.
            result = read_task((str(source.path), source.name)) if data is None else read_data(data, source.name)
        outcome.status, outcome.error, outcome.sha256, table = result
        outcome.table = None if table is None else table_from_dict(table)
        if outcome.error:
            say(f"error: {source.name}: {outcome.error}")
        if not outcome.sha256:  # not read from disk: nothing to key a journal line on
            continue
        if outcome.table is not None:
            if per_picture:
                write_per_picture(outcome.table, out_dir, source.name)
            log.info("%s: %dx%d, %d flagged", source.name, outcome.table.rows, outcome.table.cols,
                     len(outcome.table.flagged))
        journal.add(outcome.sha256, outcome.status, outcome.error, outcome.table, table)
    return outcomes, skipped


@contextlib.contextmanager
def stop_on_sigterm():
    """SIGTERM raises KeyboardInterrupt in the main thread, as Ctrl-C does, while the block runs."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def reason(exc: Exception, name: str) -> str:
    """The error's message without the source name it may already start with."""
    text = str(exc)
    return text[len(name) + 2:] if text.startswith(f"{name}: ") else text


def progress(sources):
    """(iterable, print-to-stderr) with a tqdm bar on stderr when it is a terminal and tqdm is there."""
    try:
        from tqdm import tqdm
    except ImportError:
        return sources, lambda line: print(line, file=sys.stderr)
    bar = tqdm(sources, file=sys.stderr, unit="picture", disable=not sys.stderr.isatty())
    return bar, lambda line: tqdm.write(line, file=sys.stderr)


def write_cells_csv(outcomes: list[Outcome], stream) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CELLS_COLUMNS)
    for outcome in outcomes:
        for c in outcome.table or ():
            writer.writerow(cell_fields(outcome.source, c))


def write_summary_csv(outcomes: list[Outcome], stream) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for o in outcomes:
        t = o.table
        shape = [t.rows, t.cols, sum(c.value is not None for c in t), len(t.flagged)] if t else ["", "", "", ""]
        writer.writerow([o.source, o.sha256, *shape, o.status, o.error])
