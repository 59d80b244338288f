"""Persistence: a fitted estimator as one file of JSON and plain arrays, without pickle.

The file is a zip archive, as Keras's ``.keras`` files are: ``metadata.json`` (format,
its version, the estimator class, package versions), ``state.json`` (everything that is
not an array: parameters, heads and their kinds, class labels, regression scaling,
thresholds, input column groups, feature names, the numpy forward pass's plan) and
``arrays/<n>.npy``, one plain numeric array each (the network's variables among them).

Loading reads JSON and ``.npy`` arrays with ``allow_pickle=False`` and builds only the
classes of `_CLASSES` (this package's, by name): it executes no code from the file, and
writes nothing. Keras objects among the parameters (an optimizer, a loss) are stored as
their Keras config and rebuilt by ``keras.saving.deserialize_keras_object`` in safe mode;
a callable or class is stored by its registered Keras name, or refused at save time.
Callbacks are not kept (they write files and act on the network when the estimator trains):
`save` refuses an estimator with ``callbacks``, and `load` a file with them.
"""

import inspect
import io
import json
import math
import os
import re
import sys
import tempfile
import zipfile

import numpy as np
import pandas as pd

from . import __version__
from ._base import RUNTIME_STATE
from ._branches import DenseBranch, EmbeddingBranch
from ._factored import FactoredLabelNN
from ._heads import Head
from ._multilabel import MultiLabelNN
from ._multioutput import MultiOutputNNClassifier
from ._params import is_keras
from ._spec import AuxHead
from ._targets import FactorLayout, IndicatorLayout, TargetLayout

FORMAT = "skmultihead"
FORMAT_VERSION = 1
ESTIMATORS = {cls.__name__: cls for cls in (MultiOutputNNClassifier, MultiLabelNN, FactoredLabelNN)}
_CLASSES = {
    f"{cls.__module__}.{cls.__qualname__}": cls
    for cls in (*ESTIMATORS.values(), Head, DenseBranch, EmbeddingBranch, AuxHead, TargetLayout, IndicatorLayout,
                FactorLayout)
}
_KERAS_KINDS = ("optimizers", "losses", "metrics", "activations", "initializers", "regularizers", "constraints",
                "layers")
_CALLBACKS = ("callbacks", "fit__callbacks")
_MAX_RATIO = 100  # a member may decompress to at most this many times its size (plus 1 MiB)
_ARRAY_KINDS = "biufcUSMm"  # numbers, booleans, strings, dates: what .npy holds without pickle
_MEMBER = re.compile(r"arrays/(0|[1-9][0-9]{0,8})\.npy")


class UnsafeFileError(ValueError):
    """A file that is not an estimator saved by this package, or that asks for more than one may hold."""


