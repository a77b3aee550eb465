"""Read pictures of tables of numbers 0..36 into a typed `Table`.

Importing this package is cheap: the model (a TensorFlow Lite file run by LiteRT) loads on first use,
and reading never imports TensorFlow itself (training and fine-tuning do).
"""
from recognizer.table import Cell, Table

__all__ = ["Cell", "Table", "read_table"]


def read_table(image, **kwargs):
    """Convenience wrapper: segment and classify one BGR image with the shipped model.

    See `recognizer.predictor.TableReader` for the options.
    """
    from recognizer.predictor import default_reader

    return default_reader().read(image, **kwargs)
