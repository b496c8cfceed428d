"""Where metaconf's data files are: ``schemas/``, ``templates/`` (with ``prompts/``) and ``examples/``.

They sit at the top of the repository and ship inside the wheel as ``metaconf.schemas``, ``metaconf.templates``
and ``metaconf.examples`` (pyproject.toml maps them). From a wheel they are package resources; from a checkout
installed with ``pip install -e .`` the packages are not mapped (setuptools' editable install adds the checkout to
the path), so they are read from the repository's top level. tests/test_packaging.py checks both.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

DATA = ("schemas", "templates", "templates.prompts", "examples")


def data_dir(name: str) -> Path:
    """The folder ``name`` (one of :data:`DATA`): inside the installed package, else the checkout's top level."""
    if name not in DATA:
        raise ValueError(f"unknown data folder {name!r}; one of {DATA}")
    try:
        spec = importlib.util.find_spec(f"metaconf.{name}")
    except ModuleNotFoundError:  # metaconf.templates for metaconf.templates.prompts, in a checkout
        spec = None
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    checkout = Path(__file__).resolve().parent.parent.joinpath(*name.split("."))
    if not checkout.is_dir():
        raise FileNotFoundError(f"metaconf's {name.replace('.', '/')} folder is missing from {checkout.parent}")
    return checkout
