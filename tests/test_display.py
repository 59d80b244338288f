"""HistoryDisplay draws what history_ holds."""

import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from skmultihead import FactoredLabelNN, HistoryDisplay, MultiLabelNN, MultiOutputNNClassifier
from skmultihead.datasets import make_social_media, make_tagged_items

QUICK = dict(hidden_layer_sizes=(8,), epochs=3, random_state=0)


@pytest.fixture(scope="module")
def fitted():
    X, Y = make_social_media(200, random_state=0)
    return MultiOutputNNClassifier(validation_split=0.25, aux_heads={"aux": {"target": "gender"}}, **QUICK).fit(X, Y)


def test_each_head_and_metric_is_drawn_from_history(fitted):
    display = HistoryDisplay.from_estimator(fitted)
    assert [ax.get_title() for ax in display.ax_] == ["loss", "accuracy", "mae"]
    assert display.figure_ is display.ax_[0].figure
    history = fitted.history_
    for (head, metric, part), line in display.lines_.items():
        key = f"{'val_' if part == 'validation' else ''}{head}_{metric}"
        np.testing.assert_allclose(line.get_ydata(), history[key])
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    assert {(h, m) for h, m, _ in display.lines_} == {
        ("age", "loss"), ("income", "loss"), ("gender", "loss"), ("aux", "loss"),
        ("income", "accuracy"), ("gender", "accuracy"), ("aux", "accuracy"), ("age", "mae"),
    }
    assert display.lines_["income", "loss", "validation"].get_linestyle() == "--"
    plt.close("all")


def test_chosen_heads_metrics_and_axes(fitted):
    _, axes = plt.subplots(1, 1)
    display = HistoryDisplay.from_estimator(fitted, heads=["gender"], metrics=["accuracy"], ax=[axes])
    assert display.ax_[0] is axes and set(display.lines_) == {("gender", "accuracy", "train"),
                                                               ("gender", "accuracy", "validation")}
    with pytest.raises(ValueError, match=r"\['gendr'\] are not heads of the network"):
        HistoryDisplay.from_estimator(fitted, heads=["gendr"])
    with pytest.raises(ValueError, match="ax has 1 axes for 2 metrics"):
        HistoryDisplay.from_estimator(fitted, heads=["gender"], metrics=["loss", "accuracy"], ax=[axes])
    plt.close("all")


def test_one_output_network_and_factored_heads():
    X, Y = make_social_media(150, random_state=0)
    single = MultiOutputNNClassifier(**QUICK).fit(X, Y["gender"])
    display = HistoryDisplay.from_estimator(single)
    np.testing.assert_allclose(display.lines_["gender", "accuracy", "train"].get_ydata(), single.history_["accuracy"])
    joint = Y["gender"].astype(str) + "_" + Y["income"].astype(str)
    factored = FactoredLabelNN(separator="_", factor_names=["gender", "income"], **QUICK).fit(X, joint)
    display = HistoryDisplay.from_estimator(factored, heads=["joint"], metrics=["loss"])
    np.testing.assert_allclose(display.lines_["joint", "loss", "train"].get_ydata(), factored.history_["joint_loss"])
    plt.close("all")


def test_without_matplotlib_the_error_says_what_to_install(fitted, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "skmultihead\[plot\]"'):
        HistoryDisplay.from_estimator(fitted)


def test_the_penguins_heads_tour_writes_its_pictures(tmp_path):
    import pathlib
    import subprocess

    example = pathlib.Path(__file__).parents[1] / "examples" / "penguins_heads.py"
    done = subprocess.run([sys.executable, str(example), str(tmp_path), "--epochs", "2"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    for picture in ("learning_curves", "sex_roc", "species_confusion", "body_mass_errors", "sex_calibration"):
        assert (tmp_path / f"{picture}.png").stat().st_size > 10_000, picture
    assert "out-of-fold predictions (DataFrame, columns ['species', 'sex', 'body_mass_g'])" in done.stdout


def test_heads_whose_names_prefix_each_other_and_ensemble_members():
    X, Y = make_social_media(150, random_state=0)
    Y = Y.assign(age_group=np.where(Y["age"] > 40, "old", "young"))[["age", "age_group"]]
    est = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    display = HistoryDisplay.from_estimator(est)
    assert set(display.curves_) == {("age", "loss"), ("age", "mae"), ("age_group", "loss"), ("age_group", "accuracy")}
    Xm, Ym = make_tagged_items(100, n_features=8, n_labels=3, n_informative=3, random_state=0)
    ensemble = MultiLabelNN(ensemble_size=2, **QUICK).fit(Xm, Ym)
    display = HistoryDisplay.from_estimator(ensemble)
    assert set(display.curves_) == {("labels", "loss"), ("labels", "accuracy")}
    np.testing.assert_allclose(display.lines_["labels", "loss", "train"].get_ydata(), ensemble.history_["labels_loss"])
    plt.close("all")
