"""keras.ops' Fourier transforms (fft, fft2, ifft2, rfft, irfft, stft, istft) and numpy's window
functions: against Keras 3 on its jax backend and numpy.fft, eager and symbolic on every backend,
gradients against finite differences, and the round trips irfft(rfft(x)) and istft(stft(x))."""
import ml_dtypes
import numpy as np
import pytest

import mlcore
from mlcore import ops
from mlcore.graph.basic import TensorType

RNG = np.random.default_rng(2024)
X, Y = RNG.normal(size=(2, 3, 9)).astype("float32"), RNG.normal(size=(2, 3, 9)).astype("float32")
HALF = (RNG.normal(size=(3, 5)).astype("float32"), RNG.normal(size=(3, 5)).astype("float32"))
SIGNAL = RNG.normal(size=(2, 37)).astype("float32")
SPECTRA = {bins: (RNG.normal(size=(2, 6, bins)).astype("float32"), RNG.normal(size=(2, 6, bins)).astype("float32"))
           for bins in (5, 9)}
WINDOW = RNG.uniform(0.5, 1.0, size=5).astype("float32")


def _parts(z):
    return z.real, z.imag


# (name, args, kwargs, numpy's result or None): complex values are (real, imag) tuples, as in Keras
CASES = [
    ("fft", ((X, Y),), {}, lambda: _parts(np.fft.fft(X + 1j * Y))),
    ("fft2", ((X, Y),), {}, lambda: _parts(np.fft.fft2(X + 1j * Y))),
    ("ifft2", ((X, Y),), {}, lambda: _parts(np.fft.ifft2(X + 1j * Y))),
    ("rfft", (X,), {}, lambda: _parts(np.fft.rfft(X))),
    ("rfft", (X,), {"fft_length": 6}, lambda: _parts(np.fft.rfft(X, 6))),
    ("rfft", (X,), {"fft_length": 12}, lambda: _parts(np.fft.rfft(X, 12))),
    ("irfft", (HALF,), {}, lambda: np.fft.irfft(HALF[0] + 1j * HALF[1])),
    ("irfft", (HALF,), {"fft_length": 7}, lambda: np.fft.irfft(HALF[0] + 1j * HALF[1], 7)),
    ("irfft", (HALF,), {"fft_length": 14}, lambda: np.fft.irfft(HALF[0] + 1j * HALF[1], 14)),
    ("stft", (SIGNAL, 8, 4, 16), {}, None),
    ("stft", (SIGNAL, 7, 3, 8), {"window": "hamming", "center": False}, None),
    ("stft", (SIGNAL, 6, 2, 9), {}, None),
    ("stft", (SIGNAL, 5, 2, 8), {"window": WINDOW}, None),
    ("stft", (SIGNAL, 4, 1, 4), {"window": None, "center": False}, None),
    ("istft", (SPECTRA[9], 8, 4, 16), {}, None),
    ("istft", (SPECTRA[9], 12, 3, 16), {"length": 20, "window": "hamming", "center": False}, None),
    ("istft", (SPECTRA[5], 5, 2, 8), {"window": WINDOW, "center": False}, None),
    ("istft", (SPECTRA[5], 8, 4, 8), {"window": None}, None),
    ("istft", (SPECTRA[5], 8, 4, 16), {"center": False}, None),       # 5 bins zero-padded to 16 // 2 + 1
]
IDS = ["%s-%d" % (case[0], k) for k, case in enumerate(CASES)]


def _as_list(value):
    return [np.asarray(v) for v in value] if isinstance(value, (tuple, list)) else [np.asarray(value)]


def _assert_close(got, expected, rtol=2e-5):
    got, expected = _as_list(got), _as_list(expected)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == np.float32
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol * max(1.0, np.abs(e).max()))


