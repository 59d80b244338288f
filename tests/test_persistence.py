"""save / load: round trips, other backends, no framework, hostile files, skops."""

import ast
import io
import json
import os
import pathlib
import pickle
import re
import struct
import subprocess
import sys
import textwrap
import zipfile

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import skmultihead
from skmultihead import DenseBranch, EmbeddingBranch, FactoredLabelNN, MultiLabelNN, MultiOutputNNClassifier
from skmultihead.datasets import make_distance_size, make_headlines, make_social_media, make_tagged_items

QUICK = dict(hidden_layer_sizes=(8,), epochs=2, random_state=0)


def _headlines():
    X, Y = make_headlines(120, max_words=8, random_state=0)
    tokens = [f"tok_{i}" for i in range(8)]
    est = MultiOutputNNClassifier(
        inputs={"headline": tokens},
        remainder="passthrough",
        branches={"headline": EmbeddingBranch(1000, 4), "remainder": DenseBranch((4,))},
        aux_heads={"topic_from_words": {"branch": "headline", "target": "topic", "weight": 0.3}},
        **QUICK,
    )
    return est, X, Y


def _social_ensemble():
    X, Y = make_social_media(120, random_state=0)
    return MultiOutputNNClassifier(ensemble_size=2, dropout=0.1, **QUICK), X, Y


def _tags():
    X, Y = make_tagged_items(120, n_features=12, n_labels=4, n_informative=6, random_state=0)
    est = MultiLabelNN(threshold="auto", threshold_holdout=0.25, head_layout="per_label_hidden", **QUICK)
    return est, X, Y


def _factored():
    X, Y = make_distance_size(120, random_state=0)
    return FactoredLabelNN(**QUICK), X, Y


CASES = {"headlines": _headlines, "ensemble": _social_ensemble, "tags": _tags, "factored": _factored}


@pytest.fixture(scope="module")
def fitted():
    results = {}
    for name, make in CASES.items():
        est, X, Y = make()
        results[name] = est.fit(X, Y), X, Y
    return results


def _predictions(est, X, Y):
    out = {"predict": est.predict(X), "score": est.score(X, Y)}
    if hasattr(est, "predict_proba"):
        out["predict_proba"] = est.predict_proba(X)
    out["heads"] = est.predict_heads(X)
    return out


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        left, right = a[key], b[key]
        if isinstance(left, dict):
            _assert_same(left, right)
        elif isinstance(left, pd.DataFrame):
            pd.testing.assert_frame_equal(left, right)
        elif isinstance(left, list):
            for x, y in zip(left, right, strict=True):
                np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_array_equal(left, right)


@pytest.mark.parametrize("case", list(CASES))
def test_round_trip_predicts_the_same(fitted, case, tmp_path):
    est, X, Y = fitted[case]
    path = tmp_path / "model.skmh"
    est.save(path)
    loaded = skmultihead.load(path)
    assert type(loaded) is type(est) and loaded.get_params().keys() == est.get_params().keys()
    _assert_same(_predictions(loaded, X, Y), _predictions(est, X, Y))
    # the Keras network built again from the file computes what the numpy forward pass does
    inputs = loaded._model_inputs(np.asarray(X, dtype="float32"))
    network = loaded.model_.predict(inputs, verbose=0)
    expected = est._forward(np.asarray(X, dtype="float32"))
    for name in expected:
        np.testing.assert_allclose(network[name], expected[name], rtol=1e-5, atol=1e-6)


def test_thresholds_and_head_details_survive(fitted, tmp_path):
    est, _, _ = fitted["tags"]
    est.save(tmp_path / "tags.skmh")
    loaded = skmultihead.load(tmp_path / "tags.skmh")
    np.testing.assert_array_equal(loaded.thresholds_, est.thresholds_)
    assert loaded.classes_.tolist() == est.classes_.tolist()
    assert {n: h.kind_ for n, h in loaded.heads_.items()} == {n: h.kind_ for n, h in est.heads_.items()}


