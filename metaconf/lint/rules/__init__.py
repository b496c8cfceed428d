"""Rule modules, one per family. Importing this package registers every rule."""

from metaconf.lint.rules import yaml_schema  # noqa: F401
