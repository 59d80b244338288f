"""Persistence: a fitted estimator as one file of JSON and plain arrays, without pickle.

The file is a zip archive, as Keras's ``.keras`` files are: ``metadata.json`` (format,
its version, the estimator class, package versions), ``state.json`` (everything that is
not an array: parameters, heads and their kinds, class labels, regression scaling,
thresholds, input column groups, feature names, the numpy forward pass's plan) and
``arrays/<n>.npy``, one plain numeric array each (the network's variables among them).

Loading reads JSON and ``.npy`` arrays with ``allow_pickle=False`` and builds only this
package's classes, by name (`_codec`): it executes no code from the file, and writes
nothing. Members are read through bounded readers (the zip directory's sizes are not
trusted), and the network's variables must be finite and shaped as the architecture the
file describes says. Keras objects among the parameters (an optimizer, a loss) are stored
as their Keras config and rebuilt by ``keras.saving.deserialize_keras_object`` in safe
mode, once their kinds are checked; a callable or class is stored by its registered Keras
name, or refused at save time. Callbacks are not kept (they write files and act on the
network when the estimator trains): `save` refuses an estimator with ``callbacks``, and
`load` a file with them.
"""

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
from ._branches import DenseBranch, EmbeddingBranch
from ._codec import ARRAY_KINDS, Decoder, Encoder, UnsafeFileError, parse_json
from ._contract import ESTIMATORS, RUNTIME_STATE, estimator_class
from ._heads import Head
from ._kinds import HEAD_KINDS
from ._mixture import combined_kind
from ._own import SavedNetwork
from ._params import as_sizes, is_keras

__all__ = ["UnsafeFileError", "load", "save"]

FORMAT = "skmultihead"
FORMAT_VERSION = 1
_CALLBACKS = ("callbacks", "fit__callbacks")
_MAX_RATIO = 100  # a file decompresses to at most this many times its size (plus 1 MiB)
_JSON_LIMITS = {"metadata.json": 2**20, "state.json": 2**28}  # bytes
_NPY_HEADER = 2**16 + 16  # the most a .npy header (magic, length, dict) takes before the data
_MEMBER = re.compile(r"arrays/(0|[1-9][0-9]{0,8})\.npy")

_ENSEMBLE_OPS = ("average", "ensemble_normal", "ensemble_quantile")  # an ensemble output from its members


def save(estimator, path, include_optimizer=False):
    """Write ``estimator`` to ``path`` (see `load`); ``include_optimizer`` keeps the
    optimizer's state too, for a warm start that continues exactly."""
    if type(estimator) not in ESTIMATORS.values():
        raise TypeError(f"save writes skmultihead's estimators; got {type(estimator).__name__}.")
    state = estimator.__getstate__()
    for name in _CALLBACKS:
        if state.get(name) is not None:
            raise TypeError(
                f"cannot save parameter {name!r}: callbacks are not kept in a file (they write files and act on the "
                f"network when the loaded estimator trains); set_params({name}=None) before saving, or use pickle."
            )
    if "_parked" in state and not include_optimizer:
        state["_parked"] = {**state["_parked"], "optimizer": None}
    if is_keras(state.get("model"), "Model"):  # the user's network, as its Keras config
        state["model"] = SavedNetwork.of(state["model"])
    arrays = []
    encoded = Encoder(arrays).encode(state, "")
    changed = estimator._changed_since_built()  # [] unless fitted
    if changed:
        raise ValueError(f"cannot save: {', '.join(changed)} changed since the network was fitted, so the file would "
                         "describe another network; set it back, or fit again, before saving.")
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": type(estimator).__name__,
        "versions": _versions(),
    }
    directory = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".skmultihead-", suffix=".tmp")
    except OSError as error:  # name the file asked for, not the temporary one
        raise type(error)(error.errno, error.strerror, os.fspath(path)) from None
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
        payload, an unknown class or head kind, a state setting parameters its class does
        not have, a member outside ``arrays/``, a member
        that decompresses to more than its contents may take, an array whose shape or
        dtype differs from its description, a Keras object of a kind its parameter does
        not hold, a number out of a float's range, network variables that are not finite
        or not shaped as the network the file describes, a newer format version.

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
    with open(path, "rb") as file:
        try:
            archive = zipfile.ZipFile(file)
        except zipfile.BadZipFile as error:
            raise UnsafeFileError(f"{path} is not a file written by skmultihead's save (not a zip archive).") from error
        with archive:
            _check_members(archive, path)
            members = _Members(archive, os.fstat(file.fileno()).st_size)
            try:
                cls = _check_metadata(members.json("metadata.json"), path)
                state = Decoder(members).decode(members.json("state.json"), "")
                if not isinstance(state, dict):
                    raise UnsafeFileError(f"{path}: state.json does not describe an estimator's state.")
                _check_state(state, cls)
                estimator = cls.__new__(cls)
                estimator.__setstate__(state)
            except (UnsafeFileError, ImportError):
                raise
            except Exception as error:  # corrupt data, deep nesting, values of the wrong type ...
                raise UnsafeFileError(f"{path} is malformed ({type(error).__name__}: {error}).") from error
    return estimator