def test_a_loaded_estimator_refits_and_warm_starts(tmp_path):
    est, X, Y = _social_ensemble()
    est.fit(X, Y)
    est.save(tmp_path / "a.skmh", include_optimizer=True)
    loaded = skmultihead.load(tmp_path / "a.skmh")
    # warm start: one more epoch continues exactly, optimizer state included
    est.set_params(warm_start=True, epochs=1).fit(X, Y)
    loaded.set_params(warm_start=True, epochs=1).fit(X, Y)
    for a, b in zip(loaded.model_.get_weights(), est.model_.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert loaded.history_["loss"] == pytest.approx(est.history_["loss"], rel=1e-5)
    # a refit trains as a fresh estimator with the same parameters
    refit = skmultihead.load(tmp_path / "a.skmh").set_params(warm_start=False).fit(X, Y)
    fresh = clone(refit).fit(X, Y)
    pd.testing.assert_frame_equal(refit.predict(X), fresh.predict(X))


def test_without_the_optimizer_the_file_holds_the_weights_alone(tmp_path):
    est, X, Y = _tags()
    est.fit(X, Y)
    est.save(tmp_path / "small.skmh")
    est.save(tmp_path / "full.skmh", include_optimizer=True)
    weights = sum(w.nbytes for w in est.model_.get_weights())
    small, full = os.path.getsize(tmp_path / "small.skmh"), os.path.getsize(tmp_path / "full.skmh")
    assert full - small >= 2 * weights  # Adam's two moments
    warm = skmultihead.load(tmp_path / "small.skmh").set_params(warm_start=True, epochs=1).fit(X, Y)
    assert len(warm.history_["loss"]) == 3


def test_saved_under_one_backend_predicts_under_another(fitted, tmp_path):
    est, X, Y = fitted["ensemble"]
    est.save(tmp_path / "m.skmh")
    X.to_csv(tmp_path / "X.csv", index=False)
    expected = est.predict_head_proba(X)
    for backend in ("jax", "torch"):
        module = {"jax": "jax", "torch": "torch"}[backend]
        if subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode:
            continue  # not installed here
        code = textwrap.dedent(f"""
            import numpy as np, pandas as pd, skmultihead
            est = skmultihead.load({str(tmp_path / 'm.skmh')!r})
            X = pd.read_csv({str(tmp_path / 'X.csv')!r})
            network = est.model_.predict(est._model_inputs(X.to_numpy("float32")), verbose=0)
            np.savez({str(tmp_path / backend)!r}, numpy=est.predict_head_proba(X)["income"], keras=network["income"])
        """)
        env = {**os.environ, "KERAS_BACKEND": backend}
        result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-3000:]
        found = np.load(tmp_path / f"{backend}.npz")
        np.testing.assert_allclose(found["numpy"], expected["income"], rtol=1e-6)
        np.testing.assert_allclose(found["keras"], expected["income"], rtol=1e-4, atol=1e-6)


BLOCK_FRAMEWORKS = """
import sys
class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("keras", "tensorflow", "jax", "jaxlib", "torch", "scikeras"):
            raise ImportError(f"{name} is blocked in this process")
sys.meta_path.insert(0, Blocked())
"""


