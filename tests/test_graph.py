"""Graph models: random DAGs against finite differences, chains against Sequential bit for
bit, shared layers, several inputs, nesting, persistence, summaries and bad input."""

import copy
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnlite import (
    LBFGS,
    SGD,
    Adam,
    Add,
    Concatenate,
    Dense,
    Graph,
    Identity,
    Input,
    Layer,
    LogLoss,
    Multiply,
    ReLU,
    Sequential,
    Softmax,
    SquaredError,
    Tanh,
    gradcheck,
    load,
    save,
    train,
)
from nnlite.params import ParamSpec
from tests.strategies import graph_cases, junk


def _residual(n_in=6, width=8, n_out=3, seed=0):
    x = Input(n_in)
    h = ReLU()(Dense(width)(x))
    h = Add()([h, ReLU()(Dense(width)(h))])
    return Graph(inputs=x, outputs=Softmax()(Dense(n_out)(h)), random_state=seed)


def _two_inputs(seed=0, shared=True):
    """Two inputs; one Dense called on both branches when ``shared``."""
    a, b = Input(3), Input(4, name="meta")
    d = Dense(5)
    ha = Tanh()(d(a))
    hb = Tanh()((d if shared else Dense(5))(Tanh()(Dense(3)(b))))
    h = Multiply()([Concatenate()([ha, hb]), Concatenate()([hb, ha])])
    return Graph([a, b], Dense(2)(Add()([Dense(4)(h), Dense(4)(h)])), random_state=seed)


def _data(n=20, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.normal(size=(n, 3)), rng.normal(size=(n, 4))], rng.normal(size=(n, 2))


# ----- gradients ---------------------------------------------------------------------------
@given(case=graph_cases())
def test_random_graphs_match_finite_differences(case):
    net, xs, y = case.net, case.xs, case.y
    x = xs if len(xs) > 1 else xs[0]
    report = gradcheck.check_network(net, x, y, SquaredError(), alpha=0.3)
    assert report.passed, str(report)
    assert report.n_checked == net.theta.size
    # the input gradients too (the graph as a layer), and cheap directional checks
    report = gradcheck.check_layer(net, x)
    assert report.passed, str(report)
    assert report.n_checked == sum(a.size for a in xs) + net.theta.size
    assert gradcheck.check_network_directional(net, x, y, SquaredError(), n_directions=2).passed


def _tied(shared):
    """Two inputs through one Dense (``shared``) or through two Dense layers."""
    a, b = Input(3), Input(3)
    d1 = Dense(4)
    d2 = d1 if shared else Dense(4)
    head = Dense(2)
    out = head(Concatenate()([Tanh()(d1(a)), Tanh()(d2(Tanh()(b)))]))
    return Graph([a, b], out, random_state=0).build(), d1, d2, head


def test_shared_layer_adds_the_gradient_of_each_use():
    net = _two_inputs()
    xs, y = _data(6)
    gradcheck.assert_network_gradients(net, xs, y, SquaredError(), alpha=0.1)
    # one copy of the shared weights in theta: the same graph without sharing holds one more
    assert net.build().theta.size + 3 * 5 + 5 == _two_inputs(shared=False).build().theta.size
    # the shared gradient is the sum of the gradients of two untied copies of equal weights
    shared, d, _, head = _tied(True)
    untied, d1, d2, head2 = _tied(False)
    for layer in (d1, d2):
        for k in layer.params:
            layer.params[k][...] = d.params[k]
    for k in head.params:
        head2.params[k][...] = head.params[k]
    xs = [x[:, :3] for x in xs]
    v1, _ = shared.loss_and_grad(xs, y, SquaredError())
    v2, _ = untied.loss_and_grad(xs, y, SquaredError())
    assert v1 == pytest.approx(v2, rel=1e-14)
    for k in d.grads:
        np.testing.assert_allclose(d.grads[k], d1.grads[k] + d2.grads[k], rtol=1e-12,
                                   atol=1e-15)


