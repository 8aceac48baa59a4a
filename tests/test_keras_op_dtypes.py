"""keras.ops' dtype rules, op by op, against Keras 3 itself: sums and products of small ints widen to 32
bits only, indices are int32, floor of ints is a float, bfloat16 and float16 keep their precision in
reductions and float-valued ops, float16 with bfloat16 meets at float32, int8 matmuls give int32, and a
bool tensor with a Python int is int32.  Both on values (the result and its dtype) and on symbolic
tensors (the dtype), over the dtypes below 64 bits, where Keras's backends agree.  The graph's own
(Theano-style) ops keep Theano's rules."""
import ml_dtypes
import numpy as np
import pytest

import mlcore
from mlcore import ops

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.usefixtures("float32_jax")     # Keras's jax backend as it runs: without x64

DTYPES = ["bool", "int8", "int16", "int32", "uint8", "uint16", "float16", "bfloat16", "float32"]
SAMPLE = np.array([[0, 1, 2], [3, 1, 0]])         # small ints: exact in every dtype above


def _close(ours, theirs, dtype):
    """Our value against Keras's: exactly for ints and bools, to the dtype's precision for floats."""
    ours, theirs = np.asarray(ours, "float64"), np.asarray(ops.convert_to_numpy(theirs), "float64")
    tolerance = float(ml_dtypes.finfo(dtype).eps) if "float" in str(dtype) else 0
    np.testing.assert_allclose(ours, theirs, rtol=2 * tolerance, atol=2 * tolerance, equal_nan=True)


def _matches_keras(name, args, kwargs=None):
    """mlcore.ops.<name> gives Keras's dtype and value on these numpy arguments, and its dtype on symbolic
    tensors of their shapes and dtypes."""
    kwargs = kwargs or {}
    theirs = getattr(keras.ops, name)(*args, **kwargs)
    ours = getattr(ops, name)(*args, **kwargs)
    expected = keras.backend.standardize_dtype(theirs.dtype)
    assert str(ours.dtype) == expected, (name, [getattr(a, "dtype", a) for a in args], ours.dtype, expected)
    _close(ours, theirs, expected)
    symbolic = [mlcore.KerasTensor(a.shape, dtype=str(a.dtype)) if isinstance(a, np.ndarray) else a for a in args]
    assert getattr(ops, name)(*symbolic, **kwargs).dtype == expected


UNARY = ["sum", "prod", "cumsum", "cumprod", "trace", "nansum", "nanprod", "nancumsum", "nancumprod",
         "argmax", "argmin", "argsort", "count_nonzero", "nanargmax", "nanargmin", "max", "min",
         "floor", "ceil", "trunc", "square", "diff", "mean", "median", "nanmean", "nanstd", "nanvar",
         "corrcoef", "trapezoid", "sinc", "cbrt", "fabs", "angle"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", UNARY)
def test_one_tensor_ops_give_kerass_dtypes(name, dtype):
    x = SAMPLE.astype(ml_dtypes.bfloat16 if dtype == "bfloat16" else dtype)
    if name in ("corrcoef", "nanstd", "nanvar") and dtype in ("float16", "bfloat16"):
        x = x[:, :2] + 1            # spreads whose square roots and quotients are exact in 16 bits
    _matches_keras(name, [x])


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_and_max_with_initial_keep_kerass_dtypes(dtype):
    x = SAMPLE.astype(ml_dtypes.bfloat16 if dtype == "bfloat16" else dtype)
    _matches_keras("clip", [x, 0, 1])
    _matches_keras("max", [x], {"initial": 1})
    _matches_keras("quantile", [x, 0.5])


PAIRS = [("float16", "bfloat16"), ("bfloat16", "int16"), ("float16", "int8"), ("float16", "bool"),
         ("bool", "int8"), ("int8", "int8"), ("int8", "int16"), ("uint8", "int8"), ("uint8", "bool"),
         ("int16", "int32"), ("float32", "bfloat16")]
BINARY = ["add", "subtract", "multiply", "maximum", "fmax", "fmin", "equal", "where", "hypot", "heaviside",
          "logaddexp2", "arctan2", "vdot", "correlate", "matmul", "dot", "outer", "average", "einsum"]


def _pair(dtype1, dtype2):
    one = np.array([1, 0, 2]).astype(ml_dtypes.bfloat16 if dtype1 == "bfloat16" else dtype1)
    two = np.array([2, 1, 1]).astype(ml_dtypes.bfloat16 if dtype2 == "bfloat16" else dtype2)
    return one, two


@pytest.mark.parametrize("dtypes", PAIRS, ids="-".join)
@pytest.mark.parametrize("name", BINARY)
def test_two_tensor_ops_promote_as_keras(name, dtypes):
    x1, x2 = _pair(*dtypes)
    if name in ("hypot", "arctan2") and "bool" in dtypes:
        pytest.skip("numbers of bools")
    args, kwargs = {"where": ([x1 > 0, x1, x2], {}), "average": ([x1], {"weights": x2}),
                    "matmul": ([x1.reshape(3, 1), x2.reshape(1, 3)], {}),
                    "einsum": (["i,j->ij", x1, x2], {})}.get(name, ([x1, x2], {}))
    _matches_keras(name, args, kwargs)


def test_ldexp_keeps_the_floats_precision():
    for dtype in ("float16", ml_dtypes.bfloat16, "float32", "int8"):
        _matches_keras("ldexp", [np.array([1, 3, 5], dtype), np.array([1, 2, -1], "int16")])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "floor_divide", "maximum", "power"])
