"""Class weights of LogLoss and BinaryLogLoss, against scikit-learn's compute_class_weight /
compute_sample_weight, and in training (equal to the corresponding sample weights)."""

import numpy as np
import pytest

from nnlite import (
    LBFGS,
    SGD,
    Adam,
    BinaryLogLoss,
    Dense,
    Logistic,
    LogLoss,
    Sequential,
    Softmax,
    Tanh,
    gradcheck,
    train,
)

sk_cw = pytest.importorskip("sklearn.utils.class_weight")


def _data(seed=0, n=40, k=3):
    rng = np.random.RandomState(seed)
    labels = rng.choice(k, n, p=[0.6, 0.3, 0.1][:k] if k == 3 else None)
    labels[:k] = np.arange(k)
    p = rng.dirichlet(np.ones(k), n)
    return rng, labels, p


@pytest.mark.parametrize("class_weight", ["balanced", {0: 0.5, 2: 4.0}, {1: 0.0}])
@pytest.mark.parametrize("weighted", [False, True])
def test_logloss_rows_weigh_as_scikit_learn_combines_them(class_weight, weighted):
    rng, labels, p = _data()
    sw = rng.uniform(0.2, 3.0, len(labels)) if weighted else None
    classes = np.arange(3)
    ref = sk_cw.compute_class_weight(class_weight, classes=classes, y=labels, sample_weight=sw)
    rows = ref[labels] * (1.0 if sw is None else sw)          # LogisticRegression's product
    loss = LogLoss(class_weight=class_weight)
    assert loss.value(p, labels, sw) == pytest.approx(LogLoss().value(p, labels, rows),
                                                      rel=1e-13)
    np.testing.assert_allclose(loss.gradient(p, labels, sw), LogLoss().gradient(p, labels, rows),
                               rtol=1e-13)
    net = Sequential([Dense(3), Softmax()], n_in=2, random_state=0)
    X = rng.normal(size=(len(labels), 2))
    net.loss_and_grad(X, labels, loss, sample_weight=sw)
    np.testing.assert_allclose(loss.class_weight_, ref, rtol=1e-13)
    if sw is None and not isinstance(class_weight, str):
        np.testing.assert_allclose(ref[labels], sk_cw.compute_sample_weight(class_weight, labels))


def test_binary_log_loss_single_and_multi_output_against_scikit_learn():
    rng = np.random.RandomState(1)
    Y = (rng.uniform(size=(50, 3)) < [0.2, 0.5, 0.8]).astype(float)
    P = rng.uniform(0.05, 0.95, Y.shape)
    for cw in ("balanced", {0: 1.0, 1: 5.0}):
        sk = cw if isinstance(cw, str) else [cw] * 3
        rows = sk_cw.compute_sample_weight(sk, Y)                # product over the outputs
        loss = BinaryLogLoss(class_weight=cw)
        assert loss.value(P, Y) == pytest.approx(BinaryLogLoss().value(P, Y, rows), rel=1e-13)
        np.testing.assert_allclose(loss.gradient(P, Y), BinaryLogLoss().gradient(P, Y, rows),
                                   rtol=1e-13)
    per_column = [{1: 2.0}, {0: 3.0}, {0: 1.0, 1: 1.0}]
    rows = sk_cw.compute_sample_weight(per_column, Y)
    assert BinaryLogLoss(class_weight=per_column).value(P, Y) == pytest.approx(
        BinaryLogLoss().value(P, Y, rows), rel=1e-13)
    # one column with sample weights: compute_class_weight as LogisticRegression calls it
    sw = rng.uniform(0.5, 2.0, 50)
    ref = sk_cw.compute_class_weight("balanced", classes=np.array([0, 1]), y=Y[:, 0],
                                     sample_weight=sw)
    rows = ref[Y[:, 0].astype(int)] * sw
    assert BinaryLogLoss(class_weight="balanced").value(P[:, :1], Y[:, :1], sw) == pytest.approx(
        BinaryLogLoss().value(P[:, :1], Y[:, :1], rows), rel=1e-13)


@pytest.mark.filterwarnings("ignore:lbfgs failed to converge")  # a few iterations suffice here
@pytest.mark.parametrize("optimizer", [lambda: SGD(0.1), lambda: Adam(0.01),
                                       lambda: LBFGS(maxiter=15)],
                         ids=["sgd", "adam", "lbfgs"])
def test_training_with_class_weight_equals_training_with_the_sample_weights(optimizer):
    rng, labels, _ = _data(seed=2, n=90)
    X = rng.normal(size=(90, 4))
    sw = rng.uniform(0.5, 2.0, 90)
    ref = sk_cw.compute_class_weight("balanced", classes=np.arange(3), y=labels,
                                     sample_weight=sw)
    nets = [Sequential([Dense(5), Tanh(), Dense(3), Softmax()]) for _ in range(2)]
    kw = {} if isinstance(optimizer(), LBFGS) else {"epochs": 5, "batch_size": 16}
    train(nets[0], X, labels, LogLoss(class_weight="balanced"), optimizer(), sample_weight=sw,
          random_state=0, **kw)
    train(nets[1], X, labels, LogLoss(), optimizer(), sample_weight=sw * ref[labels],
          random_state=0, **kw)
    np.testing.assert_array_equal(nets[0].theta, nets[1].theta)


