"""Theano's tutorial "A Real Example: Logistic Regression", unchanged except for the imports
(and fewer training steps), learns on every backend."""
import numpy
import pytest


def test_logistic_regression_tutorial(backend):
    import mlcore as theano
    import mlcore.tensor as T
    theano.config.set_backend(backend)
    try:
        numpy.random.seed(0)
        rng = numpy.random
        N = 400                                   # training sample size
        feats = 784                               # number of input variables

        # generate a dataset: D = (input_values, target_class)
        D = (rng.randn(N, feats), rng.randint(size=N, low=0, high=2))
        training_steps = 400                      # the tutorial has 10000

        # Declare Theano symbolic variables
        x = T.dmatrix("x")
        y = T.dvector("y")

        # initialize the weight vector w randomly
        #
        # this and the following bias variable b
        # are shared so they keep their values
        # between training iterations (updates)
        w = theano.shared(rng.randn(feats), name="w")

        # initialize the bias term
        b = theano.shared(0., name="b")

        # Construct Theano expression graph
        p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))               # Probability that target = 1
        prediction = p_1 > 0.5                                 # The prediction thresholded
        xent = -y * T.log(p_1) - (1-y) * T.log(1-p_1)          # Cross-entropy loss function
        cost = xent.mean() + 0.01 * (w ** 2).sum()             # The cost to minimize
        gw, gb = T.grad(cost, [w, b])                          # Compute the gradient of the cost
        # w.r.t weight vector w and
        # bias term b (we shall return to this in a
        # following section of this tutorial)

        # Compile
        train = theano.function(
            inputs=[x, y],
            outputs=[prediction, xent],
            updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
        predict = theano.function(inputs=[x], outputs=prediction)

        # Train
        costs = []
        for i in range(training_steps):
            pred, err = train(D[0], D[1])
            costs.append(err.mean())
    finally:
        theano.config.reload()

    assert train.backend.name == backend
    assert w.get_value().dtype == numpy.float64 and numpy.asarray(b.get_value()).dtype == numpy.float64
    assert numpy.all(numpy.diff(costs) < 0)                 # the cost decreases at every step
    assert costs[-1] < costs[0] / 10
    assert numpy.mean(predict(D[0]) == D[1]) == pytest.approx(1.0)


def test_more_examples_tutorial():
    """Theano's "More Examples" page: several outputs, In defaults, shared state with updates,
    givens, copied functions, random streams, and pp of a gradient."""
    import mlcore as theano
    import mlcore.tensor as T
    from mlcore import In, function, shared
    from mlcore.tensor.shared_randomstreams import RandomStreams

    a, b = T.dmatrices("a", "b")
    diff = a - b
    f = function([a, b], [diff, abs(diff), diff ** 2])
    d, ad, d2 = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    numpy.testing.assert_array_equal(d2, [[1, 0], [1, 4]])

    x, y, w = T.dscalars("x", "y", "w")
    f = function([x, In(y, value=1), In(w, value=2, name="w_by_name")], (x + y) * w)
    assert [float(f(33)), float(f(33, 2)), float(f(33, 0, 1)), float(f(33, w_by_name=1)),
            float(f(33, w_by_name=1, y=0))] == [68, 70, 33, 34, 33]

    state, inc = shared(0), T.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])
    assert int(accumulator(10)) == 0 and int(state.get_value()) == 10
    foo = T.scalar(dtype=state.dtype)
    assert int(function([inc, foo], state * 2 + inc, givens=[(state, foo)])(1, 3)) == 7
    new_state = shared(0)
    accumulator.copy(swap={state: new_state})(100)
    accumulator.copy(delete_updates=True)(9000)
    assert (int(new_state.get_value()), int(state.get_value())) == (100, 10)

    srng = RandomStreams(seed=234)
    rv_u, rv_n = srng.uniform((2, 2)), srng.normal((2, 2))
    f, g = function([], rv_u), function([], rv_n, no_default_updates=True)
    assert not numpy.allclose(f(), f())
    numpy.testing.assert_array_equal(g(), g())
    assert numpy.allclose(function([], rv_u + rv_u - 2 * rv_u)(), 0)

    x = T.dscalar("x")
    gy = T.grad(x ** 2, x)
    assert theano.pp(gy) == ("((oneslike((x ** TensorConstant{2.0})) * TensorConstant{2.0}) * "
                             "(x ** TensorConstant{1.0}))")
    assert float(function([x], gy)(94.2)) == pytest.approx(188.4)


def test_deeplearning_logistic_regression_class():
    """deeplearning.net's LogisticRegression (softmax, negative_log_likelihood by advanced indexing,
    errors), its data in borrowed shared variables, minibatches taken by givens."""
    import mlcore as theano
    import mlcore.tensor as T
    rng = numpy.random.RandomState(1234)
    data = rng.randn(60, 5)
    labels = (data[:, 0] > 0).astype("int32") + (data[:, 1] > 0)
    train_x = theano.shared(numpy.asarray(data, dtype=theano.config.floatX), borrow=True)
    train_y = T.cast(theano.shared(numpy.asarray(labels, dtype=theano.config.floatX), borrow=True), "int32")
    index, x, y = T.lscalar(), T.matrix("x"), T.ivector("y")
    W = theano.shared(numpy.zeros((5, 3), dtype=theano.config.floatX), name="W", borrow=True)
    b = theano.shared(numpy.zeros((3,), dtype=theano.config.floatX), name="b", borrow=True)
    p_y_given_x = T.nnet.softmax(T.dot(x, W) + b)
    y_pred = T.argmax(p_y_given_x, axis=1)
    cost = -T.mean(T.log(p_y_given_x)[T.arange(y.shape[0]), y])
    errors = T.mean(T.neq(y_pred, y))
    givens = {x: train_x[index * 20:(index + 1) * 20], y: train_y[index * 20:(index + 1) * 20]}
    g_W, g_b = T.grad(cost=cost, wrt=W), T.grad(cost=cost, wrt=b)
    train = theano.function([index], cost, updates=[(W, W - 0.13 * g_W), (b, b - 0.13 * g_b)], givens=givens)
    test = theano.function([index], errors, givens=givens)
    costs = [float(train(i % 3)) for i in range(300)]
    assert costs[0] == pytest.approx(numpy.log(3), rel=1e-6)
    assert costs[-1] < 0.5 * costs[0]
    assert numpy.mean([test(i) for i in range(3)]) < 0.2


def test_the_gpu_tutorials_check_of_the_compiled_graph():
    """The "Using the GPU" page's test program: it inspects f.maker.fgraph.toposort() for T.Elemwise ops."""
    import mlcore as theano
    import mlcore.tensor as T
    rng = numpy.random.RandomState(22)
    x = theano.shared(numpy.asarray(rng.rand(10), theano.config.floatX))
    f = theano.function([], T.exp(x))
    nodes = f.maker.fgraph.toposort()
    assert f.maker.fgraph is f.fgraph and numpy.any([isinstance(node.op, T.Elemwise) for node in nodes])
    numpy.testing.assert_allclose(f(), numpy.exp(x.get_value()), rtol=1e-6)