def _check_members(archive, path):
    """Only metadata.json, state.json and arrays/<n>.npy, once each."""
    names = archive.namelist()
    strangers = [n for n in names if n not in ("metadata.json", "state.json") and not _MEMBER.fullmatch(n)]
    if strangers or "metadata.json" not in names or "state.json" not in names or len(set(names)) < len(names):
        raise UnsafeFileError(
            f"{path} holds members other than metadata.json, state.json and arrays/<n>.npy, once each: "
            f"{strangers[:5] or names[:5]}; it was not written by skmultihead's save."
        )


class _Members:
    """The archive's members, each read once through a bounded reader: at most its own
    limit, and at most `_MAX_RATIO` times the file's size (plus 1 MiB) for all of them,
    whatever the zip directory declares."""

    def __init__(self, archive, size):
        self.archive, self.size, self.read_once = archive, size, set()
        self.budget = _MAX_RATIO * size + 2**20

    def _read(self, name, limit, what):
        if name in self.read_once:
            raise UnsafeFileError(f"state.json refers to {name} twice; each array is one value.")
        self.read_once.add(name)
        if limit > self.budget:
            limit, what = self.budget, f"a file of {self.size} bytes may hold ({_MAX_RATIO} times its size)"
        try:
            with self.archive.open(name) as member:
                data = member.read(limit + 1)
        except KeyError as error:
            raise UnsafeFileError(f"state.json refers to {name}, which the file lacks.") from error
        if len(data) > limit:
            raise UnsafeFileError(f"{name} decompresses to more than {limit} bytes, more than {what}.")
        self.budget -= len(data)
        return data

    def json(self, name):
        return parse_json(self._read(name, _JSON_LIMITS[name], f"the format allows for {name}"), name)

    def read(self, index, dtype, shape):
        """The array ``arrays/<index>.npy``, which state.json describes as of ``dtype`` and ``shape``."""
        name = f"arrays/{index}.npy"
        described = np.dtype(dtype)
        if described.kind not in ARRAY_KINDS or described.hasobject:
            raise UnsafeFileError(f"state.json describes {name} as of dtype {dtype}; arrays hold numbers or strings.")
        size = math.prod(shape) * described.itemsize
        data = io.BytesIO(self._read(name, _NPY_HEADER + size, "its shape and dtype in state.json take"))
        try:
            version = np.lib.format.read_magic(data)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in read_header:
                raise ValueError(f"format version {version}")
            header_shape, _, header_dtype = read_header[version](data)
        except ValueError as error:
            raise UnsafeFileError(f"{name} is not a .npy array ({error}).") from error
        if header_dtype.kind not in ARRAY_KINDS or header_dtype.hasobject:
            raise UnsafeFileError(f"{name} holds dtype {header_dtype}; arrays hold numbers, booleans or strings.")
        if header_dtype.str != dtype or list(header_shape) != shape:
            raise UnsafeFileError(
                f"{name} has shape {header_shape} and dtype {header_dtype.str}; state.json describes "
                f"shape {tuple(shape)} and dtype {dtype}."
            )
        if len(data.getbuffer()) - data.tell() != size:
            raise UnsafeFileError(f"{name} holds another number of bytes than its shape and dtype say.")
        data.seek(0)
        try:
            return np.lib.format.read_array(data, allow_pickle=False)
        except ValueError as error:
            raise UnsafeFileError(f"{name} cannot be read as described ({error}).") from error


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
    cls = estimator_class(name) if isinstance(name, str) else None
    if cls is None:
        raise UnsafeFileError(f"{path} holds a {name!r}, which is not an estimator of skmultihead.")
    return cls