def test_user_written_layer_with_two_inputs():
    class Gate(Layer):
        """``a * s + b``: a learnable scale on the first input, added to the second."""

        n_inputs = 2

        def param_specs(self, n_in):
            return [ParamSpec("s", (n_in[0],), penalized=False)]

        def output_width(self, n_in):
            if n_in[0] != n_in[1]:
                raise ValueError(f"Gate: widths {list(n_in)} differ")
            return n_in[0]

        def reset_parameters(self, rng):
            self.params["s"][...] = rng.uniform(0.5, 1.5, self.n_in[0])

        def forward(self, xs, train=True):
            self._a = xs[0] if train else None
            return xs[0] * self.params["s"] + xs[1]

        def backward(self, grad_out):
            np.sum(grad_out * self._a, axis=0, out=self.grads["s"])
            return [grad_out * self.params["s"], grad_out.copy()]

    a, b = Input(3), Input(3)
    net = Graph([a, b], Dense(2)(Gate()([Tanh()(Dense(3)(a)), b])), random_state=1)
    xs, _ = _data(5)
    xs[1] = xs[1][:, :3].copy()
    y = np.random.RandomState(2).normal(size=(5, 2))
    gradcheck.assert_network_gradients(net, xs, y, SquaredError())
    gradcheck.assert_layer_gradients(net, xs)
    with pytest.raises(ValueError, match=r"Gate: widths \[3, 4\] differ"):
        Gate()([a, Input(4)])


# ----- a chain is a Sequential --------------------------------------------------------------
def _chain_pair(layers_of, n_in, seed):
    seq = Sequential(layers_of(), random_state=seed)
    x = node = Input(n_in)
    for layer in layers_of():
        node = layer(node)
    return seq, Graph(x, node, random_state=seed)


CHAINS = {
    "relu-softmax": (lambda: [Dense(16), ReLU(), Dense(8), ReLU(), Dense(3), Softmax()],
                     LogLoss()),
    "tanh-identity": (lambda: [Dense(7), Tanh(), Dense(2), Identity()], SquaredError()),
}


@pytest.mark.filterwarnings("ignore::nnlite.ConvergenceWarning")  # short L-BFGS runs
@pytest.mark.parametrize("chain", sorted(CHAINS))
@pytest.mark.parametrize("optimizer", ["adam", "sgd", "lbfgs"])
def test_chain_graph_equals_sequential_bit_for_bit(chain, optimizer):
    layers_of, loss = CHAINS[chain]
    rng = np.random.RandomState(3)
    X = rng.normal(size=(230, 5))
    y = rng.randint(0, 3, 230) if isinstance(loss, LogLoss) else rng.normal(size=(230, 2))
    seq, graph = _chain_pair(layers_of, 5, seed=4)
    assert graph._chain
    np.testing.assert_array_equal(graph.forward(X), seq.forward(X))
    yt = loss.prepare_target(y, seq.n_out)
    v1, g1 = seq.loss_and_grad(X, yt, loss, alpha=1e-3)
    v2, g2 = graph.loss_and_grad(X, yt, loss, alpha=1e-3)
    assert v1 == v2
    np.testing.assert_array_equal(g1, g2)
    assert list(seq.named_parameters()) == list(graph.named_parameters())
    opt = {"adam": lambda: Adam(1e-2), "sgd": lambda: SGD(0.05, momentum=0.9),
           "lbfgs": lambda: LBFGS(maxiter=30)}[optimizer]
    kwargs = {} if optimizer == "lbfgs" else {"epochs": 3, "batch_size": 50}
    h1 = train(seq, X, y, loss, opt(), alpha=1e-4, random_state=5, **kwargs)
    h2 = train(graph, X, y, loss, opt(), alpha=1e-4, random_state=5, **kwargs)
    np.testing.assert_array_equal(graph.theta, seq.theta)
    assert h1.loss_curve == h2.loss_curve and h1.loss == h2.loss
    np.testing.assert_array_equal(graph.predict(X), seq.predict(X))


