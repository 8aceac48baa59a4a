"""theano.misc.pkl_utils (dump/load of a zip whose arrays are .npy files, named after their shared
variables; numpy reads them as an npz) and Theano's module paths for function, shared, In, Out."""
import io
import pickle

import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore.misc.pkl_utils import PersistentSharedVariableID, StripPickler, dump, load


def test_the_docstrings_example(tmp_path):
    foo_1, foo_2 = mlcore.shared(0, name="foo"), mlcore.shared(1, name="foo")
    path = tmp_path / "model.zip"
    with open(path, "wb") as f:
        dump((foo_1, foo_2, np.array(2)), f)
    archive = np.load(path)
    assert sorted(archive.keys()) == ["array_0", "foo", "foo_2", "pkl"] and int(archive["foo"]) == 0
    with open(path, "rb") as f:
        loaded_1, loaded_2, array = load(f)
    assert (int(loaded_1.get_value()), int(loaded_2.get_value()), int(array)) == (0, 1, 2)
    assert loaded_1.name == "foo"


def test_a_trained_function_round_trips(backend, tmp_path):
    """The weights a function trained (on the backend's own arrays) come back, and a function
    compiled on the loaded variables computes what the original does."""
    x = T.dmatrix("x")
    w = mlcore.shared(np.linspace(-1, 1, 6).reshape(3, 2), name="w")
    cost = (T.dot(x, w) ** 2).sum()
    train = mlcore.function([x], cost, updates=[(w, w - 0.01 * T.grad(cost, w))], backend=backend)
    data = np.arange(12.0).reshape(4, 3) / 10
    train(data)
    buffer = io.BytesIO()
    dump({"w": w, "note": "epoch 1"}, buffer)
    buffer.seek(0)
    loaded = load(buffer)
    np.testing.assert_array_equal(loaded["w"].get_value(), w.get_value())
    assert loaded["note"] == "epoch 1" and np.load(io.BytesIO(buffer.getvalue()))["w"].shape == (3, 2)
    again = mlcore.function([x], (T.dot(x, loaded["w"]) ** 2).sum(), backend=backend)
    np.testing.assert_allclose(again(data), ((data @ w.get_value()) ** 2).sum(), rtol=1e-12)


def test_an_array_referred_to_twice_is_written_once():
    shared_array = np.arange(3.0)
    buffer = io.BytesIO()
    dump([shared_array, shared_array, np.ones(2)], buffer)
    buffer.seek(0)
    first, second, ones = load(buffer)
    assert first is second and sorted(np.load(io.BytesIO(buffer.getvalue())).keys()) == ["array_0", "array_1", "pkl"]


def test_names_can_be_required_unique():
    buffer = io.BytesIO()
    twins = (mlcore.shared(0, name="w"), mlcore.shared(1, name="w"))
    with pytest.raises(ValueError, match="multiple shared variables with the name `w`"):
        dump(twins, buffer, persistent_id=lambda z: PersistentSharedVariableID(z, allow_duplicates=False))
    with pytest.raises(ValueError, match="unnamed shared variable"):
        dump(mlcore.shared(0), io.BytesIO(), persistent_id=lambda z: PersistentSharedVariableID(z, allow_unnamed=False))


def test_strip_pickler_drops_test_values():
    x = T.dvector("x")
    x.tag.test_value = np.ones(2)
    buffer = io.BytesIO()
    StripPickler(buffer, protocol=-1).dump(x * 2)
    assert "test_value" not in pickle.loads(buffer.getvalue()).owner.inputs[0].tag


def test_theanos_module_paths():
    from mlcore.compile import In, Out, function, shared
    from mlcore.compile.function_module import UnusedInputError
    from mlcore.compile.io import In as io_In
    from mlcore.compile.sharedvalue import SharedVariable
    from mlcore.tensor.type import TensorType
    from mlcore.tensor.var import TensorConstant, TensorVariable
    assert function is mlcore.function and shared is mlcore.shared and In is io_In is mlcore.In and Out is mlcore.Out
    assert isinstance(mlcore.shared(1.0), SharedVariable) and isinstance(T.dmatrix(), TensorVariable)
    assert isinstance(T.constant(1.0), TensorConstant) and T.dmatrix().type == TensorType("float64", (None, None))
    with pytest.raises(UnusedInputError):
        function([T.dvector()], T.constant(1.0))
