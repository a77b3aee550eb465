"""The looks gallery: real CSS, real fonts, real Chromium; tables the model has never seen (see looks.py)."""