def test_chain_graph_records_the_fast_step():
    seq, graph = _chain_pair(CHAINS["relu-softmax"][0], 5, seed=0)
    X = np.random.RandomState(0).normal(size=(40, 5))
    y = np.eye(3)[np.arange(40) % 3]
    graph.build()
    for _ in range(2):  # the same batch array twice: the step is recorded
        graph._loss_and_grad(X, y, LogLoss())
    assert graph.__dict__.get("_step_program") is not None
    assert _residual()._chain is False
    # large predictions take the row-blocked path, with the Sequential's bits
    from nnlite.models import _rowblocks

    seq, graph = _chain_pair(lambda: [Dense(128), ReLU(), Dense(64), Tanh(), Dense(16),
                                      Softmax()], 50, seed=1)
    seq.build(50)
    graph.build()
    big = np.random.RandomState(1).normal(size=(5000, 50))
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        assert _rowblocks.block_rows(graph, big) == _rowblocks.block_rows(seq, big) > 0
        np.testing.assert_array_equal(graph.predict(big), seq.predict(big))


# ----- several inputs, training ---------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::nnlite.ConvergenceWarning")
def test_two_input_graph_trains_with_every_optimizer():
    xs, y = _data(60)
    for opt, kwargs in ((Adam(0.01), {"epochs": 5, "batch_size": 16}),
                        (SGD(0.01), {"epochs": 5, "batch_size": 16}),
                        (LBFGS(maxiter=20), {})):
        net = _two_inputs()
        h = train(net, xs, y, SquaredError(), opt, random_state=0, **kwargs)
        assert h.loss < SquaredError().value(_two_inputs().forward(xs), y)
    # tuples work too, and validation data with two inputs
    net = _two_inputs()
    h = train(net, tuple(xs), y, SquaredError(), Adam(0.01), epochs=3, random_state=0,
              validation_data=([a[:10] for a in xs], y[:10]))
    assert len(h.validation_scores) == 3


def test_seeded_training_of_a_graph_is_reproducible_and_rolls_back_on_failure():
    xs, y = _data(40)
    a, b = _two_inputs(), _two_inputs()
    train(a, xs, y, SquaredError(), Adam(0.01), epochs=3, batch_size=8, random_state=7)
    train(b, xs, y, SquaredError(), Adam(0.01), epochs=3, batch_size=8, random_state=7)
    np.testing.assert_array_equal(a.theta, b.theta)
    before = a.theta.copy()
    with pytest.raises(ValueError, match="non-finite"):
        train(a, [x * 1e300 for x in xs], y * 1e300, SquaredError(), SGD(10.0), epochs=2,
              random_state=0)
    np.testing.assert_array_equal(a.theta, before)


def test_float32_and_astype():
    xs, y = _data(10)
    net = _two_inputs()
    out = net.forward(xs)
    net32 = copy.deepcopy(net).astype(np.float32)
    assert net32.theta.dtype == np.float32
    np.testing.assert_allclose(net32.forward([x.astype(np.float32) for x in xs]), out,
                               rtol=1e-5, atol=1e-6)
    fresh = _two_inputs()
    fresh.forward([x.astype(np.float32) for x in xs])
    assert fresh.dtype == np.float32


# ----- nesting -------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::nnlite.ConvergenceWarning")
def test_graph_inside_sequential_and_sequential_inside_graph():
    x = Input(4)
    inner = Sequential([Dense(4), Tanh()])
    g = Graph(x, Add()([inner(x), Dense(4)(x)]))
    assert not g.built and not inner.built
    outer = Sequential([Dense(4), Tanh(), g, Dense(2)], random_state=0)
    X = np.random.RandomState(0).normal(size=(8, 3))
    y = np.random.RandomState(1).normal(size=(8, 2))
    gradcheck.assert_network_gradients(outer, X, y, SquaredError(), alpha=0.1)
    assert "2.0.0.W" in outer.named_parameters()  # outer layer 2 -> graph layer 0 -> Dense
    for view in g.params.values():
        assert np.shares_memory(view, outer.theta)
    h = train(outer, X, y, SquaredError(), LBFGS(maxiter=10), random_state=0)
    assert np.isfinite(h.loss)
    # a graph with two inputs inside a graph
    a, b = Input(3), Input(4)
    two = _two_inputs()
    top = Graph([a, b], Dense(1)(Tanh()(two([Dense(3)(a), b]))), random_state=0)
    xs, _ = _data(6)
    gradcheck.assert_network_gradients(top, xs, y[:6, :1], SquaredError())


