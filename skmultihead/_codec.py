"""The file format's values: Python values <-> JSON data and plain arrays (see `_persistence`).

Non-finite floats are written tagged (``{"__type__": "float", "value": "inf"}``); any
other JSON number must be a finite float. A Keras object stands only where a parameter
may hold one, and only of the kinds that parameter takes (`keras_kinds`): an optimizer
where the optimizer stands, a loss where a loss stands, ...; never a layer or a model.
A Keras object's config is checked, nested objects included, before Keras builds it.
"""

import functools
import inspect
import json
import math
import re
import sys

import numpy as np

from ._branches import DenseBranch, EmbeddingBranch
from ._contract import estimator_class
from ._factors import FactorLayout
from ._heads import Head
from ._indicator import IndicatorLayout
from ._own import SavedNetwork
from ._params import is_keras
from ._spec import AuxHead
from ._targets import TargetLayout

_CLASSES = {
    f"{cls.__module__}.{cls.__qualname__}": cls
    for cls in (Head, DenseBranch, EmbeddingBranch, AuxHead, TargetLayout, IndicatorLayout, FactorLayout,
                SavedNetwork)
}
# where files written before the modules were split name these classes
_CLASSES.update({f"skmultihead._targets.{cls.__qualname__}": cls for cls in (IndicatorLayout, FactorLayout)})
# the kinds of Keras objects a parameter may hold -> the base class of their objects (None: functions)
_KERAS_KINDS = {
    "optimizers": "optimizers.Optimizer",
    "losses": "losses.Loss",
    "metrics": "metrics.Metric",
    "activations": None,
    "initializers": "initializers.Initializer",
    "regularizers": "regularizers.Regularizer",
}
# a parameter (or a key of a Head's) -> the kinds of Keras objects it may hold
_POSITIONS = {
    "optimizer": ("optimizers",),
    "loss": ("losses",),
    "metrics": ("metrics", "losses"),  # Keras's metric functions are its loss functions
    "activation": ("activations",),
}
_ROUTED_TO_MODEL = tuple(_KERAS_KINDS)  # model__<name>: arguments of a custom trunk
# what a Keras object's config may nest besides objects of the kinds above
_NESTED_BASES = ("optimizers.schedules.LearningRateSchedule", "dtype_policies.DTypePolicy")
ARRAY_KINDS = "biufcUSMm"  # numbers, booleans, strings, dates: what .npy holds without pickle


class UnsafeFileError(ValueError):
    """A file that is not an estimator saved by this package, or that asks for more than one may hold."""


def keras_kinds(where):
    """The kinds of Keras objects a value at ``where`` (a parameter, or a key within one,
    as `Encoder` and `Decoder` name positions) may be; () where none may stand."""
    top = re.match(r"\w*", where).group(0)
    if top.startswith("model__"):
        return _ROUTED_TO_MODEL
    keys = re.findall(r"\['(\w+)'\]", where)
    return _POSITIONS.get(keys[-1] if keys else top, ())


def parse_json(data, name):
    """``data``, the bytes of member ``name``, as JSON; any number must be a finite float."""

    def refuse_constant(constant):
        raise UnsafeFileError(f"{name} holds the JSON constant {constant}; the format writes non-finite floats tagged.")

    def finite(text):
        value = float(text)
        if not math.isfinite(value):
            raise UnsafeFileError(
                f"{name} holds the number {text[:40]}, which is not a finite float; the format writes non-finite "
                "floats tagged."
            )
        return value

    try:
        return json.loads(data, parse_constant=refuse_constant, parse_float=finite)
    except UnsafeFileError:
        raise
    except (ValueError, UnicodeDecodeError) as error:
        raise UnsafeFileError(f"{name} is not valid JSON ({error}).") from error


def _class_named(name):
    """The class of this package's that a file names ``name`` (module.qualname), or None."""
    cls = _CLASSES.get(name)
    if cls is None and isinstance(name, str):  # an estimator in the state of another object
        cls = estimator_class(name.rpartition(".")[2])
        if cls is not None and f"{cls.__module__}.{cls.__qualname__}" != name:
            cls = None
    return cls