def _check_state(state, cls):
    """Refuse a state that an estimator of class ``cls`` should not take."""
    params = set(cls._declared_params())
    foreign = sorted(key for key in state if not (key in params or key.startswith("_") or key.endswith("_")
                                                   or "__" in key))  # fitted, private and routed ones pass
    if foreign:
        raise UnsafeFileError(f"state.json sets {foreign[:5]}, which are not parameters of {cls.__name__}: the "
                              "file's class does not match its state.")
    runtime = [key for key in RUNTIME_STATE if key in state]
    if runtime:
        raise UnsafeFileError(f"state.json holds {runtime}, which are built when an estimator runs, never saved.")
    for name in _CALLBACKS:
        if state.get(name) is not None:
            raise UnsafeFileError(f"state.json sets {name!r}; a file holds no callbacks.")
    for name, head in (state.get("heads_") or {}).items():
        if not isinstance(head, Head) or getattr(head, "kind_", None) not in HEAD_KINDS:
            raise UnsafeFileError(
                f"head {name!r} has kind {getattr(head, 'kind_', None)!r}; the head kinds are {list(HEAD_KINDS)}."
            )
    parked = state.get("_parked")
    if parked is None:
        return
    if not (isinstance(parked, dict) and set(parked) <= {"weights", "optimizer"}
            and isinstance(parked.get("weights"), list)):
        raise UnsafeFileError("the network's state is not {'weights': [arrays], 'optimizer': [arrays] or None}.")
    for i, value in enumerate(parked["weights"]):
        if not (isinstance(value, np.ndarray) and value.dtype.kind in "biuf"):
            raise UnsafeFileError(f"network variable {i} is not an array of numbers.")
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise UnsafeFileError(f"network variable {i} holds non-finite values (nan or inf).")
    if state.get("_forward_plan") is not None:
        probe = cls.__new__(cls)  # for the hook `_graph_options` only
        vars(probe).update(state)
        _NetworkShapes(state, probe._graph_options()).check()