@pytest.mark.parametrize("case", ["tags", "headlines"])  # dense layers; an embedding branch averaging its tokens
def test_load_and_predict_in_a_process_without_any_framework(fitted, tmp_path, case):
    est, X, Y = fitted[case]
    est.save(tmp_path / "m.skmh")
    pd.DataFrame(X).to_csv(tmp_path / "X.csv", index=False)
    pd.DataFrame(Y).to_csv(tmp_path / "Y.csv", index=False)
    code = BLOCK_FRAMEWORKS + textwrap.dedent(f"""
        import numpy as np, pandas as pd, skmultihead
        est = skmultihead.load({str(tmp_path / 'm.skmh')!r})
        X, Y = pd.read_csv({str(tmp_path / 'X.csv')!r}), pd.read_csv({str(tmp_path / 'Y.csv')!r})
        X = X if {case == "headlines"!r} else X.to_numpy("float32")
        proba = est.predict_head_proba(X)
        np.savez({str(tmp_path / 'out')!r}, score=est.score(X, Y), **proba)
        print(sorted(m for m in ("keras", "tensorflow", "jax", "torch") if m in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
    out = np.load(tmp_path / "out.npz")
    for head, proba in est.predict_head_proba(X).items():
        np.testing.assert_allclose(out[head], proba, rtol=1e-6)
    assert float(out["score"]) == pytest.approx(est.score(X, Y))


def test_parameters_that_are_not_data_are_refused_by_name(tmp_path):
    X, Y = make_social_media(60, random_state=0)
    path = tmp_path / "m.skmh"
    est = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    est.save(path)
    before = path.read_bytes()
    est.set_params(model=lambda inputs: keras.layers.Dense(4)(inputs))
    with pytest.raises(TypeError, match="parameter 'model'.*function"):
        est.save(path)
    assert path.read_bytes() == before  # the failed save left the old file
    assert [p.name for p in tmp_path.iterdir()] == ["m.skmh"]  # and no temporary file
    est.set_params(model=None, hidden_layer_sizes=(16,))  # the file would describe a network it cannot load
    with pytest.raises(ValueError, match="cannot save: hidden_layer_sizes changed since the network was fitted"):
        est.save(path)
    assert path.read_bytes() == before
    est.set_params(hidden_layer_sizes=QUICK["hidden_layer_sizes"]).save(path)
    pd.testing.assert_frame_equal(skmultihead.load(path).predict(X), est.predict(X))

    @keras.saving.register_keras_serializable(package="tests_persistence")
    def trunk(inputs):
        return keras.layers.Dense(4, activation="relu")(inputs["features"])

    # Keras objects of the kinds their parameters hold: an optimizer, a head's loss and metrics, an activation
    heads = {"age": skmultihead.Head(loss=keras.losses.Huber()), "income": "multiclass",
             "gender": skmultihead.Head(metrics=[keras.metrics.AUC(name="auc"), keras.metrics.binary_accuracy])}
    est = MultiOutputNNClassifier(model=trunk, optimizer=keras.optimizers.Adam(0.01), heads=heads,
                                  activation=keras.activations.tanh, **QUICK).fit(X, Y)
    est.save(path)
    loaded = skmultihead.load(path)
    assert loaded.model is trunk and float(loaded.optimizer.learning_rate) == pytest.approx(0.01)
    metrics = loaded.heads_["gender"].metrics
    assert type(metrics[0]) is keras.metrics.AUC and metrics[1] is keras.metrics.binary_accuracy
    assert type(loaded.heads_["age"].loss) is keras.losses.Huber and loaded.activation is keras.activations.tanh
    pd.testing.assert_frame_equal(loaded.predict(X), est.predict(X))
    with pytest.raises(TypeError, match=r"'optimizer': Dense is not data \(a Keras object there is one of: optimizers"):
        est.set_params(optimizer=keras.layers.Dense(3)).save(path)


# -- hostile files: each refused with a clear error, nothing executed or written ----------------------
@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "tags.skmh"
    fitted["tags"][0].save(path)
    return path


def _rewrite(source, target, change, deflated=()):
    """Copy the archive ``source`` to ``target``, ``change(members)`` editing ``{name: bytes}``;
    the members named in ``deflated`` compressed."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    change(members)
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data, zipfile.ZIP_DEFLATED if name in deflated else zipfile.ZIP_STORED)
    return target


def _edit_json(members, name, edit):
    data = json.loads(members[name])
    edit(data)
    members[name] = json.dumps(data).encode()


def _edited_state(source, tmp_path, edit):
    """A copy of the archive ``source`` whose state.json ``edit(state)`` changed."""
    return _rewrite(source, tmp_path / "edited.skmh", lambda members: _edit_json(members, "state.json", edit))


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)  # pickles an object array
    return buffer.getvalue()


class _Marker:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_payload_is_refused(saved, tmp_path):
    marker = tmp_path / "executed"

    def swap(members):
        members["arrays/0.npy"] = _npy(np.array([_Marker(str(marker))], dtype=object))

    with pytest.raises(skmultihead.UnsafeFileError, match="arrays/0.npy"):
        skmultihead.load(_rewrite(saved, tmp_path / "bad.skmh", swap))
    assert not marker.exists()

    def add(members):
        members["model.pkl"] = pickle.dumps(_Marker(str(marker)))

    with pytest.raises(skmultihead.UnsafeFileError, match="model.pkl"):
        skmultihead.load(_rewrite(saved, tmp_path / "extra.skmh", add))
    assert not marker.exists()


