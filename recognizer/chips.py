"""Tables drawn as chips (casino chips with striped rims, balls, rings): the chips found as circles on
a lattice, and each read inside its face only. Where the text's marks make no grid (at small sizes a
rim's white stripes are marks as high as the number's digits, they join its inner ring, and rows and
columns of stripes run through the numbers'), and where a reading from the marks flagged cells.
Circles are found on the chips' outlines instead (OpenCV's Hough transform), at the pitch the shape
gives or, without one, at each pitch in turn, and the rim is masked off before normalising: what is
left is the number on its face."""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from recognizer.imageops import median
from recognizer.normalize import ink_components, ink_maps
from recognizer.settings import TableShape
from recognizer.table import Box

CHIP_RADIUS = (0.25, 0.55)  # a chip's radius, as a share of the lattice's pitch
MIN_APART = 0.6  # circles found this many such pitches apart or more (one per chip: not its face's too)
MIN_CHIPS = 4  # fewer circles of one size than this are no lattice of chips
SAME_RADIUS = 0.15  # the chips: circles within this share of the circles' median radius
EVEN_PITCH = 0.15  # the lattice's steps are within this share of their median, or whole multiples of it
FOUND_SHARE = 0.35  # this share of a lattice's places, at least, hold a circle found (gallery chips: 0.38 up; tiles: 0.30)
AT_PLACE = 0.3  # a circle whose centre is this close to a place (radius shares) is its chip
FACE_EDGE = (0.4, 0.75)  # where a face ends (radius shares): the number within, the rim's inner ring beyond
FACE_MIDDLE = 0.5  # the face's level is voted on within this share of the radius ...
EDGE_BAND = 2.0  # ... and the level it is painted beyond its edge within this many pixels inside it
HOUGH_VOTES = 20  # accumulator votes for a circle (OpenCV's param2): a chip's outline has many more
HOUGH_EDGE = 100  # Canny's upper threshold inside the transform (param1)
CENTRE_SHIFT = 3  # a chip's centre is looked for this many pixels each way from the transform's
CENTRE_ROUNDS = 2  # ... and the outline's radius with it, this many times
OUTLINE_SAMPLES = 32  # points on a chip's outline where its edge strength is measured
BLUR = 3  # median blur before the transform (pixels; 0: none)
LARGEST_PITCH, SMALLEST_PITCH = 160, 16  # no shape: the pitches looked at (pixels; 28 px text at 2x: 125) ...
PITCH_STEP = 1.5  # ... each this much smaller than the last (a pitch finds chips of radius 0.25-0.55 of it)
PICTURE_SHARE = 0.5  # no shape: a lattice of chips covers this share of the picture at least
SEARCH_PITCH = 64  # no shape: a larger pitch is looked at in the picture shrunk to this one (the transform
# at 40-90 px radii over a photo's edges takes seconds), and the lattice found there again at full size
MAX_PIXELS = 8_000_000  # larger pictures are not looked at as chips: the transform's time and memory grow with them


@dataclass(frozen=True)
class Chips:
    """Where a table's chips lie: each place's centre (x, y), row by row, and the chips' radius."""

    centres: np.ndarray  # (rows * cols, 2) float
    radius: float
    rows: int
    cols: int

    def box(self, i: int, height: int, width: int) -> Box:
        """Chip `i`'s square, inside a `height` x `width` picture (a chip at its edge is cut there)."""
        x, y = self.centres[i]
        x0, y0 = max(0, int(round(x - self.radius))), max(0, int(round(y - self.radius)))
        x1, y1 = min(width, int(round(x + self.radius))), min(height, int(round(y + self.radius)))
        return Box(x0, y0, max(1, x1 - x0), max(1, y1 - y0))


def lattice_lines(positions: np.ndarray, radius: float) -> list[float] | None:
    """The centres of a lattice's lines (rows or columns) from its chips' centres along one axis:
    chips less than a radius apart share a line; a step of k pitches holds k-1 lines of empty places.
    None where the steps are no lattice's."""
    order = np.sort(positions)
    cuts = np.flatnonzero(np.diff(order) > radius) + 1
    lines = [float(median(group)) for group in np.split(order, cuts)]
    if len(lines) < 2:
        return lines
    steps = np.diff(lines)
    pitch = median(steps)
    multiples = np.round(steps / pitch)
    if (multiples < 1).any() or (np.abs(steps - multiples * pitch) > EVEN_PITCH * pitch).any():
        return None
    filled = [lines[0]]
    for line, k in zip(lines[1:], multiples.astype(int)):
        filled += [filled[-1] + (line - filled[-1]) * j / k for j in range(1, k)] + [line]
    return filled