class _NetworkShapes:
    """The shapes a saved network's variables must have: the numpy plan's steps chained
    from the input widths, each layer with the units the estimator's parameters give it
    (its branch's, the trunk's, its head's), not the file's own shape entries."""

    def __init__(self, state, options):
        self.state, self.plan, self.weights = state, state["_forward_plan"], state["_parked"]["weights"]
        self.head_columns = options.get("head_columns") or {}
        self.head_sizes = as_sizes(options.get("head_hidden_layer_sizes", ()))
        self.shared_trunk = options.get("shared_trunk", True)
        self.units = {}  # step -> units (dense), (labels, units) (per-label dense), (vocabulary, dim) (embedding)
        self.producer = {}  # tensor key -> the step computing it

    def check(self):
        plan, state = self.plan, self.state
        columns = state["input_columns_"]
        if set(plan["inputs"]) != set(columns):
            raise _mismatch(f"its inputs are {list(plan['inputs'])}; input_columns_ names {list(columns)}")
        if not all(0 <= c < state["n_features_in_"] for cs in columns.values() for c in cs):
            raise _mismatch(f"input_columns_ {columns} names columns beyond n_features_in_={state['n_features_in_']}")
        shapes = {key: (len(columns[name]),) for name, key in plan["inputs"].items()}
        for i, step in enumerate(plan["steps"]):
            weights = step.get("weights", [])
            if (not set(step["inputs"]) <= set(shapes) or step["output"] in shapes
                    or not all(isinstance(w, int) and 0 <= w < len(self.weights) for w in weights)):
                raise _mismatch(f"step {i} reads a tensor or variable it cannot, or computes a tensor twice")
            self.producer[step["output"]] = i
            shapes[step["output"]] = None
        for name, key in plan["outputs"].items():
            self._output(name, key)
        for i, step in enumerate(plan["steps"]):
            shapes[step["output"]] = self._shape(i, step, [shapes[k] for k in step["inputs"]])
        for name, key in plan["outputs"].items():
            expected = (self._head(name)[0].n_outputs_,)
            if shapes[key] != expected:
                raise _mismatch(f"output {name!r} has shape {shapes[key]}; its head has {expected[0]} outputs")

    # -- the units the parameters give each layer, walking back from each output -----------
    def _head(self, name):
        """(head, its hidden units, whether per label, what it reads: ("trunk",),
        ("columns",) (its own, and the trunk if shared) or ("branch", input)) of output ``name``."""
        heads, aux = self.state["heads_"], {a.name: a for a in self.state.get("aux_heads_") or ()}
        if name in heads:
            head = heads[name]
            reads = ("columns",) if name in self.head_columns else ("trunk",)
            return head, as_sizes(head.units), head.separate, reads
        if name in aux:
            source = aux[name].source
            return heads[aux[name].target], (), False, ("trunk",) if source == "trunk" else ("branch", source)
        member = re.fullmatch(r"member\d+_(.+)", name)
        if member and self.state.get("ensemble_size", 1) > 1:
            return self._head(member.group(1))
        raise _mismatch(f"its output {name!r} is neither a head nor an auxiliary head")

    def _output(self, name, key):
        head, hidden, per_label, reads = self._head(name)
        step = self._step(key)
        keys = [key]
        if step is not None and step["op"] in _ENSEMBLE_OPS:  # an ensemble's members, combined as the head's kind
            kind = combined_kind(head)
            expected = "average" if kind is None else f"ensemble_{kind}"
            if step["op"] != expected:
                raise _mismatch(f"head {name!r} combines its ensemble's members by {step['op']!r}, not {expected!r}")
            keys = step["inputs"]
        for key in keys:
            step = self._step(key)
            if step is not None and step["op"] == "joint":  # computed from the other heads' outputs
                continue
            n = head.n_outputs_
            sizes = [(n, u) for u in hidden] + [(n, 1)] if per_label else [*hidden, n]
            key = self._layers(key, sizes, f"head {name!r}")
            if reads[0] == "branch":
                self._branch(key, reads[1])
            elif reads[0] == "trunk":
                self._trunk(key)
            else:
                if self.shared_trunk:
                    step = self._step(key)
                    if step is None or step["op"] != "concatenate" or len(step["inputs"]) != 2:
                        raise _mismatch(f"head {name!r} does not read the trunk and its own columns")
                    self._trunk(step["inputs"][0])
                    key = step["inputs"][1]
                self._layers(key, self.head_sizes, f"the columns of head {name!r}")

    def _trunk(self, key):
        if self.state["model"] is not None:  # a custom trunk: its layers have the units it gives them
            return
        key = self._layers(key, as_sizes(self.state["hidden_layer_sizes"]), "the trunk")
        names = list(self.state["input_columns_"])
        if len(names) == 1:
            self._branch(key, names[0])
            return
        step = self._step(key)
        if step is None or step["op"] != "concatenate" or len(step["inputs"]) != len(names):
            raise _mismatch(f"the trunk does not read the {len(names)} inputs' branches joined")
        for key, name in zip(step["inputs"], names):
            self._branch(key, name)

    def _branch(self, key, name):
        branch = self.state["branches_"][name]
        if isinstance(branch, DenseBranch):
            key = self._layers(key, as_sizes(branch.hidden_layer_sizes), f"the branch of input {name!r}")
        elif isinstance(branch, EmbeddingBranch):
            pool = self._step(key)
            embedding = pool["inputs"][0] if pool is not None and pool["op"] in ("mean", "masked_mean") else None
            step = None if embedding is None else self._step(embedding)
            if step is None or step["op"] != "embedding":
                raise _mismatch(f"the branch of input {name!r} is not an embedding averaged")
            self._set(self._index(embedding), (int(branch.vocab_size), int(branch.dim)))
            key = step["inputs"][0]
        else:  # a callable branch: its layers have the units it gives them
            return
        if self._skip(key) != self.plan["inputs"][name]:
            raise _mismatch(f"the branch of input {name!r} does not start at that input")

    def _layers(self, key, sizes, what):
        """Give the dense layers ending at ``key`` the units ``sizes``; the key they read."""
        for units in reversed(sizes):
            step = self._step(key)
            if step is None or step["op"] != ("per_label_dense" if isinstance(units, tuple) else "dense"):
                raise _mismatch(f"{what} has fewer than {len(sizes)} layers of its kind")
            self._set(self._index(key), units)
            key = step["inputs"][0]
        return key

    def _set(self, index, units):
        if self.units.setdefault(index, units) != units:
            raise _mismatch(f"step {index} would have both {self.units[index]} and {units} units")

    def _skip(self, key):
        """``key``, or the tensor a chain of dropout (identity) steps ending at it reads."""
        while key in self.producer and self.plan["steps"][self.producer[key]]["op"] == "identity":
            key = self.plan["steps"][self.producer[key]]["inputs"][0]
        return key

    def _index(self, key):
        """The step computing ``key`` (dropout skipped), or None for an input."""
        return self.producer.get(self._skip(key))

    def _step(self, key):
        index = self._index(key)
        return None if index is None else self.plan["steps"][index]

    # -- the shapes, chained from the inputs ---------------------------------------------------
    def _shape(self, i, step, shapes):
        """The shape (without rows) of step ``i``'s output; refuses its variables unless
        they have the shapes its inputs and units imply."""
        op, first = step["op"], shapes[0] if shapes else None
        if op in ("identity", *_ENSEMBLE_OPS):
            if any(shape != first for shape in shapes):
                raise _mismatch(f"step {i} ({op}) reads tensors of shapes {shapes}")
            return first
        if op in ("concatenate", "joint") and all(len(shape) == 1 for shape in shapes):
            widths = [shape[0] for shape in shapes]
            return (sum(widths) if op == "concatenate" else math.prod(widths),)
        if op == "columns" and len(first) == 1 and all(0 <= c < first[0] for c in step["columns"]):
            return (len(step["columns"]),)
        if op == "mean" and len(first) == 2:
            return first[1:]
        if op == "masked_mean" and len(first) == 2 and shapes[1] == first[:1]:
            return first[1:]
        weights = [self.weights[w] for w in step.get("weights", [])]
        if op == "dense" and len(first) == 1:
            units = self.units.get(i, weights[0].shape[-1] if weights[0].ndim == 2 else None)
            self._expect(step, [(first[0], units), (units,)])
            return (units,)
        if op == "per_label_dense" and len(first) in (1, 2):
            labels, units = self.units.get(i, weights[0].shape[::2] if weights[0].ndim == 3 else (None, None))
            if len(first) == 2 and first[0] != labels:
                raise _mismatch(f"step {i} reads {first[0]} labels' inputs; it has {labels} labels")
            self._expect(step, [(labels, first[-1], units), (labels, units)])
            return (labels,) if units == 1 else (labels, units)
        if op == "embedding" and len(first) == 1:
            table = self.units.get(i, weights[0].shape)
            self._expect(step, [tuple(table)])
            return (*first, table[-1])
        raise _mismatch(f"step {i} ({op}) cannot read tensors of shapes {shapes}")

    def _expect(self, step, shapes):
        indices = step["weights"]
        if len(indices) > len(shapes) or len(indices) < 1:
            raise _mismatch(f"a {step['op']} step has {len(indices)} variables")
        for index, shape in zip(indices, shapes):
            if self.weights[index].shape != shape:
                raise UnsafeFileError(
                    f"network variable {index} has shape {self.weights[index].shape}; the network the file "
                    f"describes needs {shape}."
                )


def _mismatch(what):
    return UnsafeFileError(f"the network's plan does not match the estimator's parameters: {what}.")
