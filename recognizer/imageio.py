"""Reading images from disk or bytes, with the checks that turn bad input into one clear error; PNG in and out."""
from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from recognizer.errors import InputImageError

Image.MAX_IMAGE_PIXELS = None  # we apply our own, configurable limit below


def decode_image(data: bytes, max_pixels: int, name: str = "image") -> np.ndarray:
    """PNG/JPEG/... bytes -> BGR uint8. The size is checked from the header before decoding."""
    if not data:
        raise InputImageError(f"{name}: the file is empty")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            w, h = probe.size
    except (UnidentifiedImageError, OSError, ValueError):
        raise InputImageError(f"{name}: not a readable image (expected PNG or JPEG)") from None
    if w * h > max_pixels:
        raise InputImageError(f"{name}: {w}x{h} pixels is over the limit of {max_pixels} (model.max_pixels)")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise InputImageError(f"{name}: the image data is corrupt or truncated")
    return to_bgr(image)


def read_image(path: str | Path, max_pixels: int, name: str | None = None) -> np.ndarray:
    """The image at `path`; errors name it `name` (default: the path)."""
    name = str(path) if name is None else name
    return decode_image(read_file(path, name), max_pixels, name)


def read_file(path: str | Path, name: str | None = None) -> bytes:
    """The bytes of an image file; a missing or unreadable one is an InputImageError naming `name`."""
    name = str(path) if name is None else name
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputImageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputImageError(f"{name}: is a folder, not an image") from None
    except OSError as exc:
        raise InputImageError(f"{name}: cannot read ({exc.strerror})") from None


def encode_png(image: np.ndarray) -> bytes:
    """A BGR (or grey) uint8 image -> PNG bytes, at OpenCV's default compression."""
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("OpenCV could not encode the image as PNG")
    return data.tobytes()


def decode_png(data: bytes, name: str = "PNG image") -> np.ndarray:
    """PNG bytes -> BGR uint8 (grey, alpha and 16-bit as `to_bgr`); no size limit: for images this project wrote."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    if image is None:
        raise InputImageError(f"{name}: not a readable PNG image")
    return to_bgr(image)


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Grey, BGRA (alpha composited on white) or 16-bit images -> BGR uint8."""
    if image.dtype != np.uint8:
        image = (image / (65535.0 if image.dtype == np.uint16 else max(float(image.max()), 1.0)) * 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        alpha = image[..., 3:4].astype(np.float32) / 255.0
        return (image[..., :3] * alpha + 255.0 * (1 - alpha)).astype(np.uint8)
    return image