def find_chips(luma: np.ndarray, shape: TableShape) -> Chips | None:
    """The chips of a `shape.rows` x `shape.cols` table, looked for at the pitch that shape gives the
    picture, or None where no lattice of that shape is found: too few circles of one size, uneven
    steps, another count of rows or columns (a whole empty row at an end cannot be told from none,
    so it is refused). Without the shape, the lattice is looked for at every pitch (`any_chips`)."""
    if luma.size > MAX_PIXELS:
        return None
    blurred = cv2.medianBlur(luma, BLUR) if BLUR else luma
    if not (shape.rows and shape.cols):
        return any_chips(luma, blurred)
    pitch = min(luma.shape[0] / (shape.rows + shape.skip_rows), luma.shape[1] / (shape.cols + shape.skip_cols))
    found = lattice_at(luma, blurred, pitch, (shape.rows, shape.cols))
    return found[0] if found else None


def any_chips(luma: np.ndarray, blurred: np.ndarray) -> Chips | None:
    """The chips of a table of any shape: the lattice found at pitches from the largest down, the
    one with the most circles at its places (then the larger: a chip's face is a circle too, at the
    same places), where its chips cover PICTURE_SHARE of the picture or more (a few circles of a
    photo or of a table's zeros on a lattice of a kind cover a corner of it)."""
    best, pitch = None, min(*luma.shape, LARGEST_PITCH)
    while pitch >= SMALLEST_PITCH:
        if (found := shrunk_lattice_at(luma, blurred, pitch)) and (best is None or (found[1], found[0].radius) > (
                best[1], best[0].radius)):
            best = found + (pitch,)
        pitch /= PITCH_STEP
    if best is None:
        return None
    chips, _, pitch = best
    if pitch > SEARCH_PITCH and (full := lattice_at(luma, blurred, pitch)):
        chips = full[0]
    (x0, y0), (x1, y1) = chips.centres.min(axis=0) - chips.radius, chips.centres.max(axis=0) + chips.radius
    return chips if (x1 - x0) * (y1 - y0) >= PICTURE_SHARE * luma.size else None