def save(estimator, path, include_optimizer=False):
    """Write ``estimator`` to ``path`` (see `load`); ``include_optimizer`` keeps the
    optimizer's state too, for a warm start that continues exactly."""
    if type(estimator) not in ESTIMATORS.values():
        raise TypeError(f"save writes {', '.join(ESTIMATORS)}; got {type(estimator).__name__}.")
    state = estimator.__getstate__()
    for name in _CALLBACKS:
        if state.get(name) is not None:
            raise TypeError(
                f"cannot save parameter {name!r}: callbacks are not kept in a file (they write files and act on the "
                f"network when the loaded estimator trains); set_params({name}=None) before saving, or use pickle."
            )
    if "_parked" in state and not include_optimizer:
        state["_parked"] = {**state["_parked"], "optimizer": None}
    arrays = []
    encoded = _Encoder(arrays).encode(state, "")
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": type(estimator).__name__,
        "versions": _versions(),
    }
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".skmultihead-", suffix=".tmp")
    try:  # written next to ``path`` and moved there: a failed save leaves any old file as it was
        with os.fdopen(handle, "wb") as file, zipfile.ZipFile(file, "w") as archive:
            archive.writestr("metadata.json", json.dumps(metadata, indent=1), zipfile.ZIP_DEFLATED)
            archive.writestr("state.json", json.dumps(encoded, allow_nan=False), zipfile.ZIP_DEFLATED)
            for i, array in enumerate(arrays):
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, array, allow_pickle=False)
                archive.writestr(f"arrays/{i}.npy", buffer.getvalue(), zipfile.ZIP_STORED)
        os.chmod(temporary, 0o666 & ~_umask())  # as an ordinary new file (mkstemp's is private)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def load(path):
    """An estimator saved by `save` (or ``estimator.save``).

    Parameters
    ----------
    path : str or path-like
        The file written by ``save``.

    Returns
    -------
    estimator : MultiOutputNNClassifier, MultiLabelNN or FactoredLabelNN
        As saved; it predicts without a deep-learning framework when its network is made of
        the layers the numpy forward pass computes, and builds its Keras network again for
        ``model_``, a refit or a warm start.

    Raises
    ------
    UnsafeFileError
        If the file is not one this package wrote or holds anything else: a pickle
        payload, an unknown class or head kind, a member outside ``arrays/``, an array
        whose shape or dtype differs from its description, a newer format version.

    Examples
    --------
    >>> import skmultihead
    >>> from skmultihead import MultiOutputNNClassifier
    >>> from skmultihead.datasets import make_social_media
    >>> X, Y = make_social_media(200, random_state=0)
    >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "social.skmh")
    >>> est.save(path)
    >>> loaded = skmultihead.load(path)
    >>> loaded.predict(X).equals(est.predict(X))
    True
    """
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise UnsafeFileError(f"{path} is not a file written by skmultihead's save (not a zip archive).") from error
    with archive:
        _check_members(archive, path)
        try:
            metadata = _read_json(archive, "metadata.json")
            cls = _check_metadata(metadata, path)
            state = _Decoder(_ArchiveArrays(archive)).decode(_read_json(archive, "state.json"), "")
            if not isinstance(state, dict):
                raise UnsafeFileError(f"{path}: state.json does not describe an estimator's state.")
            _check_state(state)
            estimator = cls.__new__(cls)
            estimator.__setstate__(state)
        except (UnsafeFileError, ImportError):
            raise
        except Exception as error:  # corrupt data, deep nesting, values of the wrong type ...
            raise UnsafeFileError(f"{path} is malformed ({type(error).__name__}: {error}).") from error
    return estimator


def _check_members(archive, path):
    """Only metadata.json, state.json and arrays/<n>.npy, none a decompression bomb."""
    infos = archive.infolist()
    names = [info.filename for info in infos]
    strangers = [n for n in names if n not in ("metadata.json", "state.json") and not _MEMBER.fullmatch(n)]
    if strangers or "metadata.json" not in names or "state.json" not in names or len(set(names)) < len(names):
        raise UnsafeFileError(
            f"{path} holds members other than metadata.json, state.json and arrays/<n>.npy, once each: "
            f"{strangers[:5] or names[:5]}; it was not written by skmultihead's save."
        )
    for info in infos:
        if info.file_size > _MAX_RATIO * info.compress_size + 2**20:
            raise UnsafeFileError(
                f"{path}: {info.filename} would decompress to {info.file_size} bytes from {info.compress_size}."
            )


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _versions():
    versions = {"skmultihead": __version__, "numpy": np.__version__, "pandas": pd.__version__}
    for name in ("sklearn", "keras"):
        if name in sys.modules:
            versions[name] = sys.modules[name].__version__
    if "keras" in sys.modules:
        versions["keras_backend"] = sys.modules["keras"].backend.backend()
    return versions


