"""Displays: learning curves of a fitted estimator, in scikit-learn's Display conventions."""

import numpy as np


class HistoryDisplay:
    """Training curves per head: each head's loss and metrics over the epochs, on the
    training rows (solid) and the validation rows (dashed) where ``history_`` has them.

    Build it with `from_estimator`; `plot` draws it (matplotlib: ``pip install
    "skmultihead[plot]"``).

    Parameters
    ----------
    history : dict of str to list of float
        An estimator's ``history_``.
    outputs : list of str
        The network's outputs (heads and auxiliary heads), as in ``history_``'s keys: a
        network with one output logs ``loss`` and its metrics without the output's name.
    heads : list of str, optional
        The heads to draw; default: every output.
    metrics : list of str, optional
        The metrics to draw, one panel each (``"loss"``, ``"accuracy"``, ``"mae"``, ...);
        default: the loss and every metric the heads logged.

    Attributes
    ----------
    curves_ : dict
        ``{(head, metric): (training values, validation values or None)}``, what is drawn.
    figure_ : matplotlib.figure.Figure
        Set by `plot`.
    ax_ : ndarray of matplotlib.axes.Axes
        One panel per metric; set by `plot`.
    lines_ : dict
        ``{(head, metric, "train" or "validation"): Line2D}``; set by `plot`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skmultihead import HistoryDisplay, MultiOutputNNClassifier
    >>> from skmultihead.datasets import make_social_media
    >>> X, Y = make_social_media(200, random_state=0)
    >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=3, validation_split=0.2,
    ...                               random_state=0).fit(X, Y)
    >>> display = HistoryDisplay.from_estimator(est, heads=["income", "gender"])
    >>> [ax.get_title() for ax in display.ax_]
    ['loss', 'accuracy']
    >>> len(display.lines_[("income", "loss", "validation")].get_ydata())
    3
    """

    def __init__(self, history, outputs, *, heads=None, metrics=None):
        self.history, self.outputs = history, list(outputs)
        self.heads = self.outputs if heads is None else list(heads)
        unknown = [h for h in self.heads if h not in self.outputs]
        if unknown:
            raise ValueError(f"HistoryDisplay: {unknown} are not heads of the network; its heads are {self.outputs}.")
        if metrics is None:
            metrics = ["loss", *sorted({m for h in self.heads for m in self._logged(h)} - {"loss"})]
        self.metrics = list(metrics)
        self.curves_ = {}
        for head in self.heads:
            for metric in self.metrics:
                key = self._key(head, metric)
                if key in history:
                    self.curves_[head, metric] = (list(history[key]), history.get(f"val_{key}"))
        if not self.curves_:
            raise ValueError(
                f"HistoryDisplay: history_ logs none of metrics {self.metrics} for heads {self.heads}; "
                f"it has {sorted(history)}."
            )

    def _key(self, head, metric):
        return metric if len(self.outputs) == 1 else f"{head}_{metric}"

    def _logged(self, head):
        """Metrics ``history`` logs for ``head`` on the training rows: keys ``<output>_<metric>``,
        each read with the longest output name it starts with (``age`` and ``age_group``)."""
        keys = [k for k in self.history if not k.startswith("val_")]
        if len(self.outputs) == 1:
            return keys
        logged = []
        for key in keys:
            owners = [o for o in self.outputs if key.startswith(f"{o}_")]
            if owners and max(owners, key=len) == head:
                logged.append(key[len(head) + 1 :])
        return logged

    @classmethod
    def from_estimator(cls, estimator, *, heads=None, metrics=None, ax=None):
        """Draw the learning curves of a fitted estimator.

        Parameters
        ----------
        estimator : fitted MultiOutputNNClassifier, MultiLabelNN or FactoredLabelNN
            Its ``history_`` is drawn.
        heads : list of str, optional
            Network outputs to draw (heads of MultiOutputNNClassifier, ``"labels"`` of
            MultiLabelNN, factors and ``"joint"`` of FactoredLabelNN, auxiliary heads);
            default: all.
        metrics : list of str, optional
            Metrics to draw, one panel each; default: the loss and every metric logged.
        ax : array-like of matplotlib Axes, optional
            One per metric; default: a new figure with a row of panels.

        Returns
        -------
        HistoryDisplay
            With ``figure_``, ``ax_`` and ``lines_`` set.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from skmultihead import HistoryDisplay, MultiLabelNN
        >>> from skmultihead.datasets import make_tagged_items
        >>> X, Y = make_tagged_items(200, n_features=20, n_labels=4, random_state=0)
        >>> est = MultiLabelNN(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> sorted(HistoryDisplay.from_estimator(est).curves_)
        [('labels', 'accuracy'), ('labels', 'loss')]
        """
        if heads is None:
            heads = [*estimator.heads_, *(aux.name for aux in estimator.aux_heads_)]
        outputs = list(estimator._network.output_names)  # ensemble members' outputs too
        return cls(estimator.history_, outputs, heads=heads, metrics=metrics).plot(ax=ax)

    def plot(self, ax=None):
        """Draw the curves: one panel per metric, one colour per head.

        Parameters
        ----------
        ax : array-like of matplotlib Axes, optional
            One per metric; default: a new figure with a row of panels.

        Returns
        -------
        self : HistoryDisplay
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as error:
            raise ImportError(
                'HistoryDisplay draws with matplotlib, which is not installed: pip install "skmultihead[plot]".'
            ) from error
        metrics = [m for m in self.metrics if any(key[1] == m for key in self.curves_)]
        if ax is None:
            figure, ax = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.5), squeeze=False)
        self.ax_ = np.ravel(ax)
        if len(self.ax_) != len(metrics):
            raise ValueError(f"HistoryDisplay.plot: ax has {len(self.ax_)} axes for {len(metrics)} metrics {metrics}.")
        self.figure_ = self.ax_[0].figure
        self.lines_ = {}
        colours = {head: f"C{i}" for i, head in enumerate(self.heads)}
        for panel, metric in zip(self.ax_, metrics):
            for (head, name), (train, validation) in self.curves_.items():
                if name != metric:
                    continue
                epochs = np.arange(1, len(train) + 1)
                (self.lines_[head, metric, "train"],) = panel.plot(epochs, train, color=colours[head], label=head)
                if validation is not None:
                    (self.lines_[head, metric, "validation"],) = panel.plot(
                        epochs, validation, color=colours[head], linestyle="--", label=f"{head} (validation)"
                    )
            panel.set_title(metric)
            panel.set_xlabel("epoch")
            panel.legend(fontsize="small")
        return self
