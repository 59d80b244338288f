"""Dtypes and container classes in fitted state as plain data (strings, dicts, lists), so
that pickle, skops and `save` keep only data: ``plain(value)`` and ``unplain(data)``."""

import re

import numpy as np
import pandas as pd
from scipy import sparse

_TYPES = {
    **{cls.__name__: cls for cls in (list, tuple, set, frozenset)},
    "numpy.ndarray": np.ndarray,
    **{
        f"scipy.sparse.{name}": getattr(sparse, name)
        for name in dir(sparse)
        if re.fullmatch(r"[a-z]{3}_(matrix|array)", name)
    },
}
_NAMES = {cls: name for name, cls in _TYPES.items()}


def plain(value):
    """``value`` with numpy and pandas dtypes and known container classes (in tuples too)
    as plain data; anything else unchanged."""
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, pd.CategoricalDtype):
        return {"categories": value.categories.tolist(), "ordered": bool(value.ordered)}
    if isinstance(value, np.dtype):
        return {"numpy_dtype": value.str}
    if isinstance(value, pd.api.extensions.ExtensionDtype):
        return {"pandas_dtype": str(value)}
    if isinstance(value, type):
        if value not in _NAMES:
            raise TypeError(f"{value.__qualname__} is not a container class skmultihead keeps: {sorted(_TYPES)}")
        return {"type": _NAMES[value]}
    return value


def unplain(data):
    """The value `plain` turned into ``data``."""
    if isinstance(data, tuple):
        return tuple(unplain(v) for v in data)
    if not isinstance(data, dict):
        return data
    if "numpy_dtype" in data:
        return np.dtype(data["numpy_dtype"])
    if "pandas_dtype" in data:
        return pd.api.types.pandas_dtype(data["pandas_dtype"])
    if "categories" in data:
        return pd.CategoricalDtype(data["categories"], ordered=data["ordered"])
    if "type" in data:
        return _TYPES[data["type"]]
    return data


class PlainState:
    """Pickled with `plain` fields: for the frozen dataclasses describing targets."""

    def __getstate__(self):
        return {name: plain(getattr(self, name)) for name in self.__dataclass_fields__}

    def __setstate__(self, state):
        for name, value in state.items():
            object.__setattr__(self, name, unplain(value))
