"""Pieces of error messages, and the checks they follow."""

import difflib
import numbers

import numpy as np


def suggest(name, candidates):
    """" Did you mean 'x'?" for the candidate closest to ``name``, or ""."""
    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def quoted(names):
    """``'a', 'b'`` (numpy scalars shown as the Python values they hold); "none" when empty."""
    names = list(names)
    if not names:
        return "none"
    return ", ".join(repr(n.item() if isinstance(n, np.generic) else n) for n in names)


def is_positive_int(value):
    """Whether ``value`` is an int >= 1 (numpy ints too; not a bool)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1