def test_a_graph_cannot_be_called_at_two_nodes_and_sequential_refuses_merges():
    x = Input(2)
    g = Graph(x, Dense(2)(x))
    y = Input(2)
    with pytest.raises(ValueError, match=r"the network Graph\(input=2\) is called at two nodes"):
        Graph(y, g(g(y)))
    with pytest.raises(ValueError, match=r"layers\[1\] \(Add\) takes several inputs"):
        Sequential([Dense(2), Add()])
    d = Dense(2)
    with pytest.raises(ValueError, match=r"layers\[1\] is the same object as layers\[0\]"):
        Sequential([d, d])


# ----- persistence ----------------------------------------------------------------------------
def test_save_load_pickle_deepcopy(tmp_path):
    xs, y = _data(12)
    net = _two_inputs()
    train(net, xs, y, SquaredError(), Adam(0.01), epochs=2, batch_size=4, random_state=0)
    out = net.predict(xs)
    path = tmp_path / "g.nnlite"
    save(net, path)
    for other in (load(path), pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        assert isinstance(other, Graph) and not np.shares_memory(other.theta, net.theta)
        np.testing.assert_array_equal(other.theta, net.theta)
        np.testing.assert_array_equal(other.predict(xs), out)
        # the shared layer is still shared, and training continues the same way
        assert len(other.layers) == len(net.layers)
        gradcheck.assert_network_gradients_directional(other, xs, y, SquaredError())
    a, b = copy.deepcopy(net), load(path)
    for m in (a, b):
        train(m, xs, y, SquaredError(), SGD(0.01), epochs=1, batch_size=4, random_state=1)
    np.testing.assert_array_equal(a.theta, b.theta)
    unbuilt = _two_inputs(seed=3)
    save(unbuilt, path)
    again = load(path)
    assert not again.built
    np.testing.assert_array_equal(again.forward(xs), unbuilt.forward(xs))


@pytest.mark.parametrize("tamper, message", [
    (lambda c: c["nodes"][0].update(inputs=[99]), "refers to a missing layer or node"),
    (lambda c: c["nodes"][0].update(layer=99), "refers to a missing layer or node"),
    (lambda c: c["nodes"][0].update(inputs=[0, 1]), "takes one node"),
    (lambda c: c["inputs"][1].update(width=7), "has width|widths"),
    (lambda c: c["nodes"].append({"layer": 0, "inputs": [0]}), "is not used"),
    # one more input shifts every node's slots: the widths no longer fit
    (lambda c: c["inputs"].append({"width": 2, "name": "x"}), "widths"),
])
def test_tampered_graph_descriptions_are_refused(tamper, message):
    from nnlite.io import ModelFileError, from_state, get_state

    net = _two_inputs().build()
    node, arrays = get_state(net)
    tamper(node["config"])
    with pytest.raises(ModelFileError, match=message):
        from_state(node, arrays)


# ----- summary ----------------------------------------------------------------------------------
def test_summary_of_graph_and_sequential():
    net = _residual().build()
    s = net.summary()
    assert s.trainable == net.theta.size == 6 * 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3
    assert s.non_trainable == 0
    assert [r[4] for r in s.rows] == ["input", "0", "1", "2", "1, 3", "4", "5"]
    assert [r[3] for r in s.rows] == [56, 0, 72, 0, 0, 27, 0]
    text = str(s)
    assert "Add()" in text and "trainable parameters: 155" in text
    seq, graph = _chain_pair(CHAINS["tanh-identity"][0], 5, seed=0)
    seq.build(5)
    graph.build()
    assert str(seq.summary()).replace("Sequential", "Graph") == str(graph.summary())
    shared = _two_inputs().build()
    assert shared.summary().trainable == shared.theta.size  # the shared layer counts once
    assert sum("(shared)" in row[1] for row in shared.summary().rows) == 2
    with pytest.raises(RuntimeError, match="not built"):
        _residual().summary()


# ----- bad input ----------------------------------------------------------------------------------
def test_graph_construction_errors_name_the_node():
    a, b = Input(3), Input(4)
    with pytest.raises(ValueError, match=r"not reachable from the inputs: node Dense\(2\) "
                                         r"reads Input\(4\)"):
        Graph(a, Dense(2)(b))
    with pytest.raises(ValueError, match=r"inputs\[1\] \(Input\(4\)\) is not used"):
        Graph([a, b], Dense(2)(a))
    with pytest.raises(ValueError, match=r"Add: the inputs have widths \[2, 4\].*"
                                         r"\(called on Dense\(2\), Input\(4\)\)"):
        Add()([Dense(2)(a), b])
    with pytest.raises(ValueError, match=r"Multiply: the inputs have widths \[3, 4\]"):
        Multiply()([a, b])
    with pytest.raises(ValueError, match="takes one output"):
        Graph(a, [Dense(1)(a), Dense(2)(a)])
    with pytest.raises(ValueError, match="the output is an input"):
        Graph(a, a)
    with pytest.raises(TypeError, match=r"inputs\[0\] must be an Input node"):
        Graph([Dense(2)(a)], Dense(1)(a))
    with pytest.raises(TypeError, match="outputs must be a node"):
        Graph(a, np.zeros((2, 2)))
    with pytest.raises(TypeError, match="call a layer on a node"):
        Dense(2)(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="takes one node; got a list of 2"):
        Dense(2)([a, b])
    with pytest.raises(TypeError, match="takes a list of nodes"):
        Add()(a)
    with pytest.raises(ValueError, match="Add: takes two or more nodes; got 1"):
        Add()([a])
    with pytest.raises(ValueError, match=r"Dense: this layer was declared with n_in=5"):
        Dense(2, n_in=5)(a)
    d = Dense(2)
    with pytest.raises(ValueError, match=r"the shared layer Dense\(2\) is called on inputs of "
                                         r"width 3 and of width 4"):
        Graph([a, b], Add()([d(a), d(b)]))
    built = Dense(2).build(3)
    with pytest.raises(ValueError, match=r"node Dense\(2, n_in=3\) is already built"):
        Graph(a, built(a))
    for bad in (0, -1):
        with pytest.raises(ValueError, match="Input: n must be a positive int"):
            Input(bad)
    with pytest.raises(TypeError, match="Input: n must be a positive int"):
        Input(2.5)


def test_graph_input_errors():
    net = _two_inputs()
    xs, y = _data(5)
    with pytest.raises(ValueError, match=r"Graph.forward: X must hold 2 arrays .* got 1"):
        net.forward(xs[:1])
    with pytest.raises(TypeError, match=r"X must be a list or tuple of 2 arrays"):
        net.forward(xs[0])
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: X\[0\] has 5, "
                                         r"X\[1\] has 4"):
        net.predict([xs[0], xs[1][:4]])
    with pytest.raises(ValueError, match=r"X\[1\] has 3 features, but input 1 expects 4"):
        net.forward([xs[0], xs[1][:, :3]])
    bad = xs[1].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"train: X\[1\] contains NaN"):
        train(net, [xs[0], bad], y, SquaredError(), Adam(), epochs=1)
    with pytest.raises(ValueError, match=r"train: inconsistent numbers of samples: X has 5, "
                                         r"y has 4"):
        train(net, xs, y[:4], SquaredError(), Adam(), epochs=1)
    with pytest.raises(ValueError, match=r"train: X_val must hold 2 arrays"):
        train(net, xs, y, SquaredError(), Adam(), epochs=1, validation_data=(xs[0:1], y))
    with pytest.raises(ValueError, match=r"check_network: X must hold 2 arrays"):
        gradcheck.check_network(net, xs[:1], y, SquaredError())
    assert not net.built  # nothing was built by a refused call
    single = _residual()
    with pytest.raises(ValueError, match=r"X has 5 features, but the network expects 6"):
        single.forward(np.zeros((2, 5)))
    np.testing.assert_array_equal(single.forward([np.ones((2, 6))]),
                                  single.forward(np.ones((2, 6))))
    # ... but a nested list holding one row is that row, as for a Sequential
    np.testing.assert_array_equal(single.forward([[1.0] * 6]), single.forward(np.ones((1, 6))))
    for call in (lambda: single.param_specs(4), lambda: _residual().build(4)):
        with pytest.raises(ValueError, match=r"Graph: its inputs have width\(s\) 6 but it "
                                             r"receives width\(s\) 4"):
            call()


