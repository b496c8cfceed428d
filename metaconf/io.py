"""Writing files safely: atomically (temp file + rename), and never over an existing file without ``force``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from metaconf.errors import OutputExistsError


def atomic_write_text(path: str | Path, text: str, *, force: bool = False) -> Path:
    """Write ``text`` to ``path`` so that a reader sees the old file or the whole new one, never a part.

    Raises :class:`OutputExistsError` when ``path`` exists and ``force`` is false.
    """
    target = Path(path)
    if target.exists() and not force:
        raise OutputExistsError(f"`{target}` already exists", "pass --force to overwrite it, or choose another path")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
