"""deeplearning.net's Deep Learning Tutorials (lisa-lab/DeepLearningTutorials, code/*.py) on mlcore: each
model is written as the tutorial writes it, with `import mlcore as theano; import mlcore.tensor as T` for
Theano's imports, on a few dozen random examples and tiny layers.  Each test compiles the tutorial's training
function and checks its numbers against numpy or finite differences, and that the tutorial's cost improves.
rnnslu.py relies on Theano's softmax of a vector being a (1, n) row (its `s[:, 0, :]`), rnnrbm.py on
`theano.config.warn.subtensor_merge_bug`: both found missing by this file, then added."""
import pickle
from collections import OrderedDict

import numpy
import pytest

import mlcore as theano
import mlcore.tensor as T
from mlcore.gradient import verify_grad
from mlcore.sandbox.rng_mrg import MRG_RandomStreams
from mlcore.tensor.nnet import conv, conv2d
from mlcore.tensor.shared_randomstreams import RandomStreams
from mlcore.tensor.signal import pool


@pytest.fixture
def numpy_only():
    """The numpy backend for one test, the settings restored after."""
    from mlcore import config
    saved = dict(config._overrides)
    config.set_backend("numpy")
    yield "numpy"
    config._overrides.clear()
    config._overrides.update(saved)


@pytest.fixture(params=["numpy", "jax"])
def numpy_or_jax(request, require_backend):
    """The numpy and jax backends for one test.  These tests pass on the theano backend too, but PyTensor's C
    compilation of their graphs takes 5-40 s a test on a cold cache (the whole file: 2.5 minutes instead of
    one); test_mlp, test_SdA and test_rbm_cd_k run there."""
    from mlcore import config
    saved = dict(config._overrides)
    config.set_backend(require_backend(request.param))
    yield request.param
    config._overrides.clear()
    config._overrides.update(saved)


# numpy references

def sigmoid(a):
    return 1 / (1 + numpy.exp(-a))


def softmax(a):
    e = numpy.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def free_energy(v, W, hbias, vbias):
    """The RBM's free energy of each row of v."""
    return -numpy.log1p(numpy.exp(v @ W + hbias)).sum(axis=1) - v @ vbias


def blobs(rng, n, n_in, n_out):
    """n examples of n_in uniform features, labelled by the argmax of a random linear map."""
    data = rng.uniform(0, 1, (n, n_in))
    return data, numpy.argmax((data - 0.5) @ rng.normal(size=(n_in, n_out)), axis=1)


def shared_dataset(data, labels):
    """logistic_sgd.load_data's shared_dataset: floatX shared variables, the labels cast to int32."""
    shared_x = theano.shared(numpy.asarray(data, dtype=theano.config.floatX), borrow=True)
    shared_y = theano.shared(numpy.asarray(labels, dtype=theano.config.floatX), borrow=True)
    return shared_x, T.cast(shared_y, "int32")


def minibatch(index, size):
    return slice(index * size, (index + 1) * size)


# logistic_sgd.py, mlp.py