def test_merge_layers_alone_check_their_input():
    with pytest.raises(ValueError, match=r"Add.forward: X must hold two or more arrays"):
        Add().forward([np.ones((2, 2))])
    with pytest.raises(ValueError, match=r"Add: the inputs have widths \[2, 3\]"):
        Add().forward([np.ones((2, 2)), np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"Concatenate.forward: inconsistent numbers of "
                                         r"samples: X\[0\] has 2, X\[1\] has 3"):
        Concatenate().forward([np.ones((2, 2)), np.ones((3, 2))])
    np.testing.assert_array_equal(Multiply().forward([np.full((1, 2), 2.0),
                                                      np.full((1, 2), 3.0)]), [[6.0, 6.0]])


# ----- non-trainable state ------------------------------------------------------------------
def _stateful_graph():
    from tests.test_network import _RunningMean  # a user-written layer with state

    a, b = Input(2), Input(2)
    mean = _RunningMean()  # shared: both uses update the same running statistics
    h = Concatenate()([Tanh()(mean(Dense(2)(a))), mean(b)])
    return Graph([a, b], Dense(1)(h), random_state=0).build(), mean


def test_state_of_a_graph_lives_beside_theta_and_survives_everything(tmp_path):
    net, mean = _stateful_graph()
    assert net.state_vector.shape == (2 + 1,)
    assert set(net.named_state()) == {"1.mean", "1.count"}
    assert np.shares_memory(mean.state["mean"], net.state_vector)
    xs = [np.arange(8.0).reshape(4, 2), np.ones((4, 2))]
    theta = net.theta.copy()
    net.forward(xs)
    assert net.named_state()["1.count"][0] == 8.0  # two uses of 4 rows each
    np.testing.assert_array_equal(net.theta, theta)
    net.predict(xs)  # prediction leaves the state alone
    assert net.named_state()["1.count"][0] == 8.0
    state = net.state_vector.copy()
    save(net, tmp_path / "s.nnlite")
    for other in (load(tmp_path / "s.nnlite"), pickle.loads(pickle.dumps(net)),
                  copy.deepcopy(net)):
        np.testing.assert_array_equal(other.state_vector, state)
        np.testing.assert_array_equal(other.theta, net.theta)
        np.testing.assert_array_equal(other.predict(xs), net.predict(xs))
    f32 = copy.deepcopy(net).astype(np.float32)
    np.testing.assert_array_equal(f32.state_vector, state.astype(np.float32))

    def fail(*args):
        raise RuntimeError("stop here")

    y = np.zeros((4, 1))
    with pytest.raises(RuntimeError, match="stop here"):
        train(net, xs, y, SquaredError(), SGD(), epochs=2, batch_size=2, callback=fail,
              random_state=0)
    np.testing.assert_array_equal(net.state_vector, state)
    np.testing.assert_array_equal(net.theta, theta)
    assert net.summary().non_trainable == 3


def test_minibatch_training_of_a_graph_follows_its_public_gradient():
    """train's batches (class codes, work buffers) give the steps of a plain loop."""
    net = _residual(seed=2)
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(60, 6)), rng.randint(0, 3, 60)
    ref = copy.deepcopy(net).build()
    net.build()
    train(net, X, y, LogLoss(), Adam(0.01), epochs=2, batch_size=20, shuffle=False)
    opt = Adam(0.01)
    opt.init(ref.theta)
    onehot = np.eye(3)[y]
    for _ in range(2):
        for start in range(0, 60, 20):
            _, g = ref.loss_and_grad(X[start:start + 20], onehot[start:start + 20], LogLoss())
            opt.step(ref.theta, g)
        opt.iteration_ends(60)
    np.testing.assert_allclose(net.theta, ref.theta, rtol=1e-10, atol=1e-12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(junk(), max_size=3), y=junk(), which=st.integers(0, 3),
       as_tuple=st.booleans())
