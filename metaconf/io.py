"""Writing files safely: atomically (temp file + rename), and never over an existing file without ``force``.

Every file metaconf writes for its user goes through here, so that all of them behave alike:

- a reader sees the old file or the whole new one, never a part (a temp file in the same directory, renamed
  over the target);
- a new file gets the mode ``open()`` would give it (``0o666`` minus the umask, default ACLs applied): the temp
  file is created with ``os.open(..., 0o666)``, not ``tempfile.mkstemp``, which always makes ``0o600``;
- a file that is replaced keeps its permission bits;
- a symlink is written through: its target gets the new content and the link stays a link (as ``open(path,
  "w")`` would do), instead of being replaced by a plain file;
- a temp file never outlives a failed write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TypeGuard

from metaconf.errors import OutputExistsError

_TEMP_ATTEMPTS = 100

DISK_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        getattr(errno, "EDQUOT", errno.ENOSPC),
        errno.EFBIG,
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
    }
)
"""The OSErrors that mean the disk or its permissions refuse a write: the user's to fix, not a bug."""


def is_disk_error(error: BaseException) -> TypeGuard[OSError]:
    return isinstance(error, OSError) and error.errno in DISK_ERRNOS


def describe_os_error(error: OSError, where: str | Path | None = None) -> str:
    """One line for an OSError: ``cannot write `path`: No space left on device``; ``where`` names the
    directory when the error does not name its file (a ``write()`` that fails names none)."""
    reason = error.strerror or str(error)
    if error.filename:
        return f"cannot write `{error.filename}`: {reason}"
    if where is not None:
        return f"cannot write in `{where}`: {reason}"
    return f"cannot write: {reason}"


def write_target(path: str | Path) -> Path:
    """The file a write to ``path`` really changes: ``path`` itself, or what a symlink at ``path`` points to."""
    target = Path(path)
    if target.is_symlink():
        return Path(os.path.realpath(target))
    return target


def _create_temp(directory: Path, name: str) -> tuple[int, Path]:
    """A new, empty temp file next to the target, created as ``open()`` creates files (umask applied)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(_TEMP_ATTEMPTS):
        tmp = directory / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temp file for `{name}` in `{directory}`")


def _keep_mode(fd: int, target: Path) -> None:
    """Give the temp file the permission bits of the file it replaces (a new file keeps the umask's)."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return
    os.fchmod(fd, mode)


@contextlib.contextmanager
def atomic_path(path: str | Path, *, force: bool = False, durable: bool = True) -> Iterator[Path]:
    """A temp path for a library that writes by file name (``joblib.dump``, ``savefig``, ``to_csv``); on
    success it replaces ``path`` atomically, on failure it is removed.

    Raises :class:`OutputExistsError` when ``path`` exists and ``force`` is false. ``durable`` fsyncs the file
    before the rename (skip it for a file rewritten often whose loss costs nothing).
    """
    link = Path(path)
    if link.exists() and not force:
        raise OutputExistsError(
            f"`{link}` already exists", "pass --force to overwrite it, or choose another path"
        )
    target = write_target(link)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(target.parent, target.name)
    try:
        try:
            _keep_mode(fd, target)
        finally:
            os.close(fd)
        yield tmp
        if durable:
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        if error.filename is None:  # a failed write() names no file: name the one being written
            raise OSError(error.errno, error.strerror, str(link)) from error
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes, *, force: bool = False, durable: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring). Returns ``path``."""
    with atomic_path(path, force=force, durable=False) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        if durable:
            os.fsync(handle.fileno())
    return Path(path)


def atomic_write_text(path: str | Path, text: str, *, force: bool = False, durable: bool = True) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` so that a reader sees the old file or the whole new
    one, never a part. Returns ``path``.

    Raises :class:`OutputExistsError` when ``path`` exists and ``force`` is false.
    """
    return atomic_write_bytes(path, text.encode("utf-8"), force=force, durable=durable)