def _read_json(archive, name):
    try:
        return json.loads(archive.read(name), parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise UnsafeFileError(f"{name} is not valid JSON ({error}).") from error


def _refuse_constant(name):
    raise UnsafeFileError(f"JSON constant {name} is not part of the format (non-finite floats are tagged).")


def _check_metadata(metadata, path):
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise UnsafeFileError(f"{path} is not a file written by skmultihead's save (metadata.json says otherwise).")
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UnsafeFileError(f"{path} has no valid format_version: {version!r}.")
    if version > FORMAT_VERSION:
        raise UnsafeFileError(
            f"{path} has format version {version}, newer than this skmultihead reads ({FORMAT_VERSION}); "
            f"upgrade skmultihead to load it (written by {str(metadata.get('versions'))[:200]})."
        )
    name = metadata.get("class")
    if not isinstance(name, str) or name not in ESTIMATORS:
        raise UnsafeFileError(f"{path} holds a {name!r}; skmultihead loads {', '.join(ESTIMATORS)}.")
    return ESTIMATORS[name]


def _check_state(state):
    from ._heads import HEAD_KINDS

    runtime = [key for key in RUNTIME_STATE if key in state]
    if runtime:
        raise UnsafeFileError(f"state.json holds {runtime}, which are built when an estimator runs, never saved.")
    for name in _CALLBACKS:
        if state.get(name) is not None:
            raise UnsafeFileError(f"state.json sets {name!r}; a file holds no callbacks.")
    if set(state.get("_parked") or {}) - {"weights", "optimizer"}:
        raise UnsafeFileError("the network's state holds more than 'weights' and 'optimizer'.")
    for name, head in (state.get("heads_") or {}).items():
        if not isinstance(head, Head) or getattr(head, "kind_", None) not in HEAD_KINDS:
            raise UnsafeFileError(
                f"head {name!r} has kind {getattr(head, 'kind_', None)!r}; the head kinds are {list(HEAD_KINDS)}."
            )
    parked = state.get("_parked")
    if parked is not None:
        if not (isinstance(parked, dict) and isinstance(parked.get("weights"), list)):
            raise UnsafeFileError("the network's variable values are not a list of arrays.")
        plan = state.get("_forward_plan")
        for index, shape in ((plan or {}).get("shapes") or {}).items():
            weights = parked["weights"]
            i = int(index)
            if not (0 <= i < len(weights) and list(np.shape(weights[i])) == shape):
                found = np.shape(weights[i]) if 0 <= i < len(weights) else "nothing"
                raise UnsafeFileError(f"network variable {i} should have shape {tuple(shape)}; the file has {found}.")


class _Encoder:
    """Python values -> JSON data; arrays go to ``arrays``, referenced by number."""

    def __init__(self, arrays):
        self.arrays = arrays

    def encode(self, value, where):
        if value is None or isinstance(value, (bool, str)):
            return value
        if type(value) is int:
            return value
        if type(value) is float:
            return value if math.isfinite(value) else {"__type__": "float", "value": repr(value)}
        if isinstance(value, np.ndarray):
            return self._array(value, where)
        if isinstance(value, np.generic):
            if value.dtype.kind not in _ARRAY_KINDS:
                raise self._refused(value, where)
            return {"__type__": "scalar", "dtype": value.dtype.str, "value": self.encode(value.item(), where)}
        if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return items if type(value) is list else {"__type__": "tuple", "items": items}
        if isinstance(value, dict) and type(value) is dict:
            if all(isinstance(k, str) and k != "__type__" for k in value):
                return {k: self.encode(v, _join(where, k)) for k, v in value.items()}
            return {"__type__": "dict", "items": [[self.encode(k, where), self.encode(v, _join(where, k))]
                                                  for k, v in value.items()]}
        if isinstance(value, np.random.RandomState):
            return {"__type__": "random_state", "state": self.encode(value.get_state(), where)}
        name = f"{type(value).__module__}.{type(value).__qualname__}"
        if name in _CLASSES:
            return self._object(value, name, where)
        return self._keras(value, where)

    def _array(self, array, where):
        if array.dtype.kind == "O":  # labels of mixed or Python types: JSON, item by item
            items = [self.encode(v, where) for v in array.ravel().tolist()]
            return {"__type__": "object_array", "shape": list(array.shape), "items": items}
        if array.dtype.kind not in _ARRAY_KINDS:
            raise self._refused(array, where)
        self.arrays.append(array)
        index = len(self.arrays) - 1
        return {"__type__": "array", "index": index, "dtype": array.dtype.str, "shape": list(array.shape)}

    def _object(self, value, name, where):
        if hasattr(value, "_fields"):  # a NamedTuple
            return {"__type__": "object", "class": name, "fields": self.encode(value._asdict(), where)}
        return {"__type__": "object", "class": name, "state": self.encode(value.__getstate__(), where)}

    def _keras(self, value, where):
        """A Keras object as its config; a Keras class or function, or one registered with
        ``keras.saving.register_keras_serializable``, by its name."""
        if "keras" in sys.modules:
            keras = sys.modules["keras"]
            kind = next((k for k in _KERAS_KINDS if _in_kind(keras, k, value)), None)
            if kind is not None:
                return {"__type__": "keras_name", "kind": kind, "name": value.__name__}
            registered = keras.saving.get_registered_name(value) if callable(value) else None
            if registered and keras.saving.get_registered_object(registered) is value:
                return {"__type__": "keras_registered", "name": registered}
            if _is_keras_parameter(value):
                try:
                    config = keras.saving.serialize_keras_object(value)
                    json.dumps(config, allow_nan=False)
                except (TypeError, ValueError, NotImplementedError) as error:
                    raise self._refused(value, where, f" (Keras cannot serialize it: {error})") from error
                return {"__type__": "keras", "config": config}
        raise self._refused(value, where)

    @staticmethod
    def _refused(value, where, why=""):
        what = type(value).__name__ if not isinstance(value, type) else f"class {value.__qualname__}"
        return TypeError(
            f"cannot save {_describe(where)}: {what} is not data{why}. A file holds parameters as data: "
            "names of Keras objects, Keras objects with a config, and functions or classes registered with "
            "keras.saving.register_keras_serializable; set another value (set_params) or use pickle or skops."
        )


_KERAS_BASES = (("optimizers", "Optimizer"), ("losses", "Loss"), ("metrics", "Metric"),
                ("initializers", "Initializer"), ("regularizers", "Regularizer"), ("constraints", "Constraint"),
                ("layers", "Layer"))


def _is_keras_parameter(value):
    """Whether ``value`` is a Keras object of a kind a parameter may hold (see `_KERAS_BASES`)."""
    return any(is_keras(value, f"{kind}.{base}") for kind, base in _KERAS_BASES)


def _in_kind(keras, kind, value):
    """Whether ``value`` is Keras's own ``keras.<kind>.<its name>`` (a class or a function)."""
    name = getattr(value, "__name__", None)
    return isinstance(name, str) and getattr(getattr(keras, kind), name, None) is value


def _join(where, key):
    return f"{where}[{key!r}]" if where else key


def _describe(where):
    head = re.match(r"[A-Za-z0-9]+(_[A-Za-z0-9]+)*", where or "")
    if head and not where.startswith("_") and not head.group(0).endswith("_"):
        return f"parameter {where!r}"
    return f"the fitted state {where!r}"


class _ArchiveArrays:
    """Arrays read from ``arrays/<n>.npy`` members, without pickle."""

    def __init__(self, archive):
        self.archive, self.read_once = archive, set()

    def read(self, index, dtype, shape):
        name = f"arrays/{index}.npy"
        if name in self.read_once:
            raise UnsafeFileError(f"state.json refers to {name} twice; each array is one value.")
        self.read_once.add(name)
        try:
            with self.archive.open(name) as member:
                data = io.BytesIO(member.read())
        except KeyError as error:
            raise UnsafeFileError(f"state.json refers to {name}, which the file lacks.") from error
        try:
            version = np.lib.format.read_magic(data)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in read_header:
                raise ValueError(f"format version {version}")
            header_shape, _, header_dtype = read_header[version](data)
        except ValueError as error:
            raise UnsafeFileError(f"{name} is not a .npy array ({error}).") from error
        if header_dtype.kind not in _ARRAY_KINDS or header_dtype.hasobject:
            raise UnsafeFileError(f"{name} holds dtype {header_dtype}; arrays hold numbers, booleans or strings.")
        if header_dtype.str != dtype or list(header_shape) != shape:
            raise UnsafeFileError(
                f"{name} has shape {header_shape} and dtype {header_dtype.str}; state.json describes "
                f"shape {tuple(shape)} and dtype {dtype}."
            )
        if len(data.getbuffer()) - data.tell() != math.prod(header_shape) * header_dtype.itemsize:
            raise UnsafeFileError(f"{name} holds another number of bytes than its shape and dtype say.")
        data.seek(0)
        try:
            return np.lib.format.read_array(data, allow_pickle=False)
        except ValueError as error:
            raise UnsafeFileError(f"{name} cannot be read as described ({error}).") from error


class _Decoder:
    """JSON data -> Python values; tagged objects rebuilt from `_CLASSES` and data only."""

    def __init__(self, arrays):
        self.arrays = arrays
        self._handlers = {
            "float": self._float, "scalar": self._scalar, "tuple": self._tuple, "dict": self._dict,
            "random_state": self._random_state, "array": self._array, "object_array": self._object_array,
            "object": self._object, "keras_name": self._keras_name, "keras_registered": self._keras_registered,
            "keras": self._keras,
        }

    def decode(self, value, where):
        if isinstance(value, list):
            return [self.decode(v, where) for v in value]
        if not isinstance(value, dict):
            return value
        if "__type__" not in value:
            return {k: self.decode(v, _join(where, k)) for k, v in value.items()}
        tag = value["__type__"]
        method = self._handlers.get(tag) if isinstance(tag, str) else None
        if method is None:
            raise UnsafeFileError(f"unknown value type {tag!r} at {where or 'the top'} of state.json.")
        try:
            return method(value, where)
        except UnsafeFileError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise UnsafeFileError(f"bad {tag} at {where or 'the top'} of state.json ({error!r}).") from error

    def _float(self, value, where):
        if value["value"] not in ("nan", "inf", "-inf"):
            raise UnsafeFileError(f"a tagged float is nan, inf or -inf; got {value['value']!r} at {where}.")
        return float(value["value"])

    def _scalar(self, value, where):
        dtype = np.dtype(value["dtype"])
        if dtype.kind not in _ARRAY_KINDS:
            raise UnsafeFileError(f"scalar of dtype {dtype} at {where}.")
        return dtype.type(self.decode(value["value"], where))

    def _tuple(self, value, where):
        return tuple(self.decode(value["items"], where))

    def _dict(self, value, where):
        return {self.decode(k, where): self.decode(v, where) for k, v in value["items"]}

    def _random_state(self, value, where):
        random_state = np.random.RandomState()
        random_state.set_state(tuple(self.decode(value["state"], where)))
        return random_state

    def _array(self, value, where):
        index, dtype, shape = value["index"], value["dtype"], value["shape"]
        if not (isinstance(index, int) and isinstance(dtype, str) and isinstance(shape, list)):
            raise UnsafeFileError(f"bad array reference at {where}.")
        return self.arrays.read(index, dtype, shape)

    def _object_array(self, value, where):
        items = self.decode(value["items"], where)
        array = np.empty(len(items), dtype=object)
        for i, item in enumerate(items):  # one by one: a tuple is one item, not a row
            array[i] = item
        return array.reshape([int(n) for n in value["shape"]])

    def _object(self, value, where):
        cls = _CLASSES.get(value["class"])
        if cls is None:
            raise UnsafeFileError(
                f"unknown class {value['class']!r} at {where or 'the top'} of state.json; a file holds only "
                "skmultihead's own classes."
            )
        if "fields" in value:
            return cls(**self.decode(value["fields"], where))
        obj = cls.__new__(cls)
        state = self.decode(value["state"], where)
        if not isinstance(state, dict):
            raise UnsafeFileError(f"the state of {value['class']} at {where} is not a dict.")
        obj.__setstate__(state)
        return obj

    def _keras_name(self, value, where):
        keras = _import_keras(where)
        if value["kind"] not in _KERAS_KINDS:
            raise UnsafeFileError(f"unknown Keras kind {value['kind']!r} at {where}.")
        name = str(value["name"])
        found = None if name.startswith("_") else getattr(getattr(keras, value["kind"]), name, None)
        if not (inspect.isclass(found) or inspect.isfunction(found)):
            raise UnsafeFileError(f"keras.{value['kind']} has no {value['name']!r} (at {where}).")
        return found

    def _keras_registered(self, value, where):
        found = _import_keras(where).saving.get_registered_object(str(value["name"]))
        if found is None:
            raise UnsafeFileError(
                f"{where} is {value['name']!r}, registered with Keras where the file was saved; register it "
                "(import the module that defines it) before loading."
            )
        return found

    def _keras(self, value, where):
        keras = _import_keras(where)
        found = keras.saving.deserialize_keras_object(value["config"], safe_mode=True)
        if not _is_keras_parameter(found):
            raise UnsafeFileError(f"{where} is a {type(found).__name__}, not a Keras object a parameter may hold.")
        return found


def _import_keras(where):
    try:
        import keras
    except ImportError as error:
        raise ImportError(f"{_describe(where)} is a Keras object; loading it needs Keras ({error}).") from error
    return keras

