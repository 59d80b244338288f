"""Docstring fragments shared by the estimators."""

TRUNK_PARAMETERS = """\
hidden_layer_sizes : tuple of int, default=(100,)
        Units of the shared trunk's dense layers.
    activation : str, default="relu"
        Activation of the hidden layers (any Keras activation name).
    dropout : float or tuple of float, default=0.0
        Dropout after each hidden layer: one rate for all, or one per layer."""

ARCHITECTURE_PARAMETERS = """\
inputs : dict, default=None
        ``{input name: columns}``: X's columns (names for a DataFrame X, integer indices)
        in named groups, each a ``keras.Input`` of that name read by its own branch. None:
        one input ``features`` with every column.
    remainder : {"error", "drop", "passthrough"}, default="error"
        What becomes of columns no input claims: an error, left out, or an input named
        ``remainder`` (dense).
    branches : dict, default=None
        ``{input name: branch}``: a `DenseBranch` (the default: the columns as they are),
        an `EmbeddingBranch` for integer token ids, or a callable
        ``f(keras_tensor) -> keras_tensor``. The branches' outputs are concatenated and fed
        to the trunk. Their parameters can be set as ``branches__<input>__<param>``.
    model : callable, default=None
        A custom trunk: ``model(inputs, **kwargs) -> keras tensor`` takes the dict of
        Keras input tensors by input name and returns the 2-D tensor the heads read, in
        place of the branches and the dense trunk (``hidden_layer_sizes`` and ``dropout``
        are then not used). Routed ``model__<kwarg>`` parameters are passed to it. It is
        called once per ensemble member, and must create new layers each time.
    aux_heads : dict, default=None
        Auxiliary outputs, ``{name: {"branch": input name or "trunk" (default), "target":
        head name (default: the only head), "weight": loss weight (default 1.0)}}``: an
        output layer of the target head's kind reading that branch's output, trained on
        the target head's targets. Its loss and metric are in ``history_``
        (``<name>_loss``); it is not part of `predict`, `predict_proba` or `score`, and
        `score_aux` scores it. Entries can be set as ``aux_heads__<name>__weight``.
    ensemble_size : int, default=1
        Independent members (branches, trunk and heads; layers named ``member<i>_...``)
        in one Keras graph, trained in one fit; each head's output is the members' mean
        (probabilities, or values for regression). `predict_members` returns each
        member's predictions, for their spread.
    ensemble_loss : {"members", "mean"}, default="members"
        What an ensemble is trained on. "members": each member's own loss (their mean), so
        each member is a model of its own, as in a deep ensemble. "mean": the loss of the
        averaged output, as a hand-built Keras model ending in ``Average()`` is; members
        then co-adapt and each alone is weaker. ``history_`` records both: ``<head>_loss``
        (the mean output) and ``member<i>_<head>_loss``; metrics are the mean output's."""