class Encoder:
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
            if value.dtype.kind not in ARRAY_KINDS:
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
        if _class_named(name) is type(value):
            return self._object(value, name, where)
        return self._keras(value, where)

    def _array(self, array, where):
        if array.dtype.kind == "O":  # labels of mixed or Python types: JSON, item by item
            items = [self.encode(v, where) for v in array.ravel().tolist()]
            return {"__type__": "object_array", "shape": list(array.shape), "items": items}
        if array.dtype.kind not in ARRAY_KINDS:
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
        kinds = keras_kinds(where)
        if "keras" in sys.modules:
            keras = sys.modules["keras"]
            kind = next((k for k in _KERAS_KINDS if k in kinds and _in_kind(keras, k, value)), None)
            if kind is not None:
                return {"__type__": "keras_name", "kind": kind, "name": value.__name__}
            registered = keras.saving.get_registered_name(value) if hasattr(value, "__name__") else None
            if registered and keras.saving.get_registered_object(registered) is value:
                return {"__type__": "keras_registered", "name": registered}
            if any(is_keras(value, _KERAS_KINDS[k]) for k in kinds if _KERAS_KINDS[k]):
                try:
                    config = keras.saving.serialize_keras_object(value)
                    json.dumps(config, allow_nan=False)
                except (TypeError, ValueError, NotImplementedError) as error:
                    raise self._refused(value, where, f" (Keras cannot serialize it: {error})") from error
                return {"__type__": "keras", "config": config}
            if type(value).__module__.startswith("keras"):
                there = f"a Keras object there is one of: {', '.join(kinds)}" if kinds else "no Keras object there"
                raise self._refused(value, where, f" ({there})")
        raise self._refused(value, where)

    @staticmethod
    def _refused(value, where, why=""):
        what = type(value).__name__ if not isinstance(value, type) else f"class {value.__qualname__}"
        return TypeError(
            f"cannot save {describe(where)}: {what} is not data{why}. A file holds parameters as data: "
            "names of Keras objects, Keras objects with a config, and functions or classes registered with "
            "keras.saving.register_keras_serializable; set another value (set_params) or use pickle or skops."
        )


def _in_kind(keras, kind, value):
    """Whether ``value`` is Keras's own ``keras.<kind>.<its name>`` (a class or a function)."""
    name = getattr(value, "__name__", None)
    return isinstance(name, str) and getattr(getattr(keras, kind), name, None) is value


def _join(where, key):
    return f"{where}[{key!r}]" if where else key


def describe(where):
    """``where`` as a parameter or a part of the fitted state, for messages."""
    head = re.match(r"[A-Za-z0-9]+(_[A-Za-z0-9]+)*", where or "")
    if head and not where.startswith("_") and not head.group(0).endswith("_"):
        return f"parameter {where!r}"
    return f"the fitted state {where!r}"


