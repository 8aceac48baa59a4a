"""theano.tensor.nnet.bn: batch normalization with Theano's arguments, normalization axes and
running averages, made of elementwise ops and reductions, so its gradients are theirs."""
import numpy as np

from mlcore import config
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import reduce as red
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.shape import dimshuffle, reshape


def batch_normalization(inputs, gamma, beta, mean, std, mode="low_mem"):
    """(inputs - mean) / std * gamma + beta, every argument broadcasting against inputs.  Theano's
    two modes are two implementations of the same numbers ('high_mem' multiplies by gamma / std)."""
    inputs, gamma, beta, mean, std = (as_tensor_variable(v) for v in (inputs, gamma, beta, mean, std))
    if mode == "low_mem":
        return (inputs - mean) / std * gamma + beta
    if mode == "high_mem":
        return (inputs - mean) * (gamma / std) + beta
    raise ValueError('T.nnet.bn.batch_normalization: mode must be either "low_mem", "high_mem", got %r' % (mode,))


def normalization_axes(name, axes, ndim):
    """Theano's axes argument as sorted ints: 'per-activation' is (0,), 'spatial' (0, 2, 3, ...)."""
    if axes == "per-activation":
        axes = (0,)
    elif axes == "spatial":
        axes = (0,) + tuple(range(2, ndim))
    elif isinstance(axes, (tuple, list, np.ndarray)):
        axes = tuple(sorted(int(a) for a in axes))
    else:
        raise ValueError("T.nnet.bn.%s: axes must be 'per-activation', 'spatial' or a tuple of ints, got %r"
                         % (name, axes))
    if not axes or min(axes) < 0 or max(axes) >= ndim:
        raise ValueError("T.nnet.bn.%s: axes %s must be at least one of the %d-d inputs' axes" % (name, axes, ndim))
    return axes


def parameter_layout(name, inputs, axes, params):
    """Check that params (gamma's layout: one dim per axis not normalized, or inputs.ndim dims with
    size 1 on the normalized ones) agree, and return (expand, collapse): a parameter of that layout
    broadcast against the inputs, and a keepdims statistic back in that layout."""
    kept = [d for d in range(inputs.ndim) if d not in axes]
    full = params["gamma"].ndim == inputs.ndim
    expected = inputs.ndim if full else len(kept)
    for role, value in params.items():
        if value.ndim != expected:
            raise ValueError("T.nnet.bn.%s: %s %s must have %d dims, as gamma %s (inputs %s, axes %s)"
                             % (name, role, value.type, expected, params["gamma"].type, inputs.type, axes))
    if full:      # the normalized axes made statically 1, so that they broadcast (Theano's addbroadcast)
        return (lambda p: reshape(p, [1 if d in axes else p.shape[d] for d in range(p.ndim)])), (lambda s: s)
    pattern = [kept.index(d) if d in kept else "x" for d in range(inputs.ndim)]
    return (lambda p: dimshuffle(p, pattern)), (lambda s: dimshuffle(s, kept))


def check_epsilon(name, epsilon):
    """Theano's (cuDNN's) lower bound, checked in floatx as Theano does."""
    if np.asarray(epsilon, config.floatx()) < 1e-5:
        raise ValueError("T.nnet.bn.%s: epsilon must be at least 1e-5, got %s" % (name, epsilon))


def batch_normalization_train(inputs, gamma, beta, axes="per-activation", epsilon=1e-4,
                              running_average_factor=0.1, running_mean=None, running_var=None):
    """Normalize by the batch's own statistics over `axes`: (out, mean, invstd), plus the new
    running_mean and running_var when both are given, the variance's running average unbiased
    (times m / (m - 1), m the number of values each statistic averages).  mean, invstd and the
    running averages are in gamma's layout."""
    name = "batch_normalization_train"
    inputs, gamma, beta = (as_tensor_variable(v) for v in (inputs, gamma, beta))
    if (running_mean is None) != (running_var is None):
        raise ValueError("T.nnet.bn.%s: running_mean and running_var must either both be given or both be None"
                         % name)
    params = {"gamma": gamma, "beta": beta}
    if running_mean is not None:
        params.update(running_mean=as_tensor_variable(running_mean), running_var=as_tensor_variable(running_var))
    axes = normalization_axes(name, axes, inputs.ndim)
    expand, collapse = parameter_layout(name, inputs, axes, params)
    check_epsilon(name, epsilon)
    mean = red.mean(inputs, axes, keepdims=True)
    var = red.var(inputs, axes, keepdims=True)
    invstd = 1 / ew.sqrt(var + epsilon)
    out = (inputs - mean) * expand(gamma) * invstd + expand(beta)
    results = (out, collapse(mean), collapse(invstd))
    if running_mean is None:
        return results
    m, factor = red.count(inputs, axes), running_average_factor
    new_mean = params["running_mean"] * (1 - factor) + collapse(mean) * factor
    new_var = params["running_var"] * (1 - factor) + collapse(var) * (m / (m - 1)) * factor
    return results + (new_mean, new_var)


def batch_normalization_test(inputs, gamma, beta, mean, var, axes="per-activation", epsilon=1e-4):
    """Normalize by given statistics (the running averages, at test time), all in gamma's layout:
    (inputs - mean) * gamma / sqrt(var + epsilon) + beta."""
    name = "batch_normalization_test"
    inputs = as_tensor_variable(inputs)
    params = {role: as_tensor_variable(v) for role, v in (("gamma", gamma), ("beta", beta), ("mean", mean),
                                                           ("var", var))}
    axes = normalization_axes(name, axes, inputs.ndim)
    expand, _ = parameter_layout(name, inputs, axes, params)
    check_epsilon(name, epsilon)
    gamma, beta, mean, var = (expand(params[role]) for role in ("gamma", "beta", "mean", "var"))
    return (inputs - mean) * gamma / ew.sqrt(var + epsilon) + beta
