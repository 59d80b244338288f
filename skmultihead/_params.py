"""Parameters: each estimator's table of accepted values, checked before any work.

As scikit-learn's ``_parameter_constraints``: an estimator class maps each parameter to
the constraints a value may meet (any one is enough). `check_params` checks them, and the
routed parameters (``optimizer__learning_rate``, ``fit__batch_size``, ``model__filters``),
at the start of ``fit`` and ``partial_fit``; an error names the parameter, the value
given and what is accepted.
"""

import functools
import inspect
import numbers
import sys

import numpy as np

from ._inputs import REMAINDERS
from ._messages import quoted, suggest
from ._missing import MODES as MISSING_MODES


class InvalidParameterError(ValueError, TypeError):
    """A parameter's value is not accepted (a ValueError and a TypeError, as scikit-learn's)."""


class Interval:
    """Numbers of one kind (``int`` or ``float``, which takes ints too) in a range;
    ``closed`` is "both", "left", "right" or "neither"."""

    def __init__(self, kind, low, high, closed="both"):
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def accepts(self, value):
        number = numbers.Integral if self.kind is int else numbers.Real
        if not isinstance(value, number) or isinstance(value, (bool, np.bool_)):
            return False
        above = self.low is None or (value >= self.low if self.closed in ("both", "left") else value > self.low)
        below = self.high is None or (value <= self.high if self.closed in ("both", "right") else value < self.high)
        return bool(above and below)

    def __str__(self):
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else self.low
        high = "inf" if self.high is None else self.high
        return f"{'an int' if self.kind is int else 'a float'} in {left}{low}, {high}{right}"


class Options:
    """One of the given strings."""

    def __init__(self, *values):
        self.values = values

    def accepts(self, value):
        return isinstance(value, str) and value in self.values

    def __str__(self):
        return f"one of {quoted(self.values)}" if len(self.values) > 1 else repr(self.values[0])


class InstanceOf:
    """An instance of ``types`` (``what`` describes them)."""

    def __init__(self, types, what):
        self.types, self.what = types, what

    def accepts(self, value):
        is_bool = isinstance(value, (bool, np.bool_))  # bools are ints to Python, not here
        return isinstance(value, self.types) and (not is_bool or isinstance(True, self.types))

    def __str__(self):
        return self.what


class SequenceOf:
    """A list or tuple (not a string) whose items each meet ``item``."""

    def __init__(self, item, what):
        self.item, self.what = item, what

    def accepts(self, value):
        items = value.tolist() if isinstance(value, np.ndarray) and value.ndim == 1 else value
        return isinstance(items, (list, tuple)) and all(self.item.accepts(v) for v in items)

    def __str__(self):
        return self.what


class KerasName:
    """The name of a Keras object that ``get(keras, name)`` knows (``keras.activations.get``, ...)."""

    def __init__(self, get, what):
        self.get, self.what = get, what

    def accepts(self, value):
        if not isinstance(value, str):
            return False
        import keras

        try:
            self.get(keras, value)
        except (ValueError, TypeError):
            return False
        return True

    def __str__(self):
        return self.what


class Satisfies:
    """Any value for which ``test`` is true (``what`` describes them)."""

    def __init__(self, test, what):
        self.test, self.what = test, what

    def accepts(self, value):
        return bool(self.test(value))

    def __str__(self):
        return self.what


@functools.lru_cache(maxsize=None)
def _optimizer_class(name):
    """The class of Keras's optimizer ``name`` (an instance is built once per name)."""
    import keras

    return type(keras.optimizers.get(name))


def is_keras(value, kind, classes=False):
    """Whether ``value`` is an instance of Keras's ``kind`` ("optimizers.Optimizer", ...), or
    with ``classes`` a subclass of it; False while Keras is not imported (nothing can be)."""
    if "keras" not in sys.modules:
        return False
    base = functools.reduce(getattr, kind.split("."), sys.modules["keras"])
    if classes:
        return isinstance(value, type) and issubclass(value, base)
    return isinstance(value, base)


