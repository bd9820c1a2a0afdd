"""Errors that name a user's mistake and its fix.

The CLI turns :class:`UserError` into one line on stderr and exit status 2, with no traceback;
everything else is a bug and keeps its traceback.
"""


class UserError(ValueError):
    """Bad input from the user: a missing file, a mismatched env, a non-positive budget, ..."""