def test_fuzz_graph_entry_points_raise_only_value_and_type_errors(parts, y, which, as_tuple):
    """Random lists of random arrays at a two-input graph: only ValueError or TypeError."""
    net = _two_inputs().build()
    xs, _ = _data(4)
    before = net.predict(xs)
    X = tuple(parts) if as_tuple else parts
    refused = True
    try:  # warnings are errors here too
        if which == 0:
            net.predict(X)
        elif which == 1:
            net.forward(X)
        elif which == 2:
            train(net, X, y, SquaredError(), SGD(0.01), epochs=1, batch_size=2)
        else:
            Concatenate().forward(X)
        refused = False
    except (ValueError, TypeError):
        pass
    after = net.predict(xs)  # still usable; unchanged unless a training run went through
    if refused or which != 2:
        np.testing.assert_array_equal(after, before)


def test_prediction_caches_nothing_and_training_mode_caches_each_use():
    net = _two_inputs().build()
    xs, _ = _data(5)
    uses = net._uses

    def caches():
        return [getattr(u, "_x", None) if type(u) is Dense else getattr(u, "_xs", None)
                if type(u) is Multiply else getattr(u, "_z", None)
                for u in uses if type(u) in (Dense, Tanh, Multiply)]

    net.predict(xs)
    assert all(c is None for c in caches())
    net.forward(xs, train=True)
    assert all(c is not None for c in caches())
    # the two uses of the shared Dense keep their own inputs
    shared = [u for u in uses if type(u) is Dense and u.params is net.layers[0].params]
    assert len(shared) == 2 and shared[0]._x is not shared[1]._x
    assert shared[0]._x.shape[1] == shared[1]._x.shape[1] == 3
    net.predict(xs)
    assert all(c is None for c in caches())