NONE = Satisfies(lambda v: v is None, "None")
BOOL = InstanceOf((bool, np.bool_), "a bool")
CALLABLE = Satisfies(callable, "a callable")
DICT = InstanceOf(dict, "a dict")
POSITIVE_INT = Interval(int, 1, None)
FRACTION = Interval(float, 0, 1, closed="left")  # [0, 1)
CALLBACK_LIST = SequenceOf(Satisfies(lambda v: True, "any"), "a list of Keras callbacks (instances or classes)")
SIZES = [POSITIVE_INT, SequenceOf(POSITIVE_INT, "a tuple of ints >= 1")]
RATES = [FRACTION, SequenceOf(FRACTION, "a tuple of floats in [0, 1)")]

COMMON = {
    "heads": [NONE, DICT],
    "hidden_layer_sizes": SIZES,
    "activation": [
        KerasName(lambda keras, name: keras.activations.get(name), "the name of a Keras activation ('relu', ...)"),
        CALLABLE,
    ],
    "dropout": RATES,
    "inputs": [NONE, DICT],
    "remainder": [Options(*REMAINDERS)],
    "branches": [NONE, DICT],
    "model": [NONE, CALLABLE],
    "aux_heads": [NONE, DICT],
    "ensemble_size": [POSITIVE_INT],
    "ensemble_loss": [Options("members", "mean")],
    "loss_weights": [NONE, DICT],
    "missing_targets": [Options(*MISSING_MODES)],
    "optimizer": [
        KerasName(lambda keras, name: _optimizer_class(name), "the name of a Keras optimizer ('adam', 'sgd', ...)"),
        Satisfies(lambda v: is_keras(v, "optimizers.Optimizer", classes=True), "a Keras optimizer class"),
        Satisfies(lambda v: is_keras(v, "optimizers.Optimizer"), "a Keras optimizer"),
    ],
    "epochs": [POSITIVE_INT],
    "early_stopping": [BOOL],
    "validation_fraction": [Interval(float, 0, 1, closed="neither")],
    "n_iter_no_change": [POSITIVE_INT],
    "tol": [Interval(float, 0, None)],
    "scoring": [InstanceOf(str, "'loss' or a scikit-learn scorer name"), CALLABLE],
    "batch_size": [Options("auto"), POSITIVE_INT],
    "validation_split": [FRACTION],
    "shuffle": [BOOL],
    "callbacks": [NONE, CALLBACK_LIST, InstanceOf(dict, "a dict {name: callback}")],
    "warm_start": [BOOL],
    "random_state": [NONE, Interval(int, 0, 2**32 - 1), InstanceOf(np.random.RandomState, "a numpy RandomState")],
    "verbose": [Options("auto"), Interval(int, 0, 2), BOOL],
    "run_eagerly": [BOOL],
    "steps_per_execution": [Options("auto"), POSITIVE_INT],
    "jit_compile": [Options("auto"), BOOL],
}

