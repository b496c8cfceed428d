"""metaconf's error hierarchy: every error carries a hint, and says whether retrying can help."""

from __future__ import annotations


class MetaconfError(Exception):
    """A problem the user can act on. The CLI prints ``message`` and ``hint`` and exits with ``exit_code``."""

    exit_code = 2
    retryable = False

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UsageError(MetaconfError):
    """Bad command-line input or an unusable config."""


class OutputExistsError(MetaconfError):
    """A file or directory would be overwritten."""


class RunError(MetaconfError):
    """The AutoML run failed in a way that is not the user's input."""

    exit_code = 1


class DataError(Exception):
    """The data cannot be used as configured. ``hint`` says how to fix it."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message
