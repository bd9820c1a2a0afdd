"""Errors that name a user's mistake and its fix.

The CLI turns :class:`UserError` into one line on stderr and exit status 2, with no traceback;
everything else is a bug and keeps its traceback.
"""


class UserError(ValueError):
    """Bad input from the user: a missing file, a mismatched env, a non-positive budget, ..."""


def positive(name: str, value: int | float) -> None:
    """A UserError unless ``value`` > 0 (a budget, a batch size, a learning rate, ...)."""
    if not value > 0:
        raise UserError(f"{name} must be positive, got {value}")