TRAINING_PARAMETERS = """\
missing_targets : {"error", "mask"}, default="error"
        A target value that is NaN, None or ``pd.NA``: an error naming the head ("error"),
        or ("mask") that head's label unknown for that row, which then trains and scores
        only the heads it has labels for (see the user guide, "Missing targets").
    optimizer : str, keras.optimizers.Optimizer class or instance, default="adam"
        Its arguments are routed: ``optimizer__learning_rate=1e-3``.
    epochs : int, default=100
        Passes over the training data.
    batch_size : int or "auto", default="auto"
        Rows per gradient step; "auto" is ``min(200, n_samples)``, as in scikit-learn's
        MLPClassifier.
    validation_split : float, default=0.0
        Fraction of the training rows (the last ones, as in Keras) held out to report
        ``val_*`` in ``history_``. ``fit(X, y, validation_data=(X_val, y_val))`` gives
        validation rows of their own.
    early_stopping : bool, default=False
        As in scikit-learn's MLP: hold out ``validation_fraction`` of the training rows
        (stratified on a single classification head), stop when the validation score has
        not improved by ``tol`` for ``n_iter_no_change`` epochs, and keep the weights of
        the best epoch. ``partial_fit`` refuses it.
    validation_fraction : float, default=0.1
        The rows held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before stopping.
    tol : float, default=1e-4
        The improvement of the validation score that counts.
    scoring : str or callable, default="loss"
        Early stopping's validation score (higher is better): ``"loss"`` (the negated
        weighted validation loss), a scikit-learn scorer name, or a scorer such as
        ``head_scorer(head, metric)``.
    shuffle : bool, default=True
        Shuffle the rows before each epoch.
    callbacks : list of keras.callbacks.Callback, default=None
        Keras callbacks, called at train and epoch begin and end; a callback class is
        built from routed arguments (``callbacks=[EarlyStopping], callbacks__0__patience=3``).
        A callback that overrides a batch-level hook (``on_train_batch_end``, ...) makes
        the fit run through Keras's slower ``fit``, over the same batches.
    warm_start : bool, default=False
        Continue training the fitted network on the next ``fit`` instead of building a new one,
        at the learning rate set now; parameters that would build another network are refused.
    random_state : int, RandomState or None, default=None
        Seeds the initial weights, dropout and shuffling: two fits with the same int give
        the same predictions. Global random generators are never seeded.
    verbose : int, default=0
        1 prints one line per epoch with each head's losses and metrics.
    run_eagerly : bool, default=False
        Train through Keras's ``fit`` with the train step run eagerly (for debugging).
    steps_per_execution : int or "auto", default="auto"
        Batches per call of the compiled train step: with JAX, of the training loop's
        function; when training runs through Keras's ``fit``, Keras's ``compile``
        argument (batch-level callbacks then see one update per call). With TensorFlow
        the loop runs a whole epoch per call. Training is the same for any value. "auto"
        is 1 with the PyTorch backend (which supports only 1) or a callback with
        batch-level hooks, otherwise 64. Decided when the network is built.
    jit_compile : bool or "auto", default="auto"
        With TensorFlow, whether XLA compiles each epoch of the training loop as one
        program: far faster on small networks, after a compile of about a second per
        network, batch size and power-of-two number of rows (its rows are padded to one).
        "auto" uses it where the network allows (no BatchNormalization, no layer XLA
        cannot compile, Keras's train step); True raises an error where it does not.
        JAX always compiles by XLA; PyTorch ignores it.
    **kwargs
        Routed parameters, as in scikeras: ``optimizer__*``, ``fit__*`` (``fit__shuffle``,
        ``fit__validation_freq``, ``fit__validation_batch_size``, ...), ``callbacks__*``. Anything else is an error at fit, with a
        suggestion."""

COMMON_ATTRIBUTES = """\
model_ : keras.Model
        The trained network; one output per head, named after it. Once read, it is
        yours: no other fit re-initialises or trains it (an estimator whose ``model_``
        was never read gives its network to later fits of the same architecture when
        it is refitted with another or garbage-collected).
    heads_ : dict of str to Head
        The fitted head of each name (kind, classes, target scaling).
    history_ : dict of str to list of float
        Keras's loss and metrics per epoch: ``loss``, ``<head>_loss``,
        ``<head>_accuracy`` (classification) or ``<head>_mae`` (regression, on the
        standardized target), and ``val_*`` with validation. With one head, Keras
        leaves out the head's name (``loss``, ``accuracy``).
    n_iter_ : int
        Epochs trained so far.
    loss_curve_ : list of float
        The training loss of each epoch (``history_["loss"]``).
    validation_scores_ : list of float or None
        With ``early_stopping``, the validation score of each epoch of the last fit.
    best_validation_score_ : float or None
        With ``early_stopping``, the best of them (its epoch's weights are kept).
    input_columns_ : dict of str to list of int
        X's column indices read by each input.
    aux_heads_ : tuple of AuxHead
        The auxiliary heads (name, source, target, weight).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of the features seen during fit, when X was a DataFrame."""