def test_an_unknown_class_is_refused(saved, tmp_path):
    def estimator(members):
        _edit_json(members, "metadata.json", lambda d: d.update({"class": "Popen"}))

    with pytest.raises(skmultihead.UnsafeFileError, match="'Popen'"):
        skmultihead.load(_rewrite(saved, tmp_path / "a.skmh", estimator))

    def other_estimator(members):  # a MultiLabelNN's state under another estimator's name
        _edit_json(members, "metadata.json", lambda d: d.update({"class": "MultiOutputNNClassifier"}))

    with pytest.raises(skmultihead.UnsafeFileError, match=r"not parameters of MultiOutputNNClassifier: the file's class"):
        skmultihead.load(_rewrite(saved, tmp_path / "b.skmh", other_estimator))

    nested = _edited_state(saved, tmp_path, lambda s: s["heads_"]["labels"].update({"class": "subprocess.Popen"}))
    with pytest.raises(skmultihead.UnsafeFileError, match="unknown class 'subprocess.Popen'"):
        skmultihead.load(nested)


def test_an_unknown_head_kind_is_refused(saved, tmp_path):
    edited = _edited_state(saved, tmp_path, lambda s: s["heads_"]["labels"]["state"].update({"kind_": "ranking"}))
    with pytest.raises(skmultihead.UnsafeFileError, match="kind 'ranking'"):
        skmultihead.load(edited)


def test_a_member_escaping_the_archive_is_refused(saved, tmp_path):
    inside = tmp_path / "inside"
    inside.mkdir()

    def escape(members):
        members["../escaped.npy"] = members.pop("arrays/0.npy")

    with pytest.raises(skmultihead.UnsafeFileError, match=r"\.\./escaped\.npy"):
        skmultihead.load(_rewrite(saved, inside / "a.skmh", escape))
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.skmh", "inside"]  # nothing written


@pytest.mark.parametrize("field, value, match", [("shape", [3, 2], "shape"), ("dtype", "<f2", "dtype")])
def test_an_array_unlike_its_description_is_refused(saved, tmp_path, field, value, match):
    edited = _edited_state(saved, tmp_path, lambda s: s["_parked"]["weights"][0].update({field: value}))
    with pytest.raises(skmultihead.UnsafeFileError, match=match):
        skmultihead.load(edited)


def test_a_newer_format_is_refused(saved, tmp_path):
    def newer(members):
        _edit_json(members, "metadata.json", lambda d: d.update({"format_version": 99}))

    with pytest.raises(skmultihead.UnsafeFileError, match="format version 99, newer"):
        skmultihead.load(_rewrite(saved, tmp_path / "a.skmh", newer))


def test_a_file_that_is_not_an_archive_is_refused(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(skmultihead.UnsafeFileError, match="not a zip archive"):
        skmultihead.load(path)


# -- files that lie: about sizes, Keras objects, numbers, the network -----------------------------------
def _claim_compressed_size(path, name, size):
    """Make the zip directory of ``path`` claim that member ``name`` takes ``size`` bytes compressed."""
    data = bytearray(path.read_bytes())
    count, _, offset = struct.unpack_from("<HII", data, data.rindex(b"PK\x05\x06") + 10)
    for _ in range(count):
        lengths = struct.unpack_from("<HHH", data, offset + 28)
        if data[offset + 46 : offset + 46 + lengths[0]] == name.encode():
            struct.pack_into("<I", data, offset + 20, size)
        offset += 46 + sum(lengths)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["arrays/0.npy", "arrays/999.npy", "state.json"])
