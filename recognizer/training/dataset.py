"""Generated datasets: a thin builder around the pure render functions, plus .npz I/O.

A dataset file is `NAME.npz` with `x` uint8 (N, 28, 28) (normalised cells * 255), `y` int
values 0..36 and `source` str per sample, and `NAME.json` beside it with the recipe. Samples
are cut into chunks with their own seeds, so the result is the same for a seed whatever the
number of worker processes.
"""
from __future__ import annotations

import dataclasses
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from recognizer.labels import CLASSES, NUM_CLASSES
from recognizer.normalize import INPUT_SIZE, NORMALIZER_VERSION, normalize_cell
from recognizer.training import synth
from tablebot.errors import DataError
from tablebot.files import atomic_open, write_bytes_atomic

log = logging.getLogger("tablebot.training")

SOURCES = ("fonts", "mnist")
SPLITS = ("train", "test", "all")
DEFAULT_MNIST_SHARE = 0.2  # share of samples drawn from handwritten digits when both sources are on
CHUNK = 2000  # samples per seeded chunk (the unit of work for worker processes)
MAX_RETRIES = 20  # redraws of a style whose cell normalises to nothing (too faint, too small)
PREVIEW_COUNT = 64
MAX_ASPECT_LOG_CHANGE = 0.4  # |log| of the ink aspect ratio change through normalising; more means ink was lost


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a generated dataset; saved beside it."""

    n: int
    seed: int
    sources: tuple[str, ...] = SOURCES
    split: str = "train"
    mnist_share: float = DEFAULT_MNIST_SHARE
    mnist_path: str | None = None
    font_paths: tuple[str, ...] | None = None  # None: matplotlib's and the system's fonts

    def to_json(self) -> dict:
        return {**dataclasses.asdict(self), "normalizer_version": NORMALIZER_VERSION}


@dataclass
class Dataset:
    x: np.ndarray  # uint8 (N, 28, 28)
    y: np.ndarray  # int (N,) values 0..36
    source: np.ndarray  # str (N,)
    recipe: dict

    def inputs(self) -> np.ndarray:
        """Model inputs: float32 (N, 28, 28, 1) in [0, 1]."""
        return (self.x.astype(np.float32) / 255.0)[..., None]


@dataclass
class Generator:
    """Checked fonts, looks and MNIST digits for one recipe. Building it is where inputs are validated."""

    recipe: Recipe
    sampler: synth.StyleSampler
    bank: synth.DigitBank | None

    @classmethod
    def build(cls, recipe: Recipe) -> "Generator":
        unknown = set(recipe.sources) - set(SOURCES)
        if unknown or not recipe.sources:
            raise DataError(f"unknown source(s) {sorted(unknown)}: choose from {', '.join(SOURCES)}")
        if recipe.split not in SPLITS:
            raise DataError(f"unknown split {recipe.split!r}: choose from {', '.join(SPLITS)}")
        if recipe.n < 1:
            raise DataError("--n must be at least 1")
        fonts: list[synth.FontFace] = []
        if "fonts" in recipe.sources:
            paths = [Path(p) for p in recipe.font_paths] if recipe.font_paths else None
            fonts = synth.split_fonts(synth.load_fonts(paths), recipe.split if paths is None else "all")
            missing = synth.DEMO_FAMILIES - {f.family for f in fonts}
            if paths is None and recipe.split == "train" and missing:
                log.warning("demo-site font families not found, training will not cover them: %s", ", ".join(sorted(missing)))
        bank = None
        if "mnist" in recipe.sources:
            part = "all" if recipe.split == "all" else recipe.split
            bank = synth.load_mnist(Path(recipe.mnist_path) if recipe.mnist_path else None).subset(part)
        sampler = synth.StyleSampler(fonts, synth.LOOK_SPLITS[recipe.split])
        return cls(recipe, sampler, bank)

    def source_weights(self) -> dict[str, float]:
        if set(self.recipe.sources) == set(SOURCES):
            return {"fonts": 1.0 - self.recipe.mnist_share, "mnist": self.recipe.mnist_share}
        return {s: 1.0 / len(self.recipe.sources) for s in self.recipe.sources}

    def render(self, value: int, source: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One sample: (raw BGR cell crop, normalised (28, 28) float32). Redraws styles that normalise to nothing."""
        for _ in range(MAX_RETRIES):
            if source == "mnist":
                assert self.bank is not None
                style = self.sampler.sample(rng, handwritten=True)
                cell, aspect = synth.render_handwritten_with_aspect(value, self.bank, style, rng)
            else:
                cell, aspect = synth.render_number_with_aspect(value, self.sampler.sample(rng), rng)
            norm = normalize_cell(cell)
            # A cell the normaliser cut short (a faint digit dropped) would teach the wrong label.
            if norm is not None and abs(np.log(max(synth.ink_aspect(norm), 1e-3) / max(aspect, 1e-3))) < MAX_ASPECT_LOG_CHANGE:
                return cell, norm
        raise DataError(f"could not render a readable {value} from source {source!r} in {MAX_RETRIES} tries: check the fonts")

    def chunk(self, index: int, values: np.ndarray, keep_raw: int = 0) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Render one chunk of values with its own seed: (x uint8, source names, first keep_raw raw crops)."""
        rng = np.random.default_rng([self.recipe.seed, index])
        weights = self.source_weights()
        names = list(weights)
        picks = rng.choice(len(names), size=len(values), p=np.array([weights[k] for k in names]))
        x = np.zeros((len(values), INPUT_SIZE, INPUT_SIZE), np.uint8)
        raws: list[np.ndarray] = []
        for i, (v, s) in enumerate(zip(values, picks)):
            cell, norm = self.render(int(v), names[s], rng)
            x[i] = np.rint(norm * 255.0).astype(np.uint8)
            if i < keep_raw:
                raws.append(cell)
        return x, np.array([names[s] for s in picks]), raws


def balanced_labels(n: int, rng: np.random.Generator) -> np.ndarray:
    """n labels with every class count within one of the others, in random order."""
    labels = np.resize(np.array(CLASSES), n)
    extra = n % NUM_CLASSES
    if extra:  # which classes get the one extra sample is random, not always the small numbers
        labels[n - extra :] = rng.choice(np.array(CLASSES), size=extra, replace=False)
    return rng.permutation(labels)


_WORKER: dict = {}


def _init_worker(recipe: Recipe) -> None:
    _WORKER["gen"] = Generator.build(recipe)


def _run_chunk(args: tuple[int, np.ndarray]) -> tuple[int, np.ndarray, np.ndarray, list[np.ndarray]]:
    index, values = args
    x, src, raws = _WORKER["gen"].chunk(index, values, keep_raw=PREVIEW_COUNT if index == 0 else 0)
    return index, x, src, raws


def generate(recipe: Recipe, workers: int = 1, progress: bool = True) -> tuple[Dataset, list[np.ndarray]]:
    """Build the dataset (and the first raw crops, for the preview). Inputs are checked before any rendering."""
    from tqdm import tqdm

    gen = Generator.build(recipe)  # fails fast on missing fonts / bad MNIST, in this process
    y = balanced_labels(recipe.n, np.random.default_rng([recipe.seed, 2**31]))
    jobs = [(i, y[s : s + CHUNK]) for i, s in enumerate(range(0, recipe.n, CHUNK))]
    parts: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    raws: list[np.ndarray] = []
    bar = tqdm(total=recipe.n, desc="generating", unit="cell", disable=not progress)
    if workers <= 1 or len(jobs) == 1:
        for i, values in jobs:
            x, src, r = gen.chunk(i, values, keep_raw=PREVIEW_COUNT if i == 0 else 0)
            parts[i] = (x, src)
            raws = raws or r
            bar.update(len(values))
    else:
        import multiprocessing as mp

        # fork shares the checked generator; spawn (other platforms) rebuilds it in each worker.
        _WORKER["gen"] = gen
        forking = "fork" in mp.get_all_start_methods()
        ctx = mp.get_context("fork" if forking else "spawn")
        init = {} if forking else {"initializer": _init_worker, "initargs": (recipe,)}
        with ctx.Pool(workers, **init) as pool:
            for i, x, src, r in pool.imap_unordered(_run_chunk, jobs):
                parts[i] = (x, src)
                raws = raws or r
                bar.update(len(x))
    bar.close()
    x = np.concatenate([parts[i][0] for i in range(len(jobs))])
    src = np.concatenate([parts[i][1] for i in range(len(jobs))])
    return Dataset(x=x, y=y.astype(np.int64), source=src.astype(str), recipe=recipe.to_json()), raws


def sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def save_dataset(ds: Dataset, path: Path) -> None:
    buf = io.BytesIO()
    np.savez_compressed(buf, x=ds.x, y=ds.y, source=ds.source)
    write_bytes_atomic(path, buf.getvalue())
    meta = {**ds.recipe, "count": int(len(ds.y)), "class_counts": np.bincount(ds.y, minlength=NUM_CLASSES).tolist(),
            "source_counts": {s: int((ds.source == s).sum()) for s in np.unique(ds.source)}}
    with atomic_open(sidecar(path)) as f:
        json.dump(meta, f, indent=2)


def load_dataset(path: Path) -> Dataset:
    """Read a generated .npz, checking it was made with this normaliser."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"dataset {path} not found: make one with `recognizer generate --out {path}`")
    try:
        with np.load(path, allow_pickle=False) as data:
            x, y = data["x"], data["y"].astype(np.int64)
            source = data["source"].astype(str) if "source" in data else np.full(len(y), "unknown")
    except Exception as exc:
        raise DataError(f"{path} is not a dataset written by `recognizer generate` ({exc}): generate it again") from exc
    if x.ndim != 3 or x.shape[1:] != (INPUT_SIZE, INPUT_SIZE) or x.dtype != np.uint8 or len(x) != len(y):
        raise DataError(f"{path} holds x of shape {x.shape} {x.dtype} for {len(y)} labels: generate it again")
    if len(y) and (y.min() < CLASSES[0] or y.max() > CLASSES[-1]):
        raise DataError(f"{path} has labels outside 0..36: generate it again")
    recipe: dict = {}
    if sidecar(path).is_file():
        recipe = json.loads(sidecar(path).read_text())
        version = recipe.get("normalizer_version")
        if version is not None and version != NORMALIZER_VERSION:
            raise DataError(
                f"{path} was normalised with normaliser v{version}, this code has v{NORMALIZER_VERSION}: "
                f"generate it again with `recognizer generate --out {path}`"
            )
    return Dataset(x=x, y=y, source=source, recipe=recipe)


def preview_png(ds: Dataset, raws: Sequence[np.ndarray], cols: int = 8) -> bytes:
    """A grid of samples: the raw cell crop above what the model sees, with the label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = min(len(raws), len(ds.y), PREVIEW_COUNT)
    rows = max(1, -(-count // cols))
    fig, axes = plt.subplots(rows * 2, cols, figsize=(cols * 1.4, rows * 2.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i in range(count):
        r, c = divmod(i, cols)
        axes[2 * r, c].imshow(raws[i][..., ::-1])
        axes[2 * r, c].set_title(f"{ds.y[i]} ({ds.source[i]})", fontsize=7)
        axes[2 * r + 1, c].imshow(ds.x[i], cmap="gray", vmin=0, vmax=255)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return buf.getvalue()
