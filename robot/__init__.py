"""The harvesting robot: log in, capture table screenshots, read them, write CSVs."""