def test_members_are_read_through_bounded_readers(saved, tmp_path, name):
    big = 64 * 2**20  # deflated to ~64 KB; the directory claims 1/50 of it, within the ratio once checked
    extra = {"__type__": "array", "index": 999, "dtype": "<f4", "shape": [big // 4]}

    def edit(members):  # arrays/999.npy as state.json describes it; arrays/0.npy or state.json, then 64 MiB more
        if name == "arrays/999.npy":
            _edit_json(members, "state.json", lambda s: s["history_"].update(extra=extra))
        more = b" " * big if name == "state.json" else bytes(big)
        members[name] = _npy(np.zeros(big // 4, "<f4")) if name == "arrays/999.npy" else members[name] + more

    path = _rewrite(saved, tmp_path / "bomb.skmh", edit, deflated=[name])
    _claim_compressed_size(path, name, big // 50)
    with pytest.raises(skmultihead.UnsafeFileError, match=rf"{name} decompresses to more than \d+ bytes"):
        skmultihead.load(path)


_DENSE = {"module": "keras.layers", "class_name": "Dense", "config": {"units": 3}, "build_config": {"input_shape": [3]}}
_ADAM = {"module": "keras.optimizers", "class_name": "Adam", "config": {"learning_rate": 0.01}}


@pytest.mark.parametrize("where, value, match", [
    ("optimizer", {"__type__": "keras", "config": _DENSE}, r"optimizer holds a Keras Dense; .* one of: optimizers"),
    ("optimizer", {"__type__": "keras_name", "kind": "layers", "name": "Dense"}, "a Keras 'layers' object"),
    ("optimizer", {"__type__": "keras", "config": {"module": "keras.losses", "class_name": "Huber", "config": {}}},
     r"optimizer holds a Keras Huber; .* one of: optimizers"),
    ("optimizer", {"__type__": "keras", "config": {**_ADAM, "config": {"learning_rate": _DENSE}}},
     r"optimizer holds a Keras Dense; .* an optimizer, loss"),
    ("loss", {"__type__": "keras", "config": _ADAM}, r"\['loss'\] holds a Keras Adam; .* one of: losses"),
])
def test_keras_objects_are_only_of_the_kinds_their_parameter_holds(saved, tmp_path, where, value, match):
    def edit(state):  # the estimator's optimizer, or its head's loss
        (state["heads_"]["labels"]["state"] if where == "loss" else state)[where] = value

    with pytest.raises(skmultihead.UnsafeFileError, match=match):
        skmultihead.load(_edited_state(saved, tmp_path, edit))


@pytest.mark.parametrize("dtype, number, match", [
    ("<f8", "1e400", "holds the number 1e400, which is not a finite float"),
    ("<f8", "-1E+999", "holds the number -1E"),
    ("<f2", "1e10", "float16 scalar at .* overflows"),
])
def test_numbers_beyond_a_float_are_refused_unless_tagged(fitted, tmp_path, dtype, number, match):
    fitted["ensemble"][0].save(tmp_path / "e.skmh")

    def edit(members):  # the regression head's mean, written as the JSON number given
        mean = {"__type__": "scalar", "dtype": dtype, "value": 1.2345e-67}
        _edit_json(members, "state.json", lambda s: s["heads_"]["age"]["state"].update(mean_=mean))
        members["state.json"] = members["state.json"].replace(b"1.2345e-67", number.encode())

    with pytest.raises(skmultihead.UnsafeFileError, match=match):
        skmultihead.load(_rewrite(tmp_path / "e.skmh", tmp_path / "a.skmh", edit))


@pytest.mark.parametrize("arrays, match", [
    pytest.param({0: np.zeros((13, 9))}, r"variable 0 has shape \(13, 9\); the network .* needs \(12, 8\)",
                 id="another kernel"),
    pytest.param({0: np.full((12, 8), np.nan)}, "network variable 0 holds non-finite values", id="nan weights"),
    pytest.param({1: np.ones(1)}, r"variable 1 has shape \(1,\); .* needs \(8,\)", id="a bias broadcast over 8 units"),
    pytest.param({0: np.ones((12, 9)), 1: np.ones(9), 2: np.ones((4, 9, 16))}, r"variable 0 has shape \(12, 9\); .* "
                 r"needs \(12, 8\)", id="the trunk's 8 units (hidden_layer_sizes=(8,)) made 9 in every variable"),
])
def test_network_variables_are_finite_and_shaped_as_the_parameters_say(saved, tmp_path, arrays, match):
    def edit(members):  # each array with its description and the plan's shape entry, all consistent
        state = json.loads(members["state.json"])
        for i, array in arrays.items():
            reference = state["_parked"]["weights"][i]
            members[f"arrays/{reference['index']}.npy"] = _npy(array.astype("<f4"))
            reference["shape"] = state["_forward_plan"]["shapes"][str(i)] = list(array.shape)
        members["state.json"] = json.dumps(state).encode()

    with pytest.raises(skmultihead.UnsafeFileError, match=match):
        skmultihead.load(_rewrite(saved, tmp_path / "a.skmh", edit))


def test_a_save_into_a_missing_folder_names_the_file_asked_for(fitted, tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "missing" / "m.skmh"))):
        fitted["tags"][0].save(tmp_path / "missing" / "m.skmh")


def test_persistence_imports_no_estimator_module():  # they import it: an import circle
    for module in ("_persistence", "_codec"):
        tree = ast.parse((pathlib.Path(skmultihead.__file__).parent / f"{module}.py").read_text())
        nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        imported = {n.module for n in nodes if getattr(n, "module", None)} | {a.name for n in nodes for a in n.names}
        assert not imported & {"_base", "_multioutput", "_multilabel", "_factored"}, (module, imported)


# -- skops, pickle -----------------------------------------------------------------------------------
def test_skops_round_trip_lists_only_this_packages_types(fitted, tmp_path):
    sio = pytest.importorskip("skops.io")
    est, X, Y = fitted["headlines"]
    sio.dump(est, tmp_path / "m.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "m.skops")
    assert untrusted and all(name.startswith("skmultihead.") for name in untrusted), untrusted
    loaded = sio.load(tmp_path / "m.skops", trusted=untrusted)
    _assert_same(_predictions(loaded, X, Y), _predictions(est, X, Y))


def test_pickle_keeps_the_network_as_plain_arrays(fitted):
    est, X, Y = fitted["factored"]
    state = est.__getstate__()
    assert "_lease" not in state and all(isinstance(w, np.ndarray) for w in state["_parked"]["weights"])
    restored = pickle.loads(pickle.dumps(est))
    _assert_same(_predictions(restored, X, Y), _predictions(est, X, Y))
    assert restored.model_ is not est.model_


def test_the_serving_example_predicts_the_same_without_frameworks(tmp_path):
    example = pathlib.Path(__file__).parents[1] / "examples" / "serve_penguins.py"
    command = [sys.executable, str(example), str(tmp_path), "--epochs", "2"]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "frameworks imported: none" in done.stdout
    assert done.stdout.count("predictions identical to the training process's: True") == 2


def test_callbacks_are_never_kept_in_a_file(saved, tmp_path):
    X, Y = make_social_media(60, random_state=0)
    est = MultiOutputNNClassifier(callbacks=[keras.callbacks.EarlyStopping(monitor="loss")], **QUICK).fit(X, Y)
    with pytest.raises(TypeError, match=r"cannot save parameter 'callbacks'.*set_params\(callbacks=None\)"):
        est.save(tmp_path / "m.skmh")

    backup = _edited_state(saved, tmp_path, lambda s: s.update(  # it would delete a folder when the estimator trains
        {"callbacks": [{"__type__": "keras_name", "kind": "callbacks", "name": "BackupAndRestore"}],
         "callbacks__backup_dir": str(tmp_path)}))
    with pytest.raises(skmultihead.UnsafeFileError, match="'callbacks'"):
        skmultihead.load(backup)


@pytest.mark.parametrize("case", ["private keras name", "deep nesting", "array bigger than its bytes", "runtime key"])
def test_malformed_files_are_refused_as_unsafe(saved, tmp_path, case):
    def edit(members):
        if case == "private keras name":
            _edit_json(members, "state.json", lambda s: s.update(
                {"optimizer": {"__type__": "keras_name", "kind": "optimizers", "name": "__builtins__"}}))
        elif case == "deep nesting":
            members["state.json"] = b"[" * 100_000 + b"]" * 100_000
        elif case == "array bigger than its bytes":
            buffer = io.BytesIO()
            np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False,
                                                          "shape": (100_000, 100_000)})

            def claim(state):
                reference = state["_parked"]["weights"][0]
                members[f"arrays/{reference['index']}.npy"] = buffer.getvalue()
                reference.update({"dtype": "<f4", "shape": [100_000, 100_000]})

            _edit_json(members, "state.json", claim)
        else:
            _edit_json(members, "state.json", lambda s: s.update({"_numpy_forward": None}))

    with pytest.raises(skmultihead.UnsafeFileError):
        skmultihead.load(_rewrite(saved, tmp_path / "bad.skmh", edit))
