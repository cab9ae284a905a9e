"""shequn (社群): community operations — ingest, measure, run SOPs."""

__version__ = "0.1.0"