class Decoder:
    """JSON data -> Python values; tagged objects rebuilt from this package's classes and
    data only; ``arrays.read(index, dtype, shape)`` reads the arrays."""

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
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:
            raise UnsafeFileError(f"bad {tag} at {where or 'the top'} of state.json ({error!r}).") from error

    def _float(self, value, where):
        if value["value"] not in ("nan", "inf", "-inf"):
            raise UnsafeFileError(f"a tagged float is nan, inf or -inf; got {value['value']!r} at {where}.")
        return float(value["value"])

    def _scalar(self, value, where):
        dtype = np.dtype(value["dtype"])
        if dtype.kind not in ARRAY_KINDS:
            raise UnsafeFileError(f"scalar of dtype {dtype} at {where}.")
        item = self.decode(value["value"], where)
        with np.errstate(over="ignore"):
            scalar = dtype.type(item)
        if dtype.kind in "fc" and not np.isfinite(scalar) and np.isfinite(item):
            raise UnsafeFileError(f"the {dtype} scalar at {where} overflows: {item!r} is beyond its range.")
        return scalar

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
        if not (isinstance(index, int) and isinstance(dtype, str) and isinstance(shape, list)
                and all(isinstance(n, int) and n >= 0 for n in shape)):
            raise UnsafeFileError(f"bad array reference at {where}.")
        return self.arrays.read(index, dtype, shape)

    def _object_array(self, value, where):
        items = self.decode(value["items"], where)
        array = np.empty(len(items), dtype=object)
        for i, item in enumerate(items):  # one by one: a tuple is one item, not a row
            array[i] = item
        return array.reshape([int(n) for n in value["shape"]])

    def _object(self, value, where):
        cls = _class_named(value["class"])
        if cls is None:
            raise UnsafeFileError(
                f"unknown class {value['class']!r} at {where or 'the top'} of state.json; a file holds only "
                "skmultihead's own classes."
            )
        if cls is SavedNetwork and where != "model":  # the file's declared network, never another parameter
            raise UnsafeFileError(f"a saved network stands at {where or 'the top'} of state.json; only 'model' holds one.")
        if "fields" in value:
            return cls(**self.decode(value["fields"], where))
        obj = cls.__new__(cls)
        state = self.decode(value["state"], where)
        if not isinstance(state, dict):
            raise UnsafeFileError(f"the state of {value['class']} at {where} is not a dict.")
        obj.__setstate__(state)
        return obj

    def _keras_name(self, value, where):
        kinds = keras_kinds(where)
        if value["kind"] not in kinds:
            raise UnsafeFileError(
                f"{where} is a Keras {value['kind']!r} object; there a Keras object is one of: "
                f"{', '.join(kinds) or 'none'}."
            )
        keras = _import_keras(where)
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
        kinds = keras_kinds(where)
        if not kinds:
            raise UnsafeFileError(f"{where} holds a Keras object; no Keras object stands there.")
        keras = _import_keras(where)
        config = value["config"]
        bases = [_KERAS_KINDS[k] for k in kinds if _KERAS_KINDS[k]]
        _check_config(keras, config, bases, where, f"one of: {', '.join(kinds)}")
        nested = [*(b for b in _KERAS_KINDS.values() if b), *_NESTED_BASES]
        for inner in _nested_configs(config["config"]):
            _check_config(keras, inner, nested, where, "an optimizer, loss, metric, initializer, regularizer, "
                          "learning-rate schedule or dtype policy", functions=("losses", "metrics", "activations"))
        return keras.saving.deserialize_keras_object(config, safe_mode=True)


def _nested_configs(value):
    """The Keras object configs within ``value`` (a config's ``config``), at any depth."""
    if isinstance(value, list):
        for item in value:
            yield from _nested_configs(item)
    elif isinstance(value, dict):
        if "class_name" in value:
            yield value
        for item in value.values():
            yield from _nested_configs(item)


def _check_config(keras, config, bases, where, accepted, functions=()):
    """Refuse the Keras object ``config`` unless it names a class derived from one of
    ``bases`` (names under ``keras``), or a function of Keras's ``functions`` kinds or
    registered with Keras."""
    if not (isinstance(config, dict) and {"class_name", "config"} <= set(config)):
        raise UnsafeFileError(f"{where} holds a Keras config without a class_name and a config.")
    function = config["class_name"] == "function"
    name = config["config"] if function else config["class_name"]
    registered = name if function else config.get("registered_name", name)
    found = keras.saving.get_registered_object(registered) if isinstance(registered, str) else None
    from_registry = found is not None
    if not from_registry:
        found = _keras_attribute(keras, config.get("module"), name)
    if found is None:
        raise UnsafeFileError(
            f"{where} holds a Keras config of {config.get('module')}.{name}, which is neither Keras's nor registered "
            "with Keras here; register it (import the module that defines it) before loading."
        )
    if function:
        ok = inspect.isfunction(found) and (from_registry or any(_in_kind(keras, k, found) for k in functions))
    else:
        ok = inspect.isclass(found) and issubclass(found, tuple(_keras_attribute(keras, "keras", b) for b in bases))
    if not ok:
        what = getattr(found, "__qualname__", type(found).__name__)
        raise UnsafeFileError(f"{where} holds a Keras {what}; a Keras object there is {accepted}.")


def _keras_attribute(keras, module, name):
    """``keras``'s attribute ``<module>.<name>`` (module "keras" or "keras.<path>"), or None;
    public names only, and nothing imported."""
    if not (isinstance(module, str) and isinstance(name, str)):
        return None
    path = module.split(".") + name.split(".")
    if path[0] != "keras" or not all(re.fullmatch(r"[A-Za-z]\w*", part) for part in path[1:]):
        return None
    try:
        return functools.reduce(getattr, path[1:], keras)
    except AttributeError:
        return None


def _import_keras(where):
    try:
        import keras
    except ImportError as error:
        raise ImportError(f"{describe(where)} is a Keras object; loading it needs Keras ({error}).") from error
    return keras