class LogisticRegression(object):
    """logistic_sgd.py's classifier: softmax of a zero-initialized affine map."""

    def __init__(self, input, n_in, n_out):
        floatX = theano.config.floatX
        self.W = theano.shared(value=numpy.zeros((n_in, n_out), dtype=floatX), name="W", borrow=True)
        self.b = theano.shared(value=numpy.zeros((n_out,), dtype=floatX), name="b", borrow=True)
        self.p_y_given_x = T.nnet.softmax(T.dot(input, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.params = [self.W, self.b]
        self.input = input

    def negative_log_likelihood(self, y):
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        if y.ndim != self.y_pred.ndim:
            raise TypeError("y should have the same shape as self.y_pred", ("y", y.type, "y_pred", self.y_pred.type))
        if y.dtype.startswith("int"):
            return T.mean(T.neq(self.y_pred, y))
        raise NotImplementedError()


class HiddenLayer(object):
    """mlp.py's fully connected layer (weights four times larger for the sigmoid)."""

    def __init__(self, rng, input, n_in, n_out, W=None, b=None, activation=T.tanh):
        self.input = input
        if W is None:
            bound = numpy.sqrt(6. / (n_in + n_out))
            W_values = numpy.asarray(rng.uniform(low=-bound, high=bound, size=(n_in, n_out)),
                                     dtype=theano.config.floatX)
            if activation == theano.tensor.nnet.sigmoid:
                W_values *= 4
            W = theano.shared(value=W_values, name="W", borrow=True)
        if b is None:
            b = theano.shared(value=numpy.zeros((n_out,), dtype=theano.config.floatX), name="b", borrow=True)
        self.W, self.b = W, b
        lin_output = T.dot(input, self.W) + self.b
        self.output = lin_output if activation is None else activation(lin_output)
        self.params = [self.W, self.b]


class MLP(object):
    """mlp.py's one-hidden-layer perceptron with its L1 and squared L2 norms."""

    def __init__(self, rng, input, n_in, n_hidden, n_out):
        self.hiddenLayer = HiddenLayer(rng=rng, input=input, n_in=n_in, n_out=n_hidden, activation=T.tanh)
        self.logRegressionLayer = LogisticRegression(input=self.hiddenLayer.output, n_in=n_hidden, n_out=n_out)
        self.L1 = abs(self.hiddenLayer.W).sum() + abs(self.logRegressionLayer.W).sum()
        self.L2_sqr = (self.hiddenLayer.W ** 2).sum() + (self.logRegressionLayer.W ** 2).sum()
        self.negative_log_likelihood = self.logRegressionLayer.negative_log_likelihood
        self.errors = self.logRegressionLayer.errors
        self.params = self.hiddenLayer.params + self.logRegressionLayer.params
        self.input = input


def test_logistic_sgd(numpy_or_jax, floatx):
    """logistic_sgd.py: one SGD step through givens minibatches gives numpy's cost and update, the cost falls,
    errors() equals numpy's error rate and refuses a matrix, and a pickled classifier predicts through
    classifier.input as the tutorial's predict() does."""
    floatx("float64")
    rng = numpy.random.RandomState(1234)
    data, labels = blobs(rng, 60, 5, 3)
    train_set_x, train_set_y = shared_dataset(data, labels)
    index, x, y = T.lscalar(), T.matrix("x"), T.ivector("y")
    classifier = LogisticRegression(input=x, n_in=5, n_out=3)
    cost = classifier.negative_log_likelihood(y)
    g_W, g_b = T.grad(cost=cost, wrt=classifier.W), T.grad(cost=cost, wrt=classifier.b)
    givens = {x: train_set_x[index * 20:(index + 1) * 20], y: train_set_y[index * 20:(index + 1) * 20]}
    train_model = theano.function([index], cost, givens=givens, updates=[
        (classifier.W, classifier.W - 0.13 * g_W), (classifier.b, classifier.b - 0.13 * g_b)])
    test_model = theano.function([index], classifier.errors(y), givens=givens)

    W0, b0 = classifier.W.get_value(), classifier.b.get_value()
    W0 += rng.normal(size=W0.shape)       # from a random point, so that the first step is not the trivial one
    classifier.W.set_value(W0)
    first = float(train_model(1))
    xb, yb = data[20:40], labels[20:40]
    p = softmax(xb @ W0 + b0)
    assert first == pytest.approx(-numpy.mean(numpy.log(p[numpy.arange(20), yb])), rel=1e-12)
    delta = (p - numpy.eye(3)[yb]) / 20
    numpy.testing.assert_allclose(classifier.W.get_value(), W0 - 0.13 * xb.T @ delta, rtol=1e-12, atol=1e-14)
    numpy.testing.assert_allclose(classifier.b.get_value(), b0 - 0.13 * delta.sum(0), rtol=1e-12, atol=1e-14)

    costs = [float(train_model(i % 3)) for i in range(450)]
    assert numpy.mean(costs[-3:]) < 0.6 * numpy.mean(costs[:3])
    W, b = classifier.W.get_value(), classifier.b.get_value()
    for i in range(3):
        wrong = numpy.argmax(softmax(data[minibatch(i, 20)] @ W + b), axis=1) != labels[minibatch(i, 20)]
        assert float(test_model(i)) == pytest.approx(wrong.mean(), abs=1e-12)
    with pytest.raises(TypeError, match="same shape"):
        classifier.errors(T.imatrix("y"))

    restored = pickle.loads(pickle.dumps(classifier))
    predict_model = theano.function(inputs=[restored.input], outputs=restored.y_pred)
    numpy.testing.assert_array_equal(predict_model(data), numpy.argmax(data @ W + b, axis=1))


def test_mlp(on_backend, floatx):
    """mlp.py: the cost NLL + L1_reg * L1 + L2_reg * L2_sqr equals numpy's forward pass, its gradient wrt the
    hidden layer matches finite differences, and SGD on givens minibatches lowers it."""
    floatx("float64")
    rng = numpy.random.RandomState(1234)
    data, labels = blobs(rng, 60, 6, 3)
    train_set_x, train_set_y = shared_dataset(data, labels)
    index, x, y = T.lscalar(), T.matrix("x"), T.ivector("y")
    classifier = MLP(rng=rng, input=x, n_in=6, n_hidden=5, n_out=3)
    classifier.logRegressionLayer.W.set_value(0.5 * rng.normal(size=(5, 3)))
    cost = classifier.negative_log_likelihood(y) + 0.001 * classifier.L1 + 0.0001 * classifier.L2_sqr
    gparams = [T.grad(cost, param) for param in classifier.params]
    updates = [(param, param - 0.1 * gparam) for param, gparam in zip(classifier.params, gparams)]
    train_model = theano.function(inputs=[index], outputs=cost, updates=updates, givens={
        x: train_set_x[index * 20:(index + 1) * 20], y: train_set_y[index * 20:(index + 1) * 20]})

    W1, b1, W2, b2 = [p.get_value() for p in classifier.params]
    p = softmax(numpy.tanh(data[:20] @ W1 + b1) @ W2 + b2)
    expected = (-numpy.mean(numpy.log(p[numpy.arange(20), labels[:20]]))
                + 0.001 * (abs(W1).sum() + abs(W2).sum()) + 0.0001 * ((W1 ** 2).sum() + (W2 ** 2).sum()))
    assert float(train_model(0)) == pytest.approx(expected, rel=1e-12)

    def cost_of_hidden(W, b):
        hidden = HiddenLayer(rng, input=T.constant(data[:20]), n_in=6, n_out=5, W=W, b=b)
        top = LogisticRegression(input=hidden.output, n_in=5, n_out=3)
        top.W.set_value(W2)
        top.b.set_value(b2)
        return (top.negative_log_likelihood(T.constant(labels[:20])) + 0.001 * (abs(W).sum() + abs(W2).sum())
                + 0.0001 * ((W ** 2).sum() + (W2 ** 2).sum()))
    verify_grad(cost_of_hidden, [W1, b1], n_tests=1, rng=numpy.random.RandomState(0))

    costs = [float(train_model(i % 3)) for i in range(450)]
    assert numpy.mean(costs[-3:]) < 0.6 * numpy.mean(costs[:3])


# dA.py, SdA.py, cA.py

def autoencoder_parameters(numpy_rng, n_visible, n_hidden, W, bhid, bvis):
    """dA.py's and cA.py's tied weights and biases: the ones given, or W uniform in +-4 sqrt(6 / (n_hidden +
    n_visible)) and zero biases, as both tutorials make them."""
    floatX = theano.config.floatX
    if not W:
        bound = 4 * numpy.sqrt(6. / (n_hidden + n_visible))
        W = theano.shared(value=numpy.asarray(numpy_rng.uniform(low=-bound, high=bound, size=(n_visible, n_hidden)),
                                              dtype=floatX), name="W", borrow=True)
    if not bvis:
        bvis = theano.shared(value=numpy.zeros(n_visible, dtype=floatX), borrow=True)
    if not bhid:
        bhid = theano.shared(value=numpy.zeros(n_hidden, dtype=floatX), name="b", borrow=True)
    return W, bhid, bvis


class dA(object):
    """dA.py's denoising autoencoder with tied weights."""

    def __init__(self, numpy_rng, theano_rng=None, input=None, n_visible=784, n_hidden=500,
                 W=None, bhid=None, bvis=None):
        self.n_visible, self.n_hidden = n_visible, n_hidden
        if not theano_rng:
            theano_rng = RandomStreams(numpy_rng.randint(2 ** 30))
        self.W, self.b, self.b_prime = autoencoder_parameters(numpy_rng, n_visible, n_hidden, W, bhid, bvis)
        self.W_prime = self.W.T
        self.theano_rng = theano_rng
        if input == None:  # noqa: E711  (the tutorial's test: False for a variable, as in Theano)
            self.x = T.dmatrix(name="input")
        else:
            self.x = input
        self.params = [self.W, self.b, self.b_prime]

    def get_corrupted_input(self, input, corruption_level):
        return self.theano_rng.binomial(size=input.shape, n=1, p=1 - corruption_level,
                                        dtype=theano.config.floatX) * input

    def get_hidden_values(self, input):
        return T.nnet.sigmoid(T.dot(input, self.W) + self.b)

    def get_reconstructed_input(self, hidden):
        return T.nnet.sigmoid(T.dot(hidden, self.W_prime) + self.b_prime)

    def get_cost_updates(self, corruption_level, learning_rate):
        tilde_x = self.get_corrupted_input(self.x, corruption_level)
        z = self.get_reconstructed_input(self.get_hidden_values(tilde_x))
        cost = T.mean(-T.sum(self.x * T.log(z) + (1 - self.x) * T.log(1 - z), axis=1))
        gparams = T.grad(cost, self.params)
        return cost, [(param, param - learning_rate * gparam) for param, gparam in zip(self.params, gparams)]


def reconstruction_cross_entropy(x, W, b, b_prime):
    """The dA's cost, in numpy, without corruption."""
    z = sigmoid(sigmoid(x @ W + b) @ W.T + b_prime)
    return numpy.mean(-numpy.sum(x * numpy.log(z) + (1 - x) * numpy.log(1 - z), axis=1))


def test_dA(numpy_or_jax, floatx):
    """dA.py: without corruption the cost equals numpy's cross-entropy of the tied-weight reconstruction and its
    gradient matches finite differences; RandomStreams' binomial corruption zeroes about 30% of the inputs, a new
    mask at each call; training on givens minibatches lowers the cost."""
    floatx("float64")
    rng = numpy.random.RandomState(123)
    data = (rng.uniform(size=(40, 12)) < 0.3 + 0.4 * (numpy.arange(12) % 2)).astype(theano.config.floatX)
    train_set_x = theano.shared(data, borrow=True)
    index, x = T.lscalar(), T.matrix("x")
    theano_rng = RandomStreams(rng.randint(2 ** 30))
    da = dA(numpy_rng=rng, theano_rng=theano_rng, input=x, n_visible=12, n_hidden=5)
    da.b_prime.set_value(rng.normal(size=12))
    da.b.set_value(rng.normal(size=5))

    cost0, _ = da.get_cost_updates(corruption_level=0., learning_rate=0.1)
    W, b, b_prime = [p.get_value() for p in da.params]
    value = theano.function([index], cost0, givens={x: train_set_x[index * 10:(index + 1) * 10]})
    assert float(value(2)) == pytest.approx(reconstruction_cross_entropy(data[20:30], W, b, b_prime), rel=1e-12)

    def cost_of(W, b, b_prime):
        model = dA(numpy_rng=rng, theano_rng=theano_rng, input=T.constant(data[:10]), n_visible=12, n_hidden=5,
                   W=W, bhid=b, bvis=b_prime)
        return model.get_cost_updates(corruption_level=0., learning_rate=0.1)[0]
    verify_grad(cost_of, [W, b, b_prime], n_tests=1, rng=numpy.random.RandomState(0))

    ones = T.matrix("ones")
    corrupt = theano.function([ones], da.get_corrupted_input(ones, 0.3))
    first, second = corrupt(numpy.ones((100, 100))), corrupt(numpy.ones((100, 100)))
    assert set(numpy.unique(first)) == {0., 1.}
    assert abs((first == 0).mean() - 0.3) < 0.025 and abs((second == 0).mean() - 0.3) < 0.025
    assert (first != second).mean() > 0.3      # two independent masks differ in 42% of the entries

    cost, updates = da.get_cost_updates(corruption_level=0.3, learning_rate=0.1)
    train_da = theano.function([index], cost, updates=updates, givens={x: train_set_x[index * 10:(index + 1) * 10]})
    costs = [float(train_da(i % 4)) for i in range(80)]
    assert numpy.mean(costs[-8:]) < 0.75 * numpy.mean(costs[:8])
    trained = [p.get_value() for p in da.params]
    assert reconstruction_cross_entropy(data, *trained) < 0.75 * reconstruction_cross_entropy(data, W, b, b_prime)


class StackedNetwork(object):
    """What SdA.py and DBN.py share: sigmoid HiddenLayers, each paired with a pretraining layer (a dA or
    an RBM) that shares its weights, and a LogisticRegression on top."""

    pretraining_class = bias_keyword = None     # dA and "bhid", or RBM and "hbias"

    def __init__(self, numpy_rng, theano_rng=None, n_ins=784, hidden_layers_sizes=(500, 500), n_outs=10):
        self.sigmoid_layers, self.pretraining_layers, self.params = [], [], []
        self.n_layers = len(hidden_layers_sizes)
        if not theano_rng:
            theano_rng = MRG_RandomStreams(numpy_rng.randint(2 ** 30))
        self.x, self.y = T.matrix("x"), T.ivector("y")
        for i in range(self.n_layers):
            input_size = n_ins if i == 0 else hidden_layers_sizes[i - 1]
            layer_input = self.x if i == 0 else self.sigmoid_layers[-1].output
            sigmoid_layer = HiddenLayer(rng=numpy_rng, input=layer_input, n_in=input_size,
                                        n_out=hidden_layers_sizes[i], activation=T.nnet.sigmoid)
            self.sigmoid_layers.append(sigmoid_layer)
            self.params.extend(sigmoid_layer.params)
            self.pretraining_layers.append(self.pretraining_class(
                numpy_rng=numpy_rng, theano_rng=theano_rng, input=layer_input, n_visible=input_size,
                n_hidden=hidden_layers_sizes[i], W=sigmoid_layer.W, **{self.bias_keyword: sigmoid_layer.b}))
        self.logLayer = LogisticRegression(input=self.sigmoid_layers[-1].output, n_in=hidden_layers_sizes[-1],
                                           n_out=n_outs)
        self.params.extend(self.logLayer.params)
        self.finetune_cost = self.logLayer.negative_log_likelihood(self.y)
        self.errors = self.logLayer.errors(self.y)


class SdA(StackedNetwork):
    """SdA.py's stacked denoising autoencoder: dAs sharing their weights with the HiddenLayers."""
    pretraining_class, bias_keyword = dA, "bhid"
    dA_layers = property(lambda self: self.pretraining_layers)

    def pretraining_functions(self, train_set_x, batch_size):
        index, corruption_level, learning_rate = T.lscalar("index"), T.scalar("corruption"), T.scalar("lr")
        batch_begin = index * batch_size
        fns = []
        for da in self.dA_layers:
            cost, updates = da.get_cost_updates(corruption_level, learning_rate)
            fns.append(theano.function(
                inputs=[index, theano.In(corruption_level, value=0.2), theano.In(learning_rate, value=0.1)],
                outputs=cost, updates=updates, givens={self.x: train_set_x[batch_begin:batch_begin + batch_size]}))
        return fns

    def build_finetune_functions(self, train_set_x, train_set_y, batch_size, learning_rate):
        index = T.lscalar("index")
        gparams = T.grad(self.finetune_cost, self.params)
        updates = [(param, param - gparam * learning_rate) for param, gparam in zip(self.params, gparams)]
        givens = {self.x: train_set_x[index * batch_size:(index + 1) * batch_size],
                  self.y: train_set_y[index * batch_size:(index + 1) * batch_size]}
        train_fn = theano.function(inputs=[index], outputs=self.finetune_cost, updates=updates, givens=givens,
                                   name="train")
        return train_fn, theano.function([index], self.errors, givens=givens, name="test")


def two_layer_nll(x, labels, W0, b0, W1, b1, W2, b2):
    """The NLL of two sigmoid layers under a softmax layer, in numpy: SdA's and DBN's fine-tuning cost."""
    p = softmax(sigmoid(sigmoid(x @ W0 + b0) @ W1 + b1) @ W2 + b2)
    return -numpy.mean(numpy.log(p[numpy.arange(len(x)), labels]))


def check_finetuning(train_fn, params, data, labels, steps):
    """Fine-tuning of SdA and DBN: the first minibatch's cost is numpy's NLL of the pretrained network,
    and `steps` updates over the four minibatches take the whole set's NLL below 0.7 of it."""
    pretrained = [p.get_value() for p in params]
    assert float(train_fn(0)) == pytest.approx(two_layer_nll(data[:10], labels[:10], *pretrained), rel=1e-12)
    for i in range(steps):
        train_fn(i % 4)
    finetuned = [p.get_value() for p in params]
    assert two_layer_nll(data, labels, *finetuned) < 0.7 * two_layer_nll(data, labels, *pretrained)


def test_SdA(on_backend, floatx):
    """SdA.py: pretraining functions with theano.In defaults, called by keyword (index=, corruption=, lr=);
    the second dA's uncorrupted cost equals numpy's on the first layer's hidden output, pretraining a layer moves
    its HiddenLayer's (shared) weights and not the other layer's, and fine-tuning lowers the NLL."""
    floatx("float64")
    numpy_rng = numpy.random.RandomState(89677)
    data, labels = blobs(numpy_rng, 40, 8, 2)
    train_set_x, train_set_y = shared_dataset(data, labels)
    sda = SdA(numpy_rng=numpy_rng, n_ins=8, hidden_layers_sizes=[6, 4], n_outs=2)
    assert sda.dA_layers[1].W is sda.sigmoid_layers[1].W and sda.dA_layers[1].b is sda.sigmoid_layers[1].b
    pretraining_fns = sda.pretraining_functions(train_set_x=train_set_x, batch_size=10)

    W0, b0, W1, b1 = [p.get_value() for p in sda.params[:4]]
    b_prime1 = sda.dA_layers[1].b_prime.get_value()
    cost = float(pretraining_fns[1](index=3, corruption=0., lr=0.))
    hidden = sigmoid(data[30:40] @ W0 + b0)
    assert cost == pytest.approx(reconstruction_cross_entropy(hidden, W1, b1, b_prime1), rel=1e-12)
    numpy.testing.assert_array_equal(sda.params[2].get_value(), W1)       # lr=0.: no change
    layer1 = [sda.params[2], sda.params[3], sda.dA_layers[1].b_prime]
    pretraining_fns[1](index=3, corruption=0.)                            # lr: its default, 0.1
    by_default = [p.get_value() for p in layer1]
    for param, value in zip(layer1, [W1, b1, b_prime1]):
        param.set_value(value)
    pretraining_fns[1](3, 0., 0.1)
    for param, value in zip(layer1, by_default):
        numpy.testing.assert_array_equal(param.get_value(), value)
    assert not numpy.allclose(by_default[0], W1)
    for param, value in zip(layer1, [W1, b1, b_prime1]):
        param.set_value(value)

    costs = [float(pretraining_fns[0](index=i % 4, corruption=0.1, lr=0.1)) for i in range(40)]
    costs += [float(pretraining_fns[0](i % 4)) for i in range(40)]       # the defaults: corruption .2, lr .1
    assert numpy.mean(costs[-8:]) < numpy.mean(costs[:8]) - 0.5
    assert not numpy.allclose(sda.params[0].get_value(), W0)
    numpy.testing.assert_array_equal(sda.params[2].get_value(), W1)

    train_fn, test_score = sda.build_finetune_functions(train_set_x, train_set_y, batch_size=10, learning_rate=0.1)
    check_finetuning(train_fn, sda.params, data, labels, steps=400)
    assert numpy.mean([test_score(i) for i in range(4)]) <= 0.25


class cA(object):
    """cA.py's contractive autoencoder: the Jacobian of the hidden layer built by reshapes."""

    def __init__(self, numpy_rng, input=None, n_visible=784, n_hidden=100, n_batchsize=1, W=None, bhid=None,
                 bvis=None):
        self.n_visible, self.n_hidden, self.n_batchsize = n_visible, n_hidden, n_batchsize
        self.W, self.b, self.b_prime = autoencoder_parameters(numpy_rng, n_visible, n_hidden, W, bhid, bvis)
        self.W_prime = self.W.T
        self.x = T.dmatrix(name="input") if input == None else input  # noqa: E711  (as the tutorial)
        self.params = [self.W, self.b, self.b_prime]

    def get_hidden_values(self, input):
        return T.nnet.sigmoid(T.dot(input, self.W) + self.b)

    def get_jacobian(self, hidden, W):
        return (T.reshape(hidden * (1 - hidden), (self.n_batchsize, 1, self.n_hidden))
                * T.reshape(W, (1, self.n_visible, self.n_hidden)))

    def get_reconstructed_input(self, hidden):
        return T.nnet.sigmoid(T.dot(hidden, self.W_prime) + self.b_prime)

    def get_cost_updates(self, contraction_level, learning_rate):
        y = self.get_hidden_values(self.x)
        z = self.get_reconstructed_input(y)
        J = self.get_jacobian(y, self.W)
        self.L_rec = -T.sum(self.x * T.log(z) + (1 - self.x) * T.log(1 - z), axis=1)
        self.L_jacob = T.sum(J ** 2) / self.n_batchsize
        cost = T.mean(self.L_rec) + contraction_level * T.mean(self.L_jacob)
        gparams = T.grad(cost, self.params)
        return cost, [(param, param - learning_rate * gparam) for param, gparam in zip(self.params, gparams)]


def test_cA(numpy_or_jax, floatx):
    """cA.py: the reshaped Jacobian equals T.jacobian's and numpy's, the train function's [mean L_rec, L_jacob]
    equal numpy's, the whole cost's gradient matches finite differences, and training lowers the cost."""
    floatx("float64")
    rng = numpy.random.RandomState(123)
    data = rng.uniform(size=(40, 8))
    train_set_x = theano.shared(data, borrow=True)
    index, x = T.lscalar(), T.matrix("x")
    ca = cA(numpy_rng=rng, input=x, n_visible=8, n_hidden=5, n_batchsize=10)
    ca.b.set_value(rng.normal(size=5))
    cost, updates = ca.get_cost_updates(contraction_level=0.1, learning_rate=0.01)
    train_ca = theano.function([index], [T.mean(ca.L_rec), ca.L_jacob], updates=updates,
                               givens={x: train_set_x[index * 10:(index + 1) * 10]})

    W, b, b_prime = [p.get_value() for p in ca.params]
    h = sigmoid(data[10:20] @ W + b)
    jacobian = (h * (1 - h))[:, None, :] * W[None]            # dh_j / dx_i at each example: (10, 8, 5)
    J = theano.function([x], ca.get_jacobian(ca.get_hidden_values(x), ca.W))(data[10:20])
    numpy.testing.assert_allclose(J, jacobian, rtol=1e-12)
    v = T.vector("v")
    numpy.testing.assert_allclose(theano.function([v], T.jacobian(ca.get_hidden_values(v), v))(data[10]),
                                  jacobian[0].T, rtol=1e-12)
    L_rec, L_jacob = train_ca(1)
    assert float(L_rec) == pytest.approx(reconstruction_cross_entropy(data[10:20], W, b, b_prime), rel=1e-12)
    assert float(L_jacob) == pytest.approx((jacobian ** 2).sum() / 10, rel=1e-12)

    def cost_of(W, b, b_prime):
        model = cA(numpy_rng=rng, input=T.constant(data[:10]), n_visible=8, n_hidden=5, n_batchsize=10,
                   W=W, bhid=b, bvis=b_prime)
        return model.get_cost_updates(contraction_level=0.1, learning_rate=0.01)[0]
    verify_grad(cost_of, [W, b, b_prime], n_tests=1, rng=numpy.random.RandomState(0))

    c = numpy.vstack([train_ca(i % 4) for i in range(120)])
    total = c[:, 0] + 0.1 * c[:, 1]
    assert numpy.mean(total[-8:]) < numpy.mean(total[:8]) - 0.5


# rbm.py, DBN.py

class RBM(object):
    """rbm.py's restricted Boltzmann machine, trained by CD-k or PCD-k."""

    def __init__(self, input=None, n_visible=784, n_hidden=500, W=None, hbias=None, vbias=None, numpy_rng=None,
                 theano_rng=None):
        self.n_visible, self.n_hidden = n_visible, n_hidden
        floatX = theano.config.floatX
        if numpy_rng is None:
            numpy_rng = numpy.random.RandomState(1234)
        if theano_rng is None:
            theano_rng = RandomStreams(numpy_rng.randint(2 ** 30))
        if W is None:
            bound = 4 * numpy.sqrt(6. / (n_hidden + n_visible))
            W = theano.shared(value=numpy.asarray(numpy_rng.uniform(low=-bound, high=bound,
                                                                    size=(n_visible, n_hidden)), dtype=floatX),
                              name="W", borrow=True)
        if hbias is None:
            hbias = theano.shared(value=numpy.zeros(n_hidden, dtype=floatX), name="hbias", borrow=True)
        if vbias is None:
            vbias = theano.shared(value=numpy.zeros(n_visible, dtype=floatX), name="vbias", borrow=True)
        self.input = input
        if not input:
            self.input = T.matrix("input")
        self.W, self.hbias, self.vbias, self.theano_rng = W, hbias, vbias, theano_rng
        self.params = [self.W, self.hbias, self.vbias]

    def free_energy(self, v_sample):
        wx_b = T.dot(v_sample, self.W) + self.hbias
        return -T.sum(T.log(1 + T.exp(wx_b)), axis=1) - T.dot(v_sample, self.vbias)

    def propup(self, vis):
        return self._activation(T.dot(vis, self.W) + self.hbias)

    def propdown(self, hid):
        return self._activation(T.dot(hid, self.W.T) + self.vbias)

    @staticmethod
    def _activation(pre_sigmoid_activation):
        return [pre_sigmoid_activation, T.nnet.sigmoid(pre_sigmoid_activation)]

    def sample_h_given_v(self, v0_sample):
        return self._with_sample(*self.propup(v0_sample))

    def sample_v_given_h(self, h0_sample):
        return self._with_sample(*self.propdown(h0_sample))

    def _with_sample(self, pre_sigmoid, mean):
        """[pre-sigmoid, mean, a binomial sample of the mean], as the tutorial's sample_*_given_* return."""
        return [pre_sigmoid, mean, self.theano_rng.binomial(size=mean.shape, n=1, p=mean, dtype=theano.config.floatX)]

    def gibbs_hvh(self, h0_sample):
        pre_sigmoid_v1, v1_mean, v1_sample = self.sample_v_given_h(h0_sample)
        pre_sigmoid_h1, h1_mean, h1_sample = self.sample_h_given_v(v1_sample)
        return [pre_sigmoid_v1, v1_mean, v1_sample, pre_sigmoid_h1, h1_mean, h1_sample]

    def gibbs_vhv(self, v0_sample):
        pre_sigmoid_h1, h1_mean, h1_sample = self.sample_h_given_v(v0_sample)
        pre_sigmoid_v1, v1_mean, v1_sample = self.sample_v_given_h(h1_sample)
        return [pre_sigmoid_h1, h1_mean, h1_sample, pre_sigmoid_v1, v1_mean, v1_sample]

    def get_cost_updates(self, lr=0.1, persistent=None, k=1):
        pre_sigmoid_ph, ph_mean, ph_sample = self.sample_h_given_v(self.input)
        chain_start = ph_sample if persistent is None else persistent
        ([pre_sigmoid_nvs, nv_means, nv_samples, pre_sigmoid_nhs, nh_means, nh_samples],
         updates) = theano.scan(self.gibbs_hvh, outputs_info=[None, None, None, None, None, chain_start],
                                n_steps=k)
        self.chain_end = chain_end = nv_samples[-1]
        self.nh_end = nh_samples[-1]
        cost = T.mean(self.free_energy(self.input)) - T.mean(self.free_energy(chain_end))
        self.gparams = gparams = T.grad(cost, self.params, consider_constant=[chain_end])
        for gparam, param in zip(gparams, self.params):
            updates[param] = param - gparam * T.cast(lr, dtype=theano.config.floatX)
        if persistent:
            updates[persistent] = nh_samples[-1]
            monitoring_cost = self.get_pseudo_likelihood_cost(updates)
        else:
            monitoring_cost = self.get_reconstruction_cost(updates, pre_sigmoid_nvs[-1])
        return monitoring_cost, updates

    def get_pseudo_likelihood_cost(self, updates):
        self.bit_i_idx = bit_i_idx = theano.shared(value=0, name="bit_i_idx")
        xi = T.round(self.input)
        fe_xi = self.free_energy(xi)
        xi_flip = T.set_subtensor(xi[:, bit_i_idx], 1 - xi[:, bit_i_idx])
        fe_xi_flip = self.free_energy(xi_flip)
        cost = T.mean(self.n_visible * T.log(T.nnet.sigmoid(fe_xi_flip - fe_xi)))
        updates[bit_i_idx] = (bit_i_idx + 1) % self.n_visible
        return cost

    def get_reconstruction_cost(self, updates, pre_sigmoid_nv):
        return T.mean(T.sum(self.input * T.log(T.nnet.sigmoid(pre_sigmoid_nv))
                            + (1 - self.input) * T.log(1 - T.nnet.sigmoid(pre_sigmoid_nv)), axis=1))


def binary_data(rng, n, n_visible):
    """Two noisy binary prototypes: data an RBM learns quickly."""
    prototypes = rng.uniform(size=(2, n_visible)) < 0.5
    rows = prototypes[rng.randint(2, size=n)] ^ (rng.uniform(size=(n, n_visible)) < 0.05)
    return rows.astype(theano.config.floatX)


def test_rbm_cd_k(on_backend, floatx):
    """rbm.py's CD-k: free_energy equals numpy's; one step of the scan over gibbs_hvh with
    consider_constant=[chain_end] moves W, hbias and vbias by numpy's CD gradient at the chain end the same call
    sampled (a binary matrix); the reconstruction monitor improves over training."""
    floatx("float64")
    rng = numpy.random.RandomState(123)
    data = binary_data(rng, 40, 12)
    train_set_x = theano.shared(data, borrow=True)
    index, x = T.lscalar(), T.matrix("x")
    rbm = RBM(input=x, n_visible=12, n_hidden=6, numpy_rng=rng, theano_rng=RandomStreams(rng.randint(2 ** 30)))
    rbm.hbias.set_value(rng.normal(size=6))
    rbm.vbias.set_value(rng.normal(size=12))
    W, hbias, vbias = [p.get_value() for p in rbm.params]
    numpy.testing.assert_allclose(theano.function([x], rbm.free_energy(x))(data), free_energy(data, W, hbias, vbias),
                                  rtol=1e-12)

    cost, updates = rbm.get_cost_updates(lr=0.1, persistent=None, k=2)
    train_rbm = theano.function([index], [cost, rbm.chain_end] + rbm.gparams, updates=updates, name="train_rbm",
                                givens={x: train_set_x[index * 10:(index + 1) * 10]})
    _, chain_end, gW, ghbias, gvbias = train_rbm(1)
    v = data[10:20]
    assert chain_end.shape == (10, 12) and set(numpy.unique(chain_end)) <= {0., 1.}
    expected = [(chain_end.T @ sigmoid(chain_end @ W + hbias) - v.T @ sigmoid(v @ W + hbias)) / 10,
                (sigmoid(chain_end @ W + hbias) - sigmoid(v @ W + hbias)).mean(0), (chain_end - v).mean(0)]
    for got, want, old, param in zip([gW, ghbias, gvbias], expected, [W, hbias, vbias], rbm.params):
        numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
        numpy.testing.assert_allclose(param.get_value(), old - 0.1 * want, rtol=1e-10, atol=1e-12)

    monitor = [float(train_rbm(i % 4)[0]) for i in range(120)]
    assert numpy.mean(monitor[-12:]) > numpy.mean(monitor[:12]) + 5.0       # the cross-entropy monitor rises


def test_rbm_pcd_and_sampling(numpy_only, floatx):
    """rbm.py's PCD-k and sampling (numpy backend only, for time: it passes on jax and theano, whose first
    compilation of these scans takes 5-15 s):
    the pseudo-likelihood cost (T.round, T.set_subtensor at a shared bit index) equals numpy's, bit_i_idx cycles
    modulo n_visible, the persistent chain keeps nh_samples[-1], and the sampling scan over gibbs_vhv writes its
    last sample back into the persistent visible chain."""
    floatx("float64")
    rng = numpy.random.RandomState(123)
    data = binary_data(rng, 40, 12)
    train_set_x = theano.shared(data, borrow=True)
    index, x = T.lscalar(), T.matrix("x")
    persistent_chain = theano.shared(numpy.zeros((10, 6), dtype=theano.config.floatX), borrow=True)
    rbm = RBM(input=x, n_visible=12, n_hidden=6, numpy_rng=rng, theano_rng=RandomStreams(rng.randint(2 ** 30)))
    cost, updates = rbm.get_cost_updates(lr=0.1, persistent=persistent_chain, k=3)
    train_rbm = theano.function([index], [cost, rbm.nh_end], updates=updates, name="train_rbm",
                                givens={x: train_set_x[index * 10:(index + 1) * 10]})
    for step in range(14):
        W, hbias, vbias = [p.get_value() for p in rbm.params]
        bit = int(rbm.bit_i_idx.get_value())
        assert bit == step % 12
        got, nh_end = train_rbm(step % 4)
        xi = numpy.round(data[minibatch(step % 4, 10)])
        flipped = xi.copy()
        flipped[:, bit] = 1 - flipped[:, bit]
        fe_xi, fe_flip = free_energy(xi, W, hbias, vbias), free_energy(flipped, W, hbias, vbias)
        assert float(got) == pytest.approx(numpy.mean(12 * numpy.log(sigmoid(fe_flip - fe_xi))), rel=1e-10)
        numpy.testing.assert_array_equal(persistent_chain.get_value(), nh_end)
        assert set(numpy.unique(nh_end)) <= {0., 1.}

    persistent_vis_chain = theano.shared(data[:5].copy())
    ([presig_hids, hid_mfs, hid_samples, presig_vis, vis_mfs, vis_samples],
     updates) = theano.scan(rbm.gibbs_vhv, outputs_info=[None, None, None, None, None, persistent_vis_chain],
                            n_steps=4)
    updates.update({persistent_vis_chain: vis_samples[-1]})
    sample_fn = theano.function([], [vis_mfs[-1], vis_samples[-1]], updates=updates, name="sample_fn")
    vis_mf, vis_sample = sample_fn()
    assert vis_mf.shape == vis_sample.shape == (5, 12) and numpy.all((vis_mf > 0) & (vis_mf < 1))
    numpy.testing.assert_array_equal(persistent_vis_chain.get_value(), vis_sample)
    assert set(numpy.unique(vis_sample)) <= {0., 1.}


class DBN(StackedNetwork):
    """DBN.py's deep belief network: RBMs sharing their weights with the HiddenLayers."""
    pretraining_class, bias_keyword = RBM, "hbias"
    rbm_layers = property(lambda self: self.pretraining_layers)

    def pretraining_functions(self, train_set_x, batch_size, k):
        index, learning_rate = T.lscalar("index"), T.scalar("lr")
        batch_begin = index * batch_size
        fns = []
        for rbm in self.rbm_layers:
            cost, updates = rbm.get_cost_updates(learning_rate, persistent=None, k=k)
            fns.append(theano.function(inputs=[index, theano.In(learning_rate, value=0.1)], outputs=cost,
                                       updates=updates,
                                       givens={self.x: train_set_x[batch_begin:batch_begin + batch_size]}))
        return fns


def test_DBN(numpy_only, floatx):
    """DBN.py (numpy backend only, for time, as test_rbm_pcd_and_sampling): pretraining functions with a
    theano.In learning rate called by keyword move the pretrained layer's HiddenLayer weights (the RBM's own
    shared W) and not the other layer's, the pretrained RBM's reconstruction monitor improves, and
    fine-tuning's first cost is numpy's NLL of the pretrained network, then falls."""
    floatx("float64")
    numpy_rng = numpy.random.RandomState(123)
    data = binary_data(numpy_rng, 40, 10)
    labels = (data[:, 0] != data[:, 1]).astype("int32")
    train_set_x, train_set_y = shared_dataset(data, labels)
    dbn = DBN(numpy_rng=numpy_rng, n_ins=10, hidden_layers_sizes=[8, 6], n_outs=2)
    assert dbn.rbm_layers[0].W is dbn.sigmoid_layers[0].W and dbn.rbm_layers[1].hbias is dbn.sigmoid_layers[1].b
    pretraining_fns = dbn.pretraining_functions(train_set_x=train_set_x, batch_size=10, k=1)
    W1 = dbn.params[2].get_value()
    monitor = [float(pretraining_fns[0](index=i % 4, lr=0.1)) for i in range(100)]
    monitor += [float(pretraining_fns[0](i % 4)) for i in range(20)]       # the default lr, 0.1
    assert numpy.mean(monitor[-10:]) > numpy.mean(monitor[:10]) + 3.0
    numpy.testing.assert_array_equal(dbn.params[2].get_value(), W1)
    W0 = dbn.params[0].get_value()
    pretraining_fns[1](index=0, lr=0.1)
    numpy.testing.assert_array_equal(dbn.params[0].get_value(), W0)
    assert not numpy.allclose(dbn.params[2].get_value(), W1)

    index = T.lscalar("index")
    gparams = T.grad(dbn.finetune_cost, dbn.params)
    train_fn = theano.function(inputs=[index], outputs=dbn.finetune_cost, updates=[
        (param, param - gparam * 0.1) for param, gparam in zip(dbn.params, gparams)], givens={
        dbn.x: train_set_x[index * 10:(index + 1) * 10], dbn.y: train_set_y[index * 10:(index + 1) * 10]})
    check_finetuning(train_fn, dbn.params, data, labels, steps=200)


# convolutional_mlp.py

class LeNetConvPoolLayer(object):
    """convolutional_mlp.py's convolution + max-pooling layer."""

    def __init__(self, rng, input, filter_shape, image_shape, poolsize=(2, 2)):
        assert image_shape[1] == filter_shape[1]
        self.input = input
        fan_in = numpy.prod(filter_shape[1:])
        fan_out = filter_shape[0] * numpy.prod(filter_shape[2:]) // numpy.prod(poolsize)
        W_bound = numpy.sqrt(6. / (fan_in + fan_out))
        self.W = theano.shared(numpy.asarray(rng.uniform(low=-W_bound, high=W_bound, size=filter_shape),
                                             dtype=theano.config.floatX), borrow=True)
        self.b = theano.shared(value=numpy.zeros((filter_shape[0],), dtype=theano.config.floatX), borrow=True)
        conv_out = conv2d(input=input, filters=self.W, filter_shape=filter_shape, input_shape=image_shape)
        pooled_out = pool.pool_2d(input=conv_out, ws=poolsize, ignore_border=True)
        self.output = T.tanh(pooled_out + self.b.dimshuffle("x", 0, "x", "x"))
        self.params = [self.W, self.b]


def lenet_layer(x, W, b, pool_size):
    """numpy's LeNetConvPoolLayer: a valid convolution with flipped filters, max pooling (ignore_border), tanh."""
    flipped = W[:, :, ::-1, ::-1]
    rows, cols = x.shape[2] - W.shape[2] + 1, x.shape[3] - W.shape[3] + 1
    out = numpy.zeros((x.shape[0], W.shape[0], rows, cols))
    for i in range(rows):
        for j in range(cols):
            patch = x[:, :, i:i + W.shape[2], j:j + W.shape[3]]
            out[:, :, i, j] = numpy.tensordot(patch, flipped, axes=([1, 2, 3], [1, 2, 3]))
    r, c = rows // pool_size, cols // pool_size
    pooled = out[:, :, :r * pool_size, :c * pool_size].reshape(x.shape[0], W.shape[0], r, pool_size, c, pool_size)
    return numpy.tanh(pooled.max(axis=(3, 5)) + b[None, :, None, None])


def test_convolutional_mlp(numpy_or_jax, floatx):
    """convolutional_mlp.py in float32, as on a GPU: two LeNetConvPoolLayers (nnet.conv2d with
    filter_shape and input_shape, pool.pool_2d(ws=, ignore_border=True) on an odd size) equal numpy's flipped
    convolution and max pooling, as do the older conv.conv2d(image_shape=) and pool_2d(ds=); SGD lowers LeNet's
    cost."""
    floatx("float32")
    floatX = theano.config.floatX
    rng = numpy.random.RandomState(23455)
    batch_size = 10
    data, labels = blobs(rng, 40, 81, 2)
    train_set_x, train_set_y = shared_dataset(data, labels)
    index, x, y = T.lscalar(), T.matrix("x"), T.ivector("y")
    layer0_input = x.reshape((batch_size, 1, 9, 9))
    layer0 = LeNetConvPoolLayer(rng, input=layer0_input, image_shape=(batch_size, 1, 9, 9),
                                filter_shape=(3, 1, 3, 3), poolsize=(2, 2))          # 7x7, pooled to 3x3
    layer1 = LeNetConvPoolLayer(rng, input=layer0.output, image_shape=(batch_size, 3, 3, 3),
                                filter_shape=(4, 3, 2, 2), poolsize=(1, 1))
    layer2 = HiddenLayer(rng, input=layer1.output.flatten(2), n_in=4 * 2 * 2, n_out=6, activation=T.tanh)
    layer3 = LogisticRegression(input=layer2.output, n_in=6, n_out=2)
    cost = layer3.negative_log_likelihood(y)
    params = layer3.params + layer2.params + layer1.params + layer0.params
    grads = T.grad(cost, params)
    train_model = theano.function([index], cost, updates=[(p, p - 0.1 * g) for p, g in zip(params, grads)],
                                  givens={x: train_set_x[index * batch_size:(index + 1) * batch_size],
                                          y: train_set_y[index * batch_size:(index + 1) * batch_size]})

    images = data[:batch_size].reshape(batch_size, 1, 9, 9)
    layer0.b.set_value(rng.normal(size=3).astype(floatX))
    expected0 = lenet_layer(images, layer0.W.get_value(), layer0.b.get_value(), 2)
    expected1 = lenet_layer(expected0, layer1.W.get_value(), layer1.b.get_value(), 1)
    got0, got1 = theano.function([x], [layer0.output, layer1.output])(data[:batch_size].astype(floatX))
    assert got0.dtype == got1.dtype == numpy.float32
    numpy.testing.assert_allclose(got0, expected0, rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(got1, expected1, rtol=1e-5, atol=1e-6)
    x4 = T.tensor4("x4")
    old_style = pool.pool_2d(input=conv.conv2d(input=x4, filters=layer0.W, filter_shape=(3, 1, 3, 3),
                                                image_shape=(batch_size, 1, 9, 9)), ds=(2, 2), ignore_border=True)
    numpy.testing.assert_allclose(
        theano.function([x4], T.tanh(old_style + layer0.b.dimshuffle("x", 0, "x", "x")))(images.astype(floatX)),
        expected0, rtol=1e-5, atol=1e-6)

    costs = [float(train_model(i % 4)) for i in range(80)]
    assert numpy.mean(costs[-8:]) < 0.85 * numpy.mean(costs[:8])


def test_lenet_layer_gradient(numpy_or_jax, floatx):
    """convolutional_mlp.py: the gradient of a LeNetConvPoolLayer's output (conv2d, 2x2 max pooling, tanh) wrt
    its filters, bias and input matches finite differences."""
    floatx("float64")
    rng = numpy.random.RandomState(5)

    def layer(images, W, b):         # LeNetConvPoolLayer's expression, its filters and bias as arguments
        conv_out = conv2d(input=images, filters=W, filter_shape=(2, 2, 3, 3), input_shape=(2, 2, 6, 6))
        return T.tanh(pool.pool_2d(input=conv_out, ws=(2, 2), ignore_border=True) + b.dimshuffle("x", 0, "x", "x"))
    verify_grad(layer, [rng.normal(size=(2, 2, 6, 6)), rng.normal(size=(2, 2, 3, 3)), rng.normal(size=2)],
                n_tests=1, rng=numpy.random.RandomState(0))
    verify_grad(lambda images: LeNetConvPoolLayer(rng, input=images, filter_shape=(2, 2, 3, 3),
                                                  image_shape=(2, 2, 6, 6)).output,
                [rng.normal(size=(2, 2, 6, 6))], n_tests=1, rng=numpy.random.RandomState(1))


# lstm.py

def numpy_floatX(data):
    return numpy.asarray(data, dtype=theano.config.floatX)


def ortho_weight(ndim):
    u, s, v = numpy.linalg.svd(numpy.random.randn(ndim, ndim))
    return u.astype(theano.config.floatX)


def init_lstm_params(dim_proj, n_words, ydim):
    """lstm.py's init_params and param_init_lstm."""
    params = OrderedDict()
    params["Wemb"] = (0.01 * numpy.random.rand(n_words, dim_proj)).astype(theano.config.floatX)
    params["lstm_W"] = numpy.concatenate([ortho_weight(dim_proj) for _ in range(4)], axis=1)
    params["lstm_U"] = numpy.concatenate([ortho_weight(dim_proj) for _ in range(4)], axis=1)
    params["lstm_b"] = numpy.zeros((4 * dim_proj,)).astype(theano.config.floatX)
    params["U"] = 0.01 * numpy.random.randn(dim_proj, ydim).astype(theano.config.floatX)
    params["b"] = numpy.zeros((ydim,)).astype(theano.config.floatX)
    return params


def lstm_layer(tparams, state_below, dim_proj, mask):
    """lstm.py's lstm_layer: the masked LSTM scanned over the time steps (the first axis)."""
    nsteps, n_samples = state_below.shape[0], state_below.shape[1]

    def _slice(_x, n, dim):
        if _x.ndim == 3:
            return _x[:, :, n * dim:(n + 1) * dim]
        return _x[:, n * dim:(n + 1) * dim]

    def _step(m_, x_, h_, c_):
        preact = T.dot(h_, tparams["lstm_U"])
        preact += x_
        i = T.nnet.sigmoid(_slice(preact, 0, dim_proj))
        f = T.nnet.sigmoid(_slice(preact, 1, dim_proj))
        o = T.nnet.sigmoid(_slice(preact, 2, dim_proj))
        c = T.tanh(_slice(preact, 3, dim_proj))
        c = f * c_ + i * c
        c = m_[:, None] * c + (1. - m_)[:, None] * c_
        h = o * T.tanh(c)
        h = m_[:, None] * h + (1. - m_)[:, None] * h_
        return h, c

    state_below = T.dot(state_below, tparams["lstm_W"]) + tparams["lstm_b"]
    rval, updates = theano.scan(_step, sequences=[mask, state_below], name="lstm__layers", n_steps=nsteps,
                                outputs_info=[T.alloc(numpy_floatX(0.), n_samples, dim_proj),
                                              T.alloc(numpy_floatX(0.), n_samples, dim_proj)])
    return rval[0]


def build_lstm_model(tparams, dim_proj, x, mask, y, use_noise, trng):
    """lstm.py's build_model: embedding, LSTM, mean over the unmasked steps, dropout, softmax."""
    n_timesteps, n_samples = x.shape[0], x.shape[1]
    emb = tparams["Wemb"][x.flatten()].reshape([n_timesteps, n_samples, dim_proj])
    proj = lstm_layer(tparams, emb, dim_proj, mask=mask)
    proj = (proj * mask[:, :, None]).sum(axis=0)
    proj = proj / mask.sum(axis=0)[:, None]
    proj = T.switch(use_noise, proj * trng.binomial(proj.shape, p=0.5, n=1, dtype=proj.dtype), proj * 0.5)
    pred = T.nnet.softmax(T.dot(proj, tparams["U"]) + tparams["b"])
    return pred, -T.log(pred[T.arange(n_samples), y] + 1e-8).mean()


def numpy_lstm(params, x, mask):
    """The masked LSTM's hidden states, a Python loop over the steps."""
    W, U, b = params["lstm_W"], params["lstm_U"], params["lstm_b"]
    d = U.shape[0]
    h = c = numpy.zeros((x.shape[1], d))
    hs = []
    for t in range(x.shape[0]):
        pre = params["Wemb"][x[t]] @ W + b + h @ U
        i, f, o = sigmoid(pre[:, :d]), sigmoid(pre[:, d:2 * d]), sigmoid(pre[:, 2 * d:3 * d])
        g = numpy.tanh(pre[:, 3 * d:])
        m = mask[t][:, None]
        c_new = f * c + i * g
        c_new = m * c_new + (1 - m) * c
        h = m * (o * numpy.tanh(c_new)) + (1 - m) * h
        c = c_new
        hs.append(h)
    return numpy.stack(hs)


def test_lstm(numpy_or_jax, floatx):
    """lstm.py: the masked LSTM's hidden states and the classifier's probabilities (dropout off: proj * 0.5)
    equal a numpy loop, the cost's gradient wrt every parameter matches finite differences, and adadelta's two
    functions (f_grad_shared, then f_update(lr) with no outputs and on_unused_input='ignore') lower the cost."""
    floatx("float64")
    numpy.random.seed(123)
    dim_proj, n_words, ydim = 3, 10, 2
    params = init_lstm_params(dim_proj, n_words, ydim)
    tparams = OrderedDict((kk, theano.shared(pp, name=kk)) for kk, pp in params.items())
    trng, use_noise = MRG_RandomStreams(123), theano.shared(numpy_floatX(0.))
    x, mask, y = T.matrix("x", dtype="int64"), T.matrix("mask", dtype=theano.config.floatX), T.vector("y", "int64")
    pred, cost = build_lstm_model(tparams, dim_proj, x, mask, y, use_noise, trng)
    f_pred_prob = theano.function([x, mask], pred, name="f_pred_prob")

    rng = numpy.random.RandomState(0)
    lengths = numpy.array([5, 2, 4, 3, 5, 1])
    x_value = rng.randint(1, n_words, size=(5, 6)).astype("int64")
    mask_value = (numpy.arange(5)[:, None] < lengths).astype(theano.config.floatX)
    x_value *= mask_value.astype("int64")
    y_value = (x_value[0] > 4).astype("int64")
    params["Wemb"] = 3 * rng.normal(size=params["Wemb"].shape)       # larger states than 0.01 * rand gives
    params["U"] = rng.normal(size=params["U"].shape)
    for kk in ("Wemb", "U"):
        tparams[kk].set_value(params[kk])
    states = theano.function([x, mask], lstm_layer(tparams, tparams["Wemb"][x.flatten()].reshape(
        [x.shape[0], x.shape[1], dim_proj]), dim_proj, mask))(x_value, mask_value)
    expected = numpy_lstm(params, x_value, mask_value)
    numpy.testing.assert_allclose(states, expected, rtol=1e-10, atol=1e-12)
    proj = (expected * mask_value[:, :, None]).sum(0) / mask_value.sum(0)[:, None]
    numpy.testing.assert_allclose(f_pred_prob(x_value, mask_value), softmax(0.5 * proj @ params["U"] + params["b"]),
                                  rtol=1e-10)
    use_noise.set_value(1.)                     # dropout on: a new binomial mask at each call
    assert not numpy.allclose(f_pred_prob(x_value, mask_value), f_pred_prob(x_value, mask_value))
    use_noise.set_value(0.)

    names = list(tparams)

    def cost_of(*values):
        symbolic = OrderedDict(zip(names, values))
        return build_lstm_model(symbolic, dim_proj, T.constant(x_value), T.constant(mask_value), T.constant(y_value),
                                use_noise, trng)[1]
    verify_grad(cost_of, [params[kk] for kk in names], n_tests=1, rng=numpy.random.RandomState(0))

    grads = T.grad(cost, wrt=list(tparams.values()))
    lr = T.scalar(name="lr")
    zipped_grads = [theano.shared(p.get_value() * numpy_floatX(0.), name="%s_grad" % k) for k, p in tparams.items()]
    running_up2 = [theano.shared(p.get_value() * numpy_floatX(0.), name="%s_rup2" % k) for k, p in tparams.items()]
    running_grads2 = [theano.shared(p.get_value() * numpy_floatX(0.), name="%s_rgrad2" % k)
                      for k, p in tparams.items()]
    zgup = [(zg, g) for zg, g in zip(zipped_grads, grads)]
    rg2up = [(rg2, 0.95 * rg2 + 0.05 * (g ** 2)) for rg2, g in zip(running_grads2, grads)]
    f_grad_shared = theano.function([x, mask, y], cost, updates=zgup + rg2up, name="adadelta_f_grad_shared")
    updir = [-T.sqrt(ru2 + 1e-6) / T.sqrt(rg2 + 1e-6) * zg
             for zg, ru2, rg2 in zip(zipped_grads, running_up2, running_grads2)]
    ru2up = [(ru2, 0.95 * ru2 + 0.05 * (ud ** 2)) for ru2, ud in zip(running_up2, updir)]
    param_up = [(p, p + ud) for p, ud in zip(tparams.values(), updir)]
    f_update = theano.function([lr], [], updates=ru2up + param_up, on_unused_input="ignore", name="adadelta_f_update")
    f_cost = theano.function([x, mask, y], cost, name="f_cost")

    before = float(f_cost(x_value, mask_value, y_value))
    for _ in range(60):
        use_noise.set_value(1.)
        f_grad_shared(x_value, mask_value, y_value)
        assert f_update(0.0001) == []
    use_noise.set_value(0.)
    assert float(f_cost(x_value, mask_value, y_value)) < 0.9 * before


# rnnrbm.py

def build_rbm(v, W, bv, bh, k, rng):
    """rnnrbm.py's build_rbm: a k-step Gibbs chain from v (scan), its free-energy cost and monitor."""
    def gibbs_step(v):
        mean_h = T.nnet.sigmoid(T.dot(v, W) + bh)
        h = rng.binomial(size=mean_h.shape, n=1, p=mean_h, dtype=theano.config.floatX)
        mean_v = T.nnet.sigmoid(T.dot(h, W.T) + bv)
        v = rng.binomial(size=mean_v.shape, n=1, p=mean_v, dtype=theano.config.floatX)
        return mean_v, v

    chain, updates = theano.scan(lambda v: gibbs_step(v)[1], outputs_info=[v], n_steps=k)
    v_sample = chain[-1]
    mean_v = gibbs_step(v_sample)[0]
    monitor = T.xlogx.xlogy0(v, mean_v) + T.xlogx.xlogy0(1 - v, 1 - mean_v)
    monitor = monitor.sum() / v.shape[0]

    def free_energy(v):
        return -(v * bv).sum() - T.log(1 + T.exp(T.dot(v, W) + bh)).sum()
    cost = (free_energy(v) - free_energy(v_sample)) / v.shape[0]
    return v_sample, cost, monitor, updates


def build_rnnrbm(n_visible, n_hidden, n_hidden_recurrent, rng, k=3, n_generate=7):
    """rnnrbm.py's build_rnnrbm: the RNN's deterministic recurrence for training, and a generating scan whose
    every step runs its own Gibbs chain (a scan inside the scan)."""
    def shared_normal(num_rows, num_cols, scale=1):
        return theano.shared(numpy.random.normal(scale=scale, size=(num_rows, num_cols)).astype(theano.config.floatX))

    def shared_zeros(*shape):
        return theano.shared(numpy.zeros(shape, dtype=theano.config.floatX))

    W, bv, bh = shared_normal(n_visible, n_hidden, 0.01), shared_zeros(n_visible), shared_zeros(n_hidden)
    Wuh, Wuv = shared_normal(n_hidden_recurrent, n_hidden, 0.1), shared_normal(n_hidden_recurrent, n_visible, 0.1)
    Wvu, Wuu = shared_normal(n_visible, n_hidden_recurrent, 0.1), shared_normal(n_hidden_recurrent,
                                                                                 n_hidden_recurrent, 0.1)
    bu = shared_zeros(n_hidden_recurrent)
    params = W, bv, bh, Wuh, Wuv, Wvu, Wuu, bu
    v = T.matrix()
    u0 = T.zeros((n_hidden_recurrent,))

    def recurrence(v_t, u_tm1):
        bv_t = bv + T.dot(u_tm1, Wuv)
        bh_t = bh + T.dot(u_tm1, Wuh)
        generate = v_t is None
        if generate:
            v_t, _, _, updates = build_rbm(T.zeros((n_visible,)), W, bv_t, bh_t, k=k, rng=rng)
        u_t = T.tanh(bu + T.dot(v_t, Wvu) + T.dot(u_tm1, Wuu))
        return ([v_t, u_t], updates) if generate else [u_t, bv_t, bh_t]

    (u_t, bv_t, bh_t), updates_train = theano.scan(lambda v_t, u_tm1, *_: recurrence(v_t, u_tm1), sequences=v,
                                                   outputs_info=[u0, None, None], non_sequences=params)
    v_sample, cost, monitor, updates_rbm = build_rbm(v, W, bv_t[:], bh_t[:], k=k, rng=rng)
    updates_train.update(updates_rbm)
    (v_t, u_t2), updates_generate = theano.scan(lambda u_tm1, *_: recurrence(None, u_tm1), outputs_info=[None, u0],
                                                non_sequences=params, n_steps=n_generate)
    return v, v_sample, cost, monitor, params, updates_train, v_t, updates_generate, (u_t, bv_t, bh_t)


def test_rnnrbm(numpy_or_jax, floatx):
    """rnnrbm.py: the training scan's u_t, bv_t, bh_t equal a numpy loop of the RNN; the gradient with
    consider_constant=[v_sample] is numpy's CD gradient for W, bv and bh at the v_sample the same call drew; the
    pseudo-likelihood monitor rises over training, and the generating scan (a Gibbs chain scanned inside each
    step, MRG_RandomStreams carried in its updates) draws anew at each step and gives a new binary piano roll at
    each call."""
    floatx("float64")
    theano.config.warn.subtensor_merge_bug = False          # rnnrbm.py's first line
    numpy.random.seed(0xbeef)
    rng = MRG_RandomStreams(seed=numpy.random.randint(1 << 30))
    n_visible = 6
    (v, v_sample, cost, monitor, params, updates_train, v_t, updates_generate,
     recurrent) = build_rnnrbm(n_visible, 5, 4, rng)
    W, bv, bh = params[:3]
    gradient = T.grad(cost, params, consider_constant=[v_sample])
    sequence = (numpy.random.uniform(size=(12, n_visible)) < [0.9, 0.1, 0.5, 0.8, 0.2, 0.5]).astype("float64")

    u_t, bv_t, bh_t = theano.function([v], list(recurrent))(sequence)
    values = [p.get_value() for p in params]
    Wv, bvv, bhv, Wuh, Wuv, Wvu, Wuu, bu = values
    u = numpy.zeros(4)
    for t in range(12):
        numpy.testing.assert_allclose(bv_t[t], bvv + u @ Wuv, rtol=1e-12, atol=1e-15)
        numpy.testing.assert_allclose(bh_t[t], bhv + u @ Wuh, rtol=1e-12, atol=1e-15)
        u = numpy.tanh(bu + sequence[t] @ Wvu + u @ Wuu)
        numpy.testing.assert_allclose(u_t[t], u, rtol=1e-12)

    sample, gW, gbv, gbh = theano.function([v], [v_sample] + list(gradient[:3]), updates=updates_train)(sequence)
    assert sample.shape == sequence.shape and set(numpy.unique(sample)) <= {0., 1.}
    h_data, h_model = sigmoid(sequence @ Wv + bh_t), sigmoid(sample @ Wv + bh_t)
    numpy.testing.assert_allclose(gW, (sample.T @ h_model - sequence.T @ h_data) / 12, rtol=1e-10, atol=1e-13)
    numpy.testing.assert_allclose(gbv, (sample - sequence).sum(0) / 12, rtol=1e-10, atol=1e-13)
    numpy.testing.assert_allclose(gbh, (h_model - h_data).sum(0) / 12, rtol=1e-10, atol=1e-13)

    updates_train.update(((p, p - 0.1 * g) for p, g in zip(params, gradient)))
    train_function = theano.function([v], monitor, updates=updates_train)
    generate_function = theano.function([], v_t, updates=updates_generate)
    recurrent_weights = [p.get_value() for p in params[3:]]
    for p in params[3:]:                 # no recurrence: every step's Gibbs chain has the same biases, so the
        p.set_value(0 * p.get_value())   # rows differ only if the inner scan's random state moves on each step
    assert len({tuple(row) for row in generate_function()}) >= 4           # 7 rows of 6 nearly fair coins
    for p, value in zip(params[3:], recurrent_weights):
        p.set_value(value)
    costs = [float(train_function(sequence)) for _ in range(40)]
    assert numpy.mean(costs[-5:]) > numpy.mean(costs[:5]) + 0.5
    rolls = [generate_function() for _ in range(2)]
    for roll in rolls:
        assert roll.shape == (7, n_visible) and set(numpy.unique(roll)) <= {0., 1.}
    assert not numpy.array_equal(rolls[0], rolls[1])


def test_rnnslu_elman(numpy_or_jax, floatx):
    """rnnslu.py's Elman network: word embeddings of context windows, a scan whose step returns the new
    state and T.nnet.softmax of a vector (a 1 x n row, so the tutorial reads s[:, 0, :]); its first
    sentence's probabilities equal a numpy loop, each row sums to 1, and the sentence SGD step with
    the embeddings' normalization lowers the sentence's NLL."""
    floatx("float64")
    rng = numpy.random.RandomState(7)
    vocabulary, classes, dims, hidden, window = 12, 4, 5, 6, 3
    emb = theano.shared(0.2 * rng.uniform(-1.0, 1.0, (vocabulary + 1, dims)), name="embeddings")
    wx = theano.shared(0.2 * rng.uniform(-1.0, 1.0, (dims * window, hidden)), name="wx")
    wh = theano.shared(0.2 * rng.uniform(-1.0, 1.0, (hidden, hidden)), name="wh")
    w = theano.shared(0.2 * rng.uniform(-1.0, 1.0, (hidden, classes)), name="w")
    bh, b = theano.shared(numpy.zeros(hidden), name="bh"), theano.shared(numpy.zeros(classes), name="b")
    h0 = theano.shared(numpy.zeros(hidden), name="h0")
    params = [emb, wx, wh, w, bh, b, h0]
    idxs = T.imatrix()
    x = emb[idxs].reshape((idxs.shape[0], dims * window))
    y_sentence = T.ivector("y_sentence")

    def recurrence(x_t, h_tm1):
        h_t = T.nnet.sigmoid(T.dot(x_t, wx) + T.dot(h_tm1, wh) + bh)
        s_t = T.nnet.softmax(T.dot(h_t, w) + b)
        return [h_t, s_t]
    [h, s], _ = theano.scan(fn=recurrence, sequences=x, outputs_info=[h0, None], n_steps=x.shape[0])
    p_y_given_x_sentence = s[:, 0, :]
    lr = T.scalar("lr")
    sentence_nll = -T.mean(T.log(p_y_given_x_sentence)[T.arange(x.shape[0]), y_sentence])
    sentence_gradients = T.grad(sentence_nll, params)
    sentence_updates = OrderedDict((p, p - lr * g) for p, g in zip(params, sentence_gradients))
    classify = theano.function(inputs=[idxs], outputs=[p_y_given_x_sentence, T.argmax(p_y_given_x_sentence, axis=1)])
    sentence_train = theano.function(inputs=[idxs, y_sentence, lr], outputs=sentence_nll, updates=sentence_updates)
    normalize = theano.function(inputs=[], updates={emb: emb / T.sqrt((emb ** 2).sum(axis=1)).dimshuffle(0, "x")})

    sentence = rng.randint(0, vocabulary, 7)
    padded = numpy.concatenate([[vocabulary], sentence, [vocabulary]])          # contextwin's -1 padding
    windows = numpy.array([padded[i:i + window] for i in range(len(sentence))], dtype="int32")
    labels = rng.randint(0, classes, len(sentence)).astype("int32")

    probabilities, predicted = classify(windows)
    state, expected = numpy.zeros(hidden), []
    for row in emb.get_value()[windows].reshape(len(sentence), -1):
        state = 1 / (1 + numpy.exp(-(row @ wx.get_value() + state @ wh.get_value())))
        logits = state @ w.get_value()
        expected.append(numpy.exp(logits) / numpy.exp(logits).sum())
    numpy.testing.assert_allclose(probabilities, expected, rtol=1e-10)
    numpy.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    numpy.testing.assert_array_equal(predicted, numpy.argmax(expected, axis=1))
    losses = []
    for _ in range(40):
        losses.append(float(sentence_train(windows, labels, 2.0)))
        normalize()
    assert losses[-1] < 0.5 * losses[0], losses
    numpy.testing.assert_allclose((emb.get_value() ** 2).sum(axis=1), 1.0, rtol=1e-12)