# fit settings: routed as fit__<name> or given to fit(X, y, <name>=...)
FIT_SETTINGS = {
    "epochs": COMMON["epochs"],
    "initial_epoch": [Interval(int, 0, None)],
    "batch_size": COMMON["batch_size"],
    "callbacks": [NONE, CALLBACK_LIST],  # fit(callbacks=...) as Keras's fit takes them
    "class_weight": [NONE, Options("balanced"), DICT],
    "validation_data": [NONE, InstanceOf(tuple, "a tuple (X_val, y_val) or (X_val, y_val, sample_weight_val)")],
    "validation_split": COMMON["validation_split"],
    "shuffle": COMMON["shuffle"],
    "validation_freq": [POSITIVE_INT],
    "validation_batch_size": [NONE, POSITIVE_INT],
    "verbose": COMMON["verbose"],
}
# routed optimizer arguments with a documented range (Keras's optimizers)
POSITIVE = Interval(float, 0, None, closed="neither")
OPTIONAL_POSITIVE = [NONE, POSITIVE]
OPTIMIZER_ARGUMENTS = {
    "learning_rate": [
        POSITIVE,
        Satisfies(lambda v: is_keras(v, "optimizers.schedules.LearningRateSchedule"), "a Keras learning-rate schedule"),
        CALLABLE,
    ],
    "momentum": [Interval(float, 0, 1)],
    "beta_1": [Interval(float, 0, 1, closed="left")],
    "beta_2": [Interval(float, 0, 1, closed="left")],
    "rho": [Interval(float, 0, 1)],
    "epsilon": [Interval(float, 0, None)],
    "weight_decay": [NONE, Interval(float, 0, None)],
    "clipnorm": OPTIONAL_POSITIVE,
    "clipvalue": OPTIONAL_POSITIVE,
    "global_clipnorm": OPTIONAL_POSITIVE,
}
ROUTED = ("optimizer", "loss_weights", "callbacks", "fit", "model")


def routed(params, prefix, strict=False):
    """The parameters routed to ``prefix`` (``<prefix>__<name>``), named without it;
    ``strict`` leaves out those routed further (``<prefix>__<name>__<key>``)."""
    start = prefix + "__"
    found = {name[len(start) :]: value for name, value in params.items() if name.startswith(start)}
    return {name: value for name, value in found.items() if not (strict and "__" in name)}


def build_optimizer(optimizer, arguments):
    """A new optimizer from the ``optimizer`` parameter (a name, a class or an instance,
    rebuilt from its config) and its routed ``arguments``."""
    if is_keras(optimizer, "optimizers.Optimizer"):
        return type(optimizer).from_config({**optimizer.get_config(), **arguments})
    cls = _optimizer_class(optimizer) if isinstance(optimizer, str) else optimizer
    return cls(**arguments)


def as_sizes(value):
    """Layer sizes as a tuple of ints (an int is one layer, as in scikit-learn's MLP)."""
    return (int(value),) if isinstance(value, numbers.Integral) else tuple(int(v) for v in value)


def check_value(owner, name, value, constraints):
    """Raise `InvalidParameterError` unless ``value`` meets one of ``constraints``."""
    if any(c.accepts(value) for c in constraints):
        return
    described = [str(c) for c in constraints]
    accepted = described[0] if len(described) == 1 else ", ".join(described[:-1]) + " or " + described[-1]
    options = [v for c in constraints if isinstance(c, Options) for v in c.values]
    hint = suggest(value, options) if isinstance(value, str) and options else ""
    raise InvalidParameterError(f"{owner} parameter {name!r} must be {accepted}; got {value!r}.{hint}")


def check_params(estimator, fit_kwargs=()):
    """Check ``estimator``'s parameters against its ``_parameter_constraints``, its routed
    parameters, and the fit settings given to ``fit`` (``fit_kwargs``)."""
    owner = type(estimator).__name__
    params = estimator.get_params(deep=False)
    for name, constraints in estimator._parameter_constraints.items():
        check_value(owner, name, params[name], constraints)
    declared = list(estimator._parameter_constraints)
    for name, value in params.items():
        if name in estimator._parameter_constraints:
            continue
        prefix, _, rest = name.partition("__")
        if not rest:
            raise InvalidParameterError(f"{owner} got an unknown parameter {name!r}.{suggest(name, declared)}")
        if prefix not in ROUTED:
            raise InvalidParameterError(
                f"{owner} got an unknown parameter {name!r}: {prefix!r} is not a routing prefix."
                f"{suggest(prefix, ROUTED)} Routed parameters start with one of {quoted(ROUTED)} and '__'."
            )
        _check_routed(estimator, owner, prefix, rest, value)
    for name, value in dict(fit_kwargs).items():
        _check_fit_setting(f"{owner}.fit", name, value)


