"""metaconf: a config compiler for AutoML tools (SMAC3, auto-sklearn)."""

__version__ = "0.1.0"