def test_binary_training_and_network_gradient_with_class_weight():
    rng = np.random.RandomState(3)
    X = rng.normal(size=(30, 2))
    Y = (X[:, :1] + 0.3 * rng.normal(size=(30, 1)) > 0.8).astype(float)
    a, b = (Sequential([Dense(4), Tanh(), Dense(1), Logistic()]) for _ in range(2))
    train(a, X, Y, BinaryLogLoss(class_weight={1: 4.0}), Adam(0.02), epochs=4, batch_size=8,
          random_state=0)
    train(b, X, Y, BinaryLogLoss(), Adam(0.02), epochs=4, batch_size=8, random_state=0,
          sample_weight=np.where(Y[:, 0] == 1, 4.0, 1.0))
    np.testing.assert_array_equal(a.theta, b.theta)
    report = gradcheck.check_network(a, X[:6], Y[:6], BinaryLogLoss(class_weight="balanced"),
                                     alpha=0.1)
    assert report.passed, str(report)


@pytest.mark.filterwarnings("ignore:lbfgs failed to converge")
def test_a_zero_class_weight_drops_that_class():
    rng, labels, _ = _data(seed=4, n=60)
    X = rng.normal(size=(60, 3))
    keep = labels != 1
    a, b = (Sequential([Dense(3), Softmax()]) for _ in range(2))
    train(a, X, labels, LogLoss(class_weight={1: 0.0}), LBFGS(maxiter=15), random_state=0)
    train(b, X, labels, LogLoss(), LBFGS(maxiter=15), sample_weight=keep.astype(float),
          random_state=0)
    np.testing.assert_array_equal(a.theta, b.theta)


@pytest.mark.parametrize("make, err, match", [
    (lambda: LogLoss(class_weight="auto"), TypeError, "class_weight must be a dict, 'balanced'"),
    (lambda: LogLoss(class_weight=[{0: 1.0}]), TypeError, "must be a dict, 'balanced' or None"),
    (lambda: LogLoss(class_weight={"a": 1.0}), TypeError, "keys must be class indices"),
    (lambda: LogLoss(class_weight={True: 1.0}), TypeError, "keys must be class indices"),
    (lambda: LogLoss(class_weight={0: -1.0}), ValueError, r"class_weight\[0\] must be a finite "
                                                          "number >= 0"),
    (lambda: LogLoss(class_weight={0: np.nan}), ValueError, "finite number >= 0"),
    (lambda: LogLoss(class_weight={0: np.inf}), ValueError, "finite number >= 0"),
    (lambda: LogLoss(class_weight={0: "2"}), ValueError, "finite number >= 0"),
    (lambda: BinaryLogLoss(class_weight={2: 1.0}), ValueError,
     r"label 2, which is not a class of y; the classes are \[0, 1\]"),
    (lambda: BinaryLogLoss(class_weight={0: 0.0, 1: 0}), ValueError, "every weight in "
                                                                     "class_weight is 0"),
    (lambda: BinaryLogLoss(class_weight=[]), ValueError, "empty list"),
])
def test_bad_class_weights_are_refused_at_construction(make, err, match):
    with pytest.raises(err, match=match):
        make()


def test_bad_class_weights_are_refused_against_the_target():
    rng, labels, p = _data()
    X = rng.normal(size=(len(labels), 2))
    net = Sequential([Dense(3), Softmax()])
    theta = None
    with pytest.raises(ValueError, match=r"label\(s\) \[3\], which are not classes of y; the "
                                         "classes are 0 to 2"):
        train(net, X, labels, LogLoss(class_weight={3: 2.0}), SGD(), epochs=1, random_state=0)
    with pytest.raises(ValueError, match="every sample has weight 0"):
        LogLoss(class_weight={0: 0.0, 1: 0.0, 2: 0.0}).value(p, labels)
    train(net, X, labels, LogLoss(), SGD(), epochs=1, random_state=0)
    theta = net.theta.copy()
    with pytest.raises(ValueError, match="every sample has weight 0"):  # and the model is kept
        train(net, X, labels, LogLoss(class_weight={0: 0, 1: 0, 2: 0}), SGD(), epochs=1)
    np.testing.assert_array_equal(net.theta, theta)
    with pytest.raises(ValueError, match="list of 1 dicts; y has 2 output column"):
        BinaryLogLoss(class_weight=[{1: 2.0}]).value(np.full((2, 2), 0.5), np.eye(2))
    with pytest.raises(ValueError, match="'balanced' is computed from the training target"):
        net._loss_and_grad(X, LogLoss().prepare_target(labels, 3), LogLoss(class_weight="balanced"))


def test_repr_and_balanced_with_soft_targets():
    assert repr(LogLoss(class_weight={1: 2})) == "LogLoss(class_weight={1: 2.0})"
    assert repr(BinaryLogLoss(False, "balanced")) == ("BinaryLogLoss(value_from_logits=False, "
                                                      "class_weight='balanced')")
    # rows of probabilities weigh the expected class weight sum_k y_k c_k
    y = np.array([[0.5, 0.5], [1.0, 0.0]])
    p = np.array([[0.3, 0.7], [0.6, 0.4]])
    rows = np.array([0.5 * 1.0 + 0.5 * 3.0, 1.0])
    assert LogLoss(class_weight={1: 3.0}).value(p, y) == pytest.approx(
        LogLoss().value(p, y, rows), rel=1e-15)


def test_a_batch_whose_rows_all_weigh_zero_stops_as_with_sample_weights():
    # documented pitfall (docs/losses.md), the same as zero sample weights and scikit-learn's
    rng = np.random.RandomState(5)
    X = rng.normal(size=(20, 3))
    y = np.r_[np.zeros(10, int), np.ones(10, int)]
    for loss, sw in ((LogLoss(class_weight={1: 0.0}), None),
                     (LogLoss(), np.r_[np.ones(10), np.zeros(10)])):
        net = Sequential([Dense(2), Softmax()], n_in=3, random_state=0)
        before = net.theta.copy()
        with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
            train(net, X, y, loss, SGD(0.1), sample_weight=sw, epochs=1, batch_size=10,
                  shuffle=False)
        np.testing.assert_array_equal(net.theta, before)