@pytest.fixture(scope="module")
def expected(keras):
    """Keras's result for each case (and numpy's, where the case has one, which must agree)."""
    import jax
    results = []
    for name, args, kwargs, numpy_result in CASES:
        # under jit: eager, Keras's stft and istft compile each of their many small steps on its own
        result = jax.jit(lambda first: getattr(keras.ops, name)(first, *args[1:], **kwargs))(args[0])
        result = [keras.ops.convert_to_numpy(r) for r in _as_list(result)]
        if numpy_result is not None:
            _assert_close(result, numpy_result())
        results.append(result)
    return results


@pytest.mark.parametrize("k", range(len(CASES)), ids=IDS)
def test_eager_ops_match_keras_and_numpy(k, expected, float32_jax):
    name, args, kwargs, numpy_result = CASES[k]
    got = getattr(ops, name)(*args, **kwargs)
    _assert_close(got, expected[k])
    if numpy_result is not None:
        _assert_close(got, numpy_result())


def _symbolic(value):
    """A graph input standing for the array value, its first (batch) dim unknown."""
    return TensorType(value.dtype, (None,) + value.shape[1:])()


def _stand_in(value, feed):
    if isinstance(value, tuple):
        return tuple(_stand_in(v, feed) for v in value)
    if isinstance(value, np.ndarray) and value is not WINDOW:
        return feed.setdefault(id(value), (_symbolic(value), value))[0]
    return value


@pytest.fixture(scope="module")
def symbolic_results():
    """{backend: every case's outputs}, all the cases built on graph inputs and run as one function."""
    cache = {}

    def run(backend):
        if backend not in cache:
            feed, outputs, spans = {}, [], []
            for name, args, kwargs, _ in CASES:
                out = _as_list_of_variables(getattr(ops, name)(*[_stand_in(a, feed) for a in args], **kwargs))
                spans.append((len(outputs), len(out)))
                outputs += out
            inputs = list(feed.values())
            results = mlcore.function([v for v, _ in inputs], outputs, backend=backend)(*[a for _, a in inputs])
            cache[backend] = [results[start:start + n] for start, n in spans]
        return cache[backend]
    return run