def test_python_numbers_are_weak_as_in_keras(name, dtype):
    """A Python int with a bool tensor is int32 (not int64), with an int tensor the tensor's dtype."""
    x = SAMPLE.astype(ml_dtypes.bfloat16 if dtype == "bfloat16" else dtype)
    _matches_keras(name, [x, 1])
    _matches_keras(name, [x, 2.0])
    _matches_keras("where", [SAMPLE > 0, x, 1])


def test_int8_products_accumulate_in_int32():
    """int8 x int8 gives int32 in matmul and einsum, and its value does not wrap at 127."""
    a = np.full((2, 64), 100, "int8")
    _matches_keras("matmul", [a, a.T])
    _matches_keras("einsum", ["ij,kj->ik", a, a])
    assert ops.matmul(a, a.T)[0, 0] == 64 * 100 * 100


def test_sums_of_small_ints_hold_more_than_they_do():
    """A sum of int8 is int32: 200 entries of 100 are 20000, past int8's and int16's range."""
    x = np.full(200, 100, "int8")
    _matches_keras("sum", [x])
    assert ops.sum(x) == 20000 and ops.sum(x).dtype == "int32"
    assert ops.sum(x.astype("int64")).dtype == "int64"           # 64 bits stay 64 bits (no jax squashing)
    assert ops.sum(np.ones(3, "float64")).dtype == "float64"


def test_float16_with_bfloat16_meets_at_float32_without_numpy_promotion():
    half, brain = np.array([1.5, 2], "float16"), np.array([0.5, 1], ml_dtypes.bfloat16)
    out = ops.add(half, brain)
    assert out.dtype == "float32" and np.array_equal(out, [2, 3])
    assert ops.where(np.array([True, False]), half, brain).dtype == "float32"


def test_mixed_precision_reads_weights_in_the_scopes_dtype():
    """Under an AutocastScope a float32 weight counts as the scope's float16: float16 inputs with it stay
    float16, as in Keras (where the variable's dtype is the scope's there)."""
    from mlcore.graph.autocast import AutocastScope
    from mlcore.keras_variable import keras_variable
    weight = keras_variable(np.ones(3, "float32"))
    x = mlcore.KerasTensor((2, 3), dtype="float16")
    with AutocastScope("float16"):
        assert ops.add(x, weight).dtype == "float16"
        assert ops.hypot(x, weight).dtype == "float16"
    assert ops.add(x, weight).dtype == "float32"


def test_nonzero_gives_int32_indices():
    x = np.array([[0, 1], [2, 0]], "int8")
    ours, theirs = ops.nonzero(x), keras.ops.nonzero(x)
    assert [i.dtype for i in ours] == ["int32", "int32"]
    for mine, keras_indices in zip(ours, theirs):
        np.testing.assert_array_equal(mine, keras_indices)


def test_bincount_counts_in_int32_and_weights_in_their_dtype():
    x = np.array([1, 1, 2, 3], "int8")
    _matches_keras("bincount", [x])
    _matches_keras("bincount", [x], {"weights": np.array([1, 2, 3, 4], "int8")})
    _matches_keras("bincount", [x], {"weights": np.array([1, 2, 3, 4], "float16")})


def test_the_graphs_own_ops_keep_theanos_rules():
    """keras.ops applies Keras's rules on top; T.argmax stays int64 and T.sum of int8 int64, as in Theano."""
    import mlcore.tensor as T
    assert T.argmax(T.matrix()).dtype == "int64"
    assert T.sum(T.bmatrix()).dtype == "int64"
    assert T.cumsum(T.bvector()).dtype == "int64"


@pytest.mark.parametrize("name", ["concatenate", "stack", "hstack", "vstack", "dstack"])
def test_joining_float16_with_bfloat16_meets_at_float32_as_keras(name):
    """The graph's upcast asked numpy, which cannot promote the two even beside a float32."""
    halves = [np.array([1.5, -2.0], "float16"), np.array([0.5, 3.0], ml_dtypes.bfloat16)]
    _matches_keras(name, (halves,))
    assert getattr(ops, name)(halves).dtype == np.float32


def test_diag_of_bools_keeps_bools_and_float_ops_keep_complex():
    flags = np.array([True, False, True])
    for k in (0, 1, -1):
        _matches_keras("diag", (flags,), {"k": k})
        assert ops.diag(flags, k=k).dtype == np.bool_
    np.testing.assert_array_equal(ops.diagflat(flags), np.diagflat(flags))
    z = np.array([1 + 2j, -3j], "complex64")
    assert ops.sinc(z).dtype == np.complex64     # as_float left complex values theirs


def test_mean_of_half_floats_adds_up_in_float32_as_keras():
    big = np.array([[60000.0, 60000.0], [-60000.0, 30000.0]], "float16")   # the float16 sum overflows
    for axis in (None, 0, 1):
        _matches_keras("mean", (big,), {"axis": axis})
    assert ops.mean(big) == np.float16(22500.0)


@pytest.mark.parametrize("name", ["nanargmax", "nanargmin"])
def test_nan_arg_of_an_all_nan_slice_is_minus_one_as_keras(name):
    x = np.array([[np.nan, np.nan, np.nan], [1.0, np.nan, -2.0], [np.nan, 2.0, 2.0]], "float32")
    for axis in (None, 0, 1):
        _matches_keras(name, (x,), {"axis": axis})
    _matches_keras(name, (np.full((2, 2), np.nan, "float32"),))
    assert getattr(ops, name)(x, axis=1).tolist() == [-1, 0 if name == "nanargmax" else 2, 1]