def test_wide_and_deep_graph_with_embedding_dropout_and_batchnorm(tmp_path):
    from nnlite import (
        Adam,
        BatchNorm,
        Concatenate,
        Dense,
        Dropout,
        Embedding,
        Graph,
        Input,
        LogLoss,
        ReLU,
        Softmax,
        gradcheck,
        load,
        save,
        train,
    )

    def make():
        codes, numeric = Input(1), Input(3)
        wide = Embedding(6, 2)(codes)
        deep = Dropout(0.2)(ReLU()(BatchNorm()(Dense(5)(numeric))))
        out = Softmax()(Dense(3)(Concatenate()([wide, deep])))
        return Graph([codes, numeric], out, random_state=0)

    rng = np.random.RandomState(0)
    c = rng.randint(0, 6, (40, 1)).astype(float)
    x = rng.normal(size=(40, 3))
    y = rng.randint(0, 3, 40)
    net = make()
    assert not net.differentiable_input  # one input holds codes
    report = gradcheck.check_network(net, [c[:8], x[:8]], y[:8], LogLoss(), alpha=1e-3)
    assert report.passed, str(report)
    a, b = make(), make()
    train(a, [c, x], y, LogLoss(), Adam(0.01), epochs=3, batch_size=10, random_state=0)
    train(b, [c, x], y, LogLoss(), Adam(0.01), epochs=3, batch_size=10, random_state=0)
    np.testing.assert_array_equal(a.theta, b.theta)  # seeded dropout: reproducible
    np.testing.assert_array_equal(a.state_vector, b.state_vector)
    assert a.state_vector.size == 10  # BatchNorm's running mean and variance
    save(a, tmp_path / "wd.nnlite")
    back = load(tmp_path / "wd.nnlite")
    np.testing.assert_array_equal(back.predict([c, x]), a.predict([c, x]))