def _check_routed(estimator, owner, prefix, rest, value):
    name = f"{prefix}__{rest}"
    if prefix == "fit" and rest.startswith("callbacks__"):
        _check_callback_argument(getattr(estimator, "fit__callbacks", None), owner, name, rest[len("callbacks__") :])
    elif prefix == "fit":
        _check_fit_setting(owner, name, value, setting=rest)
    elif prefix == "optimizer":
        accepted = _optimizer_arguments(estimator.optimizer)
        if accepted is not None and rest not in accepted:
            raise InvalidParameterError(
                f"{owner} parameter {name!r}: the optimizer takes no argument {rest!r}.{suggest(rest, accepted)}"
            )
        if rest in OPTIMIZER_ARGUMENTS:
            check_value(owner, name, value, OPTIMIZER_ARGUMENTS[rest])
    elif prefix == "callbacks":
        _check_callback_argument(estimator.callbacks, owner, name, rest)
    elif prefix == "model":
        if estimator.model is None:
            raise InvalidParameterError(
                f"{owner} parameter {name!r} is given but no model (custom trunk) is; model__ parameters are "
                "passed to the model callable."
            )
        accepted = _arguments(estimator.model)
        if accepted is not None and rest not in accepted:
            raise InvalidParameterError(
                f"{owner} parameter {name!r}: the model callable takes no argument {rest!r}."
                f"{suggest(rest, accepted)} It takes {quoted(accepted)}."
            )


def _check_callback_argument(callbacks, owner, name, rest):
    """``callbacks__<i>__<arg>`` builds callback class ``i`` with ``arg``; ``callbacks__<arg>``
    builds every callback class with it (scikeras's routing)."""
    entries = dict(enumerate(callbacks)) if isinstance(callbacks, (list, tuple)) else dict(callbacks or {})
    if not entries:
        raise InvalidParameterError(f"{owner} parameter {name!r} is given but callbacks is {callbacks!r}.")
    key, _, argument = rest.partition("__")
    if argument:
        entry = entries.get(int(key) if key.isdigit() and isinstance(callbacks, (list, tuple)) else key)
        if entry is None:
            raise InvalidParameterError(
                f"{owner} parameter {name!r}: callbacks has no entry {key!r}; it has {quoted(entries)}."
            )
        targets = [entry]
    else:
        argument, targets = key, list(entries.values())
    for target in targets:
        if not isinstance(target, type):
            raise InvalidParameterError(
                f"{owner} parameter {name!r}: routed arguments build a callback from its class, but "
                f"{type(target).__name__} is given as an instance; give the class, or set the argument on the instance."
            )
        accepted = _init_arguments(target)
        if argument not in accepted:
            raise InvalidParameterError(
                f"{owner} parameter {name!r}: {target.__name__} takes no argument {argument!r}."
                f"{suggest(argument, accepted)}"
            )


def _check_fit_setting(owner, name, value, setting=None):
    setting = setting or name
    if setting not in FIT_SETTINGS:
        raise InvalidParameterError(
            f"{owner} got an unknown fit setting {name!r}.{suggest(setting, FIT_SETTINGS)} "
            f"Fit settings are {quoted(FIT_SETTINGS)}."
        )
    check_value(owner, name, value, FIT_SETTINGS[setting])


def _arguments(function):
    """Names ``function`` takes by keyword; None when it takes any (``**kwargs``)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _optimizer_arguments(optimizer):
    """Arguments the optimizer's class takes."""
    cls = _optimizer_class(optimizer) if isinstance(optimizer, str) else optimizer
    return _init_arguments(cls if isinstance(cls, type) else type(cls))


def _init_arguments(cls):
    """Arguments ``cls(...)`` takes: those its ``__init__`` and its bases' name."""
    names = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            parameters = inspect.signature(klass.__init__).parameters.values()
            names.update(p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    return sorted(names - {"self"})