def _as_list_of_variables(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


@pytest.mark.parametrize("k", range(len(CASES)), ids=IDS)
def test_symbolic_ops_match_keras_on_every_backend(k, backend, expected, symbolic_results):
    _assert_close(symbolic_results(backend)[k], expected[k])


def test_symbolic_shapes_are_keras_shapes(keras):
    """The static shapes of the graph's outputs are those Keras's symbolic ops infer."""
    for name, args, kwargs, _ in CASES:
        feed = {}
        got = _as_list_of_variables(getattr(ops, name)(*[_stand_in(a, feed) for a in args], **kwargs))
        keras_args = [tuple(keras.KerasTensor((None,) + v.shape[1:]) for v in a) if isinstance(a, tuple) else
                      keras.KerasTensor((None,) + a.shape[1:]) if isinstance(a, np.ndarray) and a is not WINDOW
                      else a for a in args]
        want = _as_list_of_variables(getattr(keras.ops, name)(*keras_args, **kwargs))
        assert [g.type.shape for g in got] == [tuple(w.shape) for w in want], name


def test_istft_with_hop_equal_to_frame_length_inverts_stft(keras):
    """With sequence_stride == fft_length the frames do not overlap.  Keras's jax istft then returns
    too short a signal (jax.scipy.signal.istft reads noverlap=0 as its default, nperseg // 2); its
    output shape, and scipy's istft (Keras's numpy backend), give the whole signal, as mlcore does."""
    x = SIGNAL[:, :32]
    for window, center in ((None, True), ("hann", False), (None, False)):
        spectrum = ops.stft(x, 8, 8, 8, window=window, center=center)
        got = ops.istft(spectrum, 8, 8, 8, window=window, center=center)
        shape = keras.ops.istft((keras.KerasTensor((2, 5 if center else 4, 5)),) * 2, 8, 8, 8, window=window,
                                center=center).shape
        assert got.shape == tuple(shape) == (2, 32)
        if window is None:
            np.testing.assert_allclose(got, x, atol=1e-5)


# --- gradients -------------------------------------------------------------------------------------
GRADIENT_CASES = [
    ("fft", lambda a, b: ops.fft((a, b)), [(2, 5), (2, 5)]),
    ("fft2", lambda a, b: ops.fft2((a, b)), [(3, 4), (3, 4)]),
    ("ifft2", lambda a, b: ops.ifft2((a, b)), [(2, 3, 4), (2, 3, 4)]),
    ("rfft_even", lambda x: ops.rfft(x, 8), [(2, 6)]),
    ("rfft_odd", lambda x: ops.rfft(x, 5), [(2, 6)]),
    ("irfft_even", lambda a, b: ops.irfft((a, b)), [(2, 5), (2, 5)]),
    ("irfft_odd", lambda a, b: ops.irfft((a, b), 7), [(2, 5), (2, 5)]),
    ("stft", lambda x: ops.stft(x, 6, 3, 8), [(2, 17)]),
    ("stft_window", lambda x: ops.stft(x, 5, 2, 5, window="hamming", center=False), [(13,)]),
    ("istft", lambda a, b: ops.istft((a, b), 6, 3, 8), [(2, 5, 5), (2, 5, 5)]),
]


@pytest.mark.parametrize("build, shapes", [c[1:] for c in GRADIENT_CASES], ids=[c[0] for c in GRADIENT_CASES])
def test_gradients_match_finite_differences(build, shapes, numeric_grad, rng):
    """In float64 on the numpy backend: the gradient of sum(w * output) for random weights w on
    each output (the real and the imaginary part), wrt each input."""
    symbols = [TensorType("float64", s)() for s in shapes]
    outputs = _as_list_of_variables(build(*symbols))
    weights = [rng.normal(size=o.type.shape) for o in outputs]
    cost = sum((o * w).sum() for o, w in zip(outputs, weights))
    f = mlcore.function(symbols, [cost] + mlcore.grad(cost, symbols), backend="numpy")
    values = [rng.normal(size=s) for s in shapes]
    got = f(*values)
    for k in range(len(values)):
        want = numeric_grad(lambda *v: f(*v)[0], values, k)
        np.testing.assert_allclose(got[1 + k], want, rtol=1e-6, atol=1e-7)


def test_stft_gradient_on_every_backend(backend, rng):
    """The gradient graph of stft (reflection, framing, window, rfft) agrees with the reference's."""
    x = TensorType("float32", (None, 20))()
    real, imag = ops.stft(x, 6, 3, 8)
    cost = (real * real).sum() + (imag * np.float32(0.5)).sum()
    values = rng.normal(size=(2, 20)).astype("float32")
    want = mlcore.function([x], mlcore.grad(cost, x), backend="numpy")(values)
    got = mlcore.function([x], mlcore.grad(cost, x), backend=backend)(values)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5 * np.abs(want).max())


# --- round trips -----------------------------------------------------------------------------------
def test_round_trips_on_every_backend(backend, rng):
    x = TensorType("float32", (None, 40))()
    values = rng.normal(size=(3, 40)).astype("float32")
    outputs = [ops.irfft(ops.rfft(x)), ops.irfft(ops.rfft(x[:, :39]), 39),
               ops.istft(ops.stft(x, 16, 4, 16), 16, 4, 16),
               ops.istft(ops.stft(x, 12, 3, 16, window="hamming"), 12, 3, 16, length=40, window="hamming"),
               ops.ifft2(ops.fft2((ops.reshape(x, (-1, 5, 8)), x.reshape((-1, 5, 8)) * 2.0)))[1]]
    f = mlcore.function([x], outputs, backend=backend)
    even, odd, hann, hamming, inverse = f(values)
    np.testing.assert_allclose(even, values, atol=1e-5)
    np.testing.assert_allclose(odd, values[:, :39], atol=1e-5)
    np.testing.assert_allclose(hann, values, atol=1e-5)
    np.testing.assert_allclose(hamming, values, atol=1e-5)
    np.testing.assert_allclose(inverse, values.reshape(3, 5, 8) * 2, atol=1e-5)