def shrunk_lattice_at(luma: np.ndarray, blurred: np.ndarray, pitch: float) -> tuple[Chips, int] | None:
    """`lattice_at` a pitch above SEARCH_PITCH in the picture shrunk to that pitch, its chips given
    in the full picture's pixels."""
    if pitch <= SEARCH_PITCH:
        return lattice_at(luma, blurred, pitch)
    scale = SEARCH_PITCH / pitch
    small = cv2.resize(luma, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if (found := lattice_at(small, cv2.medianBlur(small, BLUR) if BLUR else small, SEARCH_PITCH)) is None:
        return None
    chips, matched = found
    # A shrunk pixel's centre is at (i + 0.5) / scale - 0.5 of the full picture's.
    return replace(chips, centres=(chips.centres + 0.5) / scale - 0.5, radius=chips.radius / scale), matched


def lattice_at(luma: np.ndarray, blurred: np.ndarray, pitch: float,
               shape: tuple[int, int] | None = None) -> tuple[Chips, int] | None:
    """The lattice of chips whose pitch is about `pitch` (of `shape` rows x cols, if given), and how
    many of its places hold a circle found; None where there is none."""
    circles = hough(blurred, MIN_APART * pitch, CHIP_RADIUS[0] * pitch, CHIP_RADIUS[1] * pitch)
    if len(circles) == 0:
        return None
    radius = median(circles[:, 2])
    # The chips' size known, a second look for circles of that size alone finds many the first
    # missed (at small sizes a chip's outline competes there with its face's edge and its ring),
    # and fewer that are none (between four large chips, their arcs make a circle of a kind). It
    # alone, else both together, must make the lattice.
    again = hough(blurred, 2 * (1 - SAME_RADIUS) * radius, (1 - SAME_RADIUS) * radius, (1 + SAME_RADIUS) * radius)
    for circles in again, np.concatenate([circles, again]):
        circles = circles[np.abs(circles[:, 2] - radius) <= SAME_RADIUS * radius]
        if len(circles) < MIN_CHIPS:
            continue
        ys, xs = lattice_lines(circles[:, 1], radius), lattice_lines(circles[:, 0], radius)
        if (ys is not None and xs is not None and (shape is None or (len(ys), len(xs)) == shape)
                and (found := on_lattice(luma, circles, radius, ys, xs)) is not None):
            return found
    return None


def on_lattice(luma: np.ndarray, circles: np.ndarray, radius: float, ys: list[float],
               xs: list[float]) -> tuple[Chips, int] | None:
    """The chips at a lattice's places (`ys` x `xs`) and how many hold a circle found, or None where
    too few of them do."""
    places = np.array([(x, y) for y in ys for x in xs])
    # Each place takes its own circle's centre where one was found: a lattice's line is a median,
    # and a face is masked a few pixels from its number.
    dist = np.hypot(places[:, None, 0] - circles[None, :, 0], places[:, None, 1] - circles[None, :, 1])
    nearest = dist.argmin(axis=1)
    at_place = dist[np.arange(len(places)), nearest] < AT_PLACE * radius
    if at_place.sum() < FOUND_SHARE * len(places):
        return None
    centres = np.where(at_place[:, None], circles[nearest, :2], places)
    return Chips(*centred(luma, centres, radius), len(ys), len(xs)), int(at_place.sum())


def hough(image: np.ndarray, apart: float, smallest: float, largest: float) -> np.ndarray:
    """(N, 3) x, y, radius of the circles OpenCV's Hough transform finds, centres `apart` or more."""
    found = cv2.HoughCircles(image, cv2.HOUGH_GRADIENT, dp=1, minDist=apart, param1=HOUGH_EDGE, param2=HOUGH_VOTES,
                             minRadius=int(smallest), maxRadius=int(np.ceil(largest)))
    return np.zeros((0, 3), np.float32) if found is None else found[0]


def outline_strength(edges: np.ndarray, centres: np.ndarray, radius: float) -> np.ndarray:
    """The mean edge strength on the circle of `radius` around each of `centres` (..., 2)."""
    angles = np.linspace(0, 2 * np.pi, OUTLINE_SAMPLES, endpoint=False)
    points = centres[..., None, :] + radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    xs = np.clip(np.round(points[..., 0]).astype(int), 0, edges.shape[1] - 1)
    ys = np.clip(np.round(points[..., 1]).astype(int), 0, edges.shape[0] - 1)
    return edges[ys, xs].mean(axis=-1)


def centred(luma: np.ndarray, centres: np.ndarray, radius: float) -> tuple[np.ndarray, float]:
    """The chips' outline radius and each centre moved (up to CENTRE_SHIFT pixels each way) to where
    the outline is strongest around it: the transform's radius and centres are a few pixels off at
    small sizes (its votes mix the outline with the face's edge), and a face masked off-centre keeps
    an arc of the rim's inner ring. Each round, for each radius each chip's best centre, and the
    radius that is best for all of them."""
    blurred = cv2.GaussianBlur(luma, (3, 3), 0).astype(np.float32)
    dx, dy = cv2.Sobel(blurred, cv2.CV_32F, 1, 0), cv2.Sobel(blurred, cv2.CV_32F, 0, 1)
    del blurred  # memory: three float pictures at a time, not four (an 8 MP picture: 96 MB, not 128)
    edges = cv2.magnitude(dx, dy, dx)
    del dy
    steps = np.arange(-CENTRE_SHIFT, CENTRE_SHIFT + 1)
    shifts = np.stack(np.meshgrid(steps, steps, indexing="xy"), axis=-1).reshape(-1, 2)
    for _ in range(CENTRE_ROUNDS):  # a round moves a centre at most CENTRE_SHIFT
        radii = radius * np.linspace(1 - SAME_RADIUS, 1 + SAME_RADIUS, 2 * CENTRE_SHIFT + 1)
        # (radii, chips, shifts): for each radius each chip's best centre; the radius best for all.
        strength = np.stack([outline_strength(edges, centres[:, None, :] + shifts[None, :, :], r) for r in radii])
        best = int(np.argmax(strength.max(axis=2).mean(axis=1)))
        radius, centres = float(radii[best]), centres + shifts[strength[best].argmax(axis=1)]
    return centres, radius


def chip_crops(luma: np.ndarray, chips: Chips) -> np.ndarray:
    """(rows * cols, s, s) crops of the chips' faces: each chip's square, everything beyond its face's
    edge painted the level just inside it. The edge is where the chips' radial profile (the mean
    difference from the face, by radius) is least between the number and the rim's inner ring."""
    r = int(round(chips.radius))
    padded = cv2.copyMakeBorder(luma, r, r, r, r, cv2.BORDER_REPLICATE)
    corners = np.round(chips.centres).astype(int)  # in the padded picture, a centre at +r is the square's corner
    crops = np.stack([padded[y : y + 2 * r + 1, x : x + 2 * r + 1] for x, y in corners])
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    dist = np.hypot(xx, yy)
    middle = np.median(crops[:, dist < FACE_MIDDLE * r], axis=1)
    deviation = np.abs(crops.astype(np.float32) - middle[:, None, None].astype(np.float32))
    lo, hi = int(FACE_EDGE[0] * r), int(FACE_EDGE[1] * r) + 1
    profile = [deviation[:, np.abs(dist - q) < 0.5].mean() for q in range(lo, hi)]
    edge = lo + int(np.argmin(profile)) + 0.5
    face = dist <= edge
    # Painted the level of the face's own edge, where no number reaches: a face darker at its edge
    # than in its middle (a disc's shading) would otherwise end in a ring of ink.
    levels = np.median(crops[:, face & (dist > edge - EDGE_BAND)], axis=1).astype(np.uint8)
    crops[:, ~face] = levels[:, None]  # np.stack made them a copy
    return crops


def faces_text_height(faces: np.ndarray) -> float | None:
    """The numbers' height on the chips' faces (`chip_crops`), for the normaliser's text-height rules
    (a stripe's piece beside a number is no digit of it): the median height of the faces' ink as the
    normaliser finds it without one. None where no face holds ink."""
    _, boxes, _ = ink_components(ink_maps(faces))
    heights = boxes[:, 1] - boxes[:, 0]
    return float(median(heights[heights > 0])) if (heights > 0).any() else None
