"""save / load: round trips, other backends, no framework, hostile files, skops."""

import io
import json
import os
import pickle
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

    @keras.saving.register_keras_serializable(package="tests_persistence")
    def trunk(inputs):
        return keras.layers.Dense(4, activation="relu")(inputs["features"])

    est = MultiOutputNNClassifier(model=trunk, optimizer=keras.optimizers.Adam(0.01), **QUICK).fit(X, Y)
    est.save(path)
    loaded = skmultihead.load(path)
    assert loaded.model is trunk and float(loaded.optimizer.learning_rate) == pytest.approx(0.01)
    pd.testing.assert_frame_equal(loaded.predict(X), est.predict(X))


# -- hostile files: each refused with a clear error, nothing executed or written ----------------------
@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "tags.skmh"
    fitted["tags"][0].save(path)
    return path


def _rewrite(source, target, change):
    """Copy the archive ``source`` to ``target``, ``change(members)`` editing ``{name: bytes}``."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    change(members)
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def _edit_json(members, name, edit):
    data = json.loads(members[name])
    edit(data)
    members[name] = json.dumps(data).encode()


class _Marker:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_payload_is_refused(saved, tmp_path):
    marker = tmp_path / "executed"
    buffer = io.BytesIO()
    np.save(buffer, np.array([_Marker(str(marker))], dtype=object), allow_pickle=True)

    def swap(members):
        members["arrays/0.npy"] = buffer.getvalue()

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

    def nested(members):
        def edit(state):
            state["heads_"]["labels"]["class"] = "subprocess.Popen"

        _edit_json(members, "state.json", edit)

    with pytest.raises(skmultihead.UnsafeFileError, match="unknown class 'subprocess.Popen'"):
        skmultihead.load(_rewrite(saved, tmp_path / "b.skmh", nested))


def test_an_unknown_head_kind_is_refused(saved, tmp_path):
    def kind(members):
        _edit_json(members, "state.json", lambda s: s["heads_"]["labels"]["state"].update({"kind_": "ranking"}))

    with pytest.raises(skmultihead.UnsafeFileError, match="kind 'ranking'"):
        skmultihead.load(_rewrite(saved, tmp_path / "a.skmh", kind))


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
    def edit(members):
        def change(state):
            state["_parked"]["weights"][0][field] = value

        _edit_json(members, "state.json", change)

    with pytest.raises(skmultihead.UnsafeFileError, match=match):
        skmultihead.load(_rewrite(saved, tmp_path / "a.skmh", edit))


def test_weights_of_the_wrong_shape_for_the_network_are_refused(saved, tmp_path):
    def edit(members):
        with zipfile.ZipFile(saved) as archive:
            state = json.loads(archive.read("state.json"))
        reference = state["_parked"]["weights"][0]
        wrong = np.zeros([n + 1 for n in reference["shape"]], dtype=reference["dtype"])
        buffer = io.BytesIO()
        np.save(buffer, wrong)
        members[f"arrays/{reference['index']}.npy"] = buffer.getvalue()
        _edit_json(members, "state.json", lambda s: s["_parked"]["weights"][0].update({"shape": list(wrong.shape)}))

    with pytest.raises(skmultihead.UnsafeFileError, match="network variable 0 should have shape"):
        skmultihead.load(_rewrite(saved, tmp_path / "a.skmh", edit))


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
    import pathlib

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

    def backup(members):  # a callback that would delete a folder when the loaded estimator trains
        _edit_json(members, "state.json", lambda s: s.update(
            {"callbacks": [{"__type__": "keras_name", "kind": "callbacks", "name": "BackupAndRestore"}],
             "callbacks__backup_dir": str(tmp_path)}))

    with pytest.raises(skmultihead.UnsafeFileError, match="'callbacks'"):
        skmultihead.load(_rewrite(saved, tmp_path / "b.skmh", backup))


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