# --- windows ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, extra", [("bartlett", ()), ("blackman", ()), ("hamming", ()), ("hanning", ()),
                                         ("kaiser", (14.0,)), ("kaiser", (0.5,))])
def test_windows_match_keras(name, extra, keras, float32_jax):
    for length in (1, 2, 5, 12):
        want = keras.ops.convert_to_numpy(getattr(keras.ops, name)(length, *extra))
        got = getattr(ops, name)(length, *extra)
        assert isinstance(got, np.ndarray) and got.dtype == want.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(getattr(ops, name)(np.int64(5), *extra), getattr(ops, name)(5, *extra))


def test_windows_take_a_symbolic_length_and_cut_a_float_one_as_keras(keras, float32_jax):
    length = TensorType("int64", ())()
    window = mlcore.function([length], ops.hamming(length))
    np.testing.assert_allclose(window(np.int64(5)), np.hamming(5), rtol=1e-6)
    for x in (2.5, np.array(3.0, "float32"), np.array(1, ml_dtypes.bfloat16)):
        np.testing.assert_allclose(ops.kaiser(x, 1.0), keras.ops.convert_to_numpy(keras.ops.kaiser(x, 1.0)),
                                   rtol=1e-6)


# --- errors ----------------------------------------------------------------------------------------
def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="fft: input `x` should be a tuple of two tensors"):
        ops.fft(X)
    with pytest.raises(ValueError, match=r"fft2: the real and imaginary parts must have the same shape"):
        ops.fft2((X, Y[..., :4]))
    with pytest.raises(ValueError, match="ifft2: needs a tensor of rank >= 2"):
        ops.ifft2((X[0, 0], Y[0, 0]))
    with pytest.raises(ValueError, match="rfft: the last axis of the input must be known"):
        ops.rfft(TensorType("float32", (2, None))())
    with pytest.raises(ValueError, match="irfft: the transform needs a positive integer length"):
        ops.irfft(HALF, 0)
    with pytest.raises(ValueError, match="`fft_length` must equal or larger than `sequence_length`"):
        ops.stft(SIGNAL, 8, 2, 4)
    with pytest.raises(ValueError, match="`sequence_stride` must be a positive integer"):
        ops.stft(SIGNAL, 8, 0, 8)
    with pytest.raises(ValueError, match='must be one of `"hann"`, `"hamming"`'):
        ops.stft(SIGNAL, 8, 2, 8, window="bartlett")
    with pytest.raises(ValueError, match="The shape of `window` must be equal to"):
        ops.istft(SPECTRA[5], 8, 2, 8, window=WINDOW)
    with pytest.raises(TypeError, match="stft: invalid input type"):
        ops.stft(np.arange(20), 8, 2, 8)


# --- the STFTSpectrogram layer and the STFT initializer ---------------------------------------------
LAYER_CASES = [
    dict(mode="log", frame_length=16, frame_step=4),
    dict(mode="stft", frame_length=12, fft_length=16, padding="same"),
    dict(mode="psd", frame_length=8, frame_step=3, expand_dims=True, window="hamming", periodic=True),
    dict(mode="angle", frame_length=8, scaling="spectrum"),
    dict(mode="magnitude", frame_length=8, window=None),
    dict(mode="real", frame_length=10, frame_step=5, data_format="channels_first"),
    dict(mode="imag", frame_length=10, frame_step=5, data_format="channels_first", expand_dims=True),
]


def _layer_output(layer, x, backend="numpy"):
    inputs = TensorType("float32", (None,) + x.shape[1:])()
    out = layer(inputs)
    return out, mlcore.function([inputs], out, backend=backend)(x)


