"""Pieces of error messages."""

import difflib

import numpy as np


def suggest(name, candidates):
    """" Did you mean 'x'?" for the candidate closest to ``name``, or ""."""
    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def quoted(names):
    """``'a', 'b'`` (numpy scalars shown as the Python values they hold)."""
    return ", ".join(repr(n.item() if isinstance(n, np.generic) else n) for n in names)