@pytest.mark.parametrize("kwargs", LAYER_CASES, ids=[c["mode"] for c in LAYER_CASES])
def test_stft_spectrogram_matches_keras(kwargs, keras, float32_jax, rng):
    x = rng.normal(size=(2, 50, 3)).astype("float32")
    if kwargs.get("data_format") == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 2, 1))
    theirs = keras.layers.STFTSpectrogram(**kwargs)
    want = keras.ops.convert_to_numpy(theirs(x))
    ours = mlcore.layers.STFTSpectrogram(**kwargs)
    out, got = _layer_output(ours, x)
    assert got.shape == want.shape and out.type.shape == ours.compute_output_shape((None,) + x.shape[1:])
    assert out.type.shape == tuple(theirs.compute_output_shape((None,) + x.shape[1:]))
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights()):    # Keras computes them in float32
        np.testing.assert_allclose(mine, keras.ops.convert_to_numpy(keras_weight), atol=5e-6)
    if kwargs["mode"] == "angle":
        # on the circle (+-pi are one angle), and without the zero and Nyquist bins, whose imaginary parts
        # are 0 but for rounding (Keras's float32 kernels), which then sets their angles
        got, want = (np.exp(1j * a.reshape(a.shape[:2] + (3, 5))[..., 1:-1]) for a in (got, want))
        np.testing.assert_allclose(got, want, atol=2e-5)
    else:
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5 * np.abs(want).max())


def test_stft_spectrogram_is_ops_stft_without_window_on_every_backend(backend, rng):
    """mode "stft" with no window and no scaling: per channel, the frames' rfft (ops.stft, not centred)."""
    x = rng.normal(size=(2, 40, 2)).astype("float32")
    layer = mlcore.layers.STFTSpectrogram(mode="stft", frame_length=8, frame_step=4, window=None, scaling=None,
                                          expand_dims=True)
    _, got = _layer_output(layer, x, backend)
    real, imag = ops.stft(np.ascontiguousarray(x.transpose(0, 2, 1)), 8, 4, 8, window=None, center=False)
    want = np.concatenate([real, imag], axis=-1).transpose(0, 2, 3, 1)      # (batch, frames, 2 * bins, channels)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_stft_spectrogram_config_and_errors(rng):
    layer = mlcore.layers.STFTSpectrogram(mode="psd", frame_length=8, frame_step=2, window="hamming")
    clone = mlcore.layers.STFTSpectrogram.from_config(layer.get_config())
    x = rng.normal(size=(1, 30, 1)).astype("float32")
    np.testing.assert_array_equal(_layer_output(layer, x)[1], _layer_output(clone, x)[1])
    with pytest.raises(ValueError, match="`frame_step` should be a positive integer not greater than"):
        mlcore.layers.STFTSpectrogram(frame_length=8, frame_step=9)
    with pytest.raises(ValueError, match="Output mode is invalid"):
        mlcore.layers.STFTSpectrogram(mode="power")
    with pytest.raises(ValueError, match="expected ndim=3"):
        mlcore.layers.STFTSpectrogram(frame_length=8)(TensorType("float32", (None, 30))())


def test_stft_initializer_matches_keras(keras, float32_jax):
    from mlcore import initializers
    assert isinstance(initializers.get("stft"), initializers.STFT) and initializers.STFTInitializer is initializers.STFT
    for args in [("real", "hann", "density", False), ("imag", "hamming", "spectrum", True), ("imag", None, None, False),
                 ("real", np.linspace(0.5, 1.0, 12), "density", False)]:
        want = keras.ops.convert_to_numpy(keras.initializers.STFT(*args)((12, 1, 9)))
        initializer = initializers.get({"class_name": "STFT", "config": initializers.STFT(*args).get_config()})
        got = initializer((12, 1, 9))
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, atol=5e-6)
    with pytest.raises(ValueError, match="side should be 'real' or 'imag'"):
        initializers.STFT("both")
