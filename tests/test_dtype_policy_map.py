"""keras.dtype_policies.DTypePolicyMap against Keras 3: lookups by exact path and regex, its errors,
its config and serialization, and layers that take their policy from it by path; and the keras.config
switches (flash attention, traceback filtering, NNX) against Keras's defaults and toggling."""
import numpy as np
import pytest

import mlcore
from mlcore import dtype_policies


def both(keras, default_policy="float32"):
    """The same map, in mlcore and in Keras; default_policy may be a function of the dtype_policies module."""
    maps = []
    for dp in (dtype_policies, keras.dtype_policies):
        policy_map = dp.DTypePolicyMap(default_policy(dp) if callable(default_policy) else default_policy)
        policy_map["encoder/layer_0/dense"] = "bfloat16"
        policy_map["encoder/.*"] = dp.DTypePolicy("float16")
        policy_map["decoder"] = "int8_from_float32"
        maps.append(policy_map)
    return maps


@pytest.mark.parametrize("path", ["encoder/layer_0/dense", "encoder/attention/query", "decoder",
                                  "decoder/attention", "encoder"])
def test_lookup_by_exact_path_then_regex_then_default(keras, path):
    ours, theirs = both(keras)
    assert ours[path].name == theirs[path].name
    assert type(ours[path]).__name__ == type(theirs[path]).__name__


def test_map_reads_as_its_default_policy(keras):
    for default in ("float32", "mixed_bfloat16", None):
        ours, theirs = both(keras, default)
        for attribute in ("name", "compute_dtype", "variable_dtype", "quantization_mode"):
            assert getattr(ours, attribute) == getattr(theirs, attribute), (default, attribute)
        assert ours.default_policy.name == theirs.default_policy.name
    ours, theirs = both(keras)
    assert len(ours) == len(theirs) == 3 and list(ours) == list(theirs)
    assert ("decoder" in ours) and ("decoder/attention" not in ours)
    assert repr(ours).split(" default_policy=")[1] == repr(theirs).split(" default_policy=")[1]


def test_delete_then_set_again(keras):
    for policy_map in both(keras):
        del policy_map["decoder"]
        assert policy_map["decoder"].name == "float32"
        policy_map["decoder"] = "float16"
        assert policy_map["decoder"].name == "float16"
        with pytest.raises(KeyError):
            del policy_map["nowhere"]


def test_errors_match_keras(keras):
    for dp in (dtype_policies, keras.dtype_policies):
        policy_map = dp.DTypePolicyMap()
        policy_map["encoder/.*"] = "float16"
        policy_map["encoder/attention/.*"] = "bfloat16"
        with pytest.raises(ValueError, match="matches multiple dtype policy"):
            policy_map["encoder/attention/query"]
        with pytest.raises(ValueError, match="already exist"):
            policy_map["encoder/.*"] = "float32"
        with pytest.raises(ValueError, match="Cannot interpret"):
            policy_map["x"] = 3.5
        with pytest.raises(ValueError, match="cannot be a `DTypePolicyMap`"):
            dp.DTypePolicyMap(default_policy=policy_map)
        with pytest.raises(TypeError, match="must be a dict"):
            dp.DTypePolicyMap(policy_map=[("a", "float16")])


def test_unhashable_and_equal_by_content():
    first = dtype_policies.DTypePolicyMap("float32", {"a": "float16"})
    assert first == dtype_policies.DTypePolicyMap("float32", {"a": "float16"})
    assert first != dtype_policies.DTypePolicyMap("float32", {"a": "bfloat16"})
    with pytest.raises(TypeError):
        hash(first)


@pytest.mark.parametrize("default", ["float32", "mixed_float16", None, lambda dp: dp.DTypePolicy("bfloat16")])
def test_config_and_serialization_equal_keras(keras, default):
    ours, theirs = both(keras, default)
    assert dtype_policies.serialize(ours) == keras.dtype_policies.serialize(theirs)
    assert mlcore.saving.serialize_keras_object(ours) == keras.saving.serialize_keras_object(theirs)
    config = keras.dtype_policies.serialize(theirs)
    loaded = dtype_policies.deserialize(config)
    assert isinstance(loaded, dtype_policies.DTypePolicyMap)
    assert dtype_policies.serialize(loaded) == config
    assert dtype_policies.get(config).name == keras.dtype_policies.get(config).name
    for path in ("encoder/layer_0/dense", "encoder/x", "decoder", "other"):
        assert loaded[path].name == keras.dtype_policies.deserialize(config)[path].name


def test_from_config_round_trip():
    policy_map = dtype_policies.DTypePolicyMap("float64", {"head": "float32", "body/.*": "int8_from_float64"})
    loaded = dtype_policies.DTypePolicyMap.from_config(policy_map.get_config())
    assert loaded == policy_map
    assert type(loaded["body/dense"]) is dtype_policies.QuantizedDTypePolicy


def model(keras_module, policy_map):
    layers = keras_module.layers
    return keras_module.Sequential([keras_module.Input((4,)), layers.Dense(3, dtype=policy_map, name="d1"),
                                    layers.Dense(2, dtype=policy_map, name="d2"),
                                    layers.Dense(2, dtype=policy_map, name="d3")], name="seq")


def test_layers_take_their_policy_by_path(keras):
    ours, theirs = [], []
    for dp, found in ((dtype_policies, ours), (keras.dtype_policies, theirs)):
        policy_map = dp.DTypePolicyMap(default_policy="float32")
        policy_map["seq/d1"] = "float16"
        policy_map["seq/.*2"] = "mixed_bfloat16"
        built = model(mlcore if dp is dtype_policies else keras, policy_map)
        for layer in built.layers:
            assert layer.dtype_policy is policy_map
            found.append((layer.path, layer.dtype, layer.compute_dtype, layer.variable_dtype,
                          np.dtype(layer.kernel.dtype).name, layer.quantization_mode))
        found.append(np.asarray(built.predict(np.ones((2, 4), "float32"), verbose=0)).dtype.name)
        found.append(built.layers[0].get_config()["dtype"])
    assert ours == theirs
    assert ours[0][2] == "float16" and ours[1][2] == "bfloat16" and ours[2][2] == "float32"


def test_outputs_follow_each_layers_compute_dtype(keras):
    policy_map = dtype_policies.DTypePolicyMap(default_policy="float32")
    policy_map["seq/d1"] = "float64"
    built = model(mlcore, policy_map)
    x = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")
    first = built.layers[0]
    assert np.asarray(first.kernel.numpy()).dtype == np.float64
    hidden = x.astype("float64") @ first.kernel.numpy() + first.bias.numpy()
    expected = hidden.astype("float32") @ built.layers[1].kernel.numpy() + built.layers[1].bias.numpy()
    expected = expected @ built.layers[2].kernel.numpy() + built.layers[2].bias.numpy()
    np.testing.assert_allclose(built.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_setting_a_layers_policy_writes_its_path_entry(keras):
    for keras_module, dp in ((mlcore, dtype_policies), (keras, keras.dtype_policies)):
        policy_map = dp.DTypePolicyMap(default_policy="float32")
        built = model(keras_module, policy_map)
        built.layers[1].dtype_policy = "float16"
        assert dict((k, v.name) for k, v in policy_map.items()) == {"seq/d2": "float16"}
        assert built.layers[1].compute_dtype == "float16" and built.layers[0].compute_dtype == "float32"


# --- keras.config switches ----------------------------------------------------------------------------
SWITCHES = [("enable_flash_attention", "disable_flash_attention", "is_flash_attention_enabled"),
            ("enable_traceback_filtering", "disable_traceback_filtering", "is_traceback_filtering_enabled")]


@pytest.mark.parametrize("enable, disable, query", SWITCHES)
def test_config_switches_default_and_toggle_as_keras(keras, enable, disable, query):
    ours, theirs = mlcore.config, keras.config
    assert getattr(ours, query)() == getattr(theirs, query)()
    try:
        for switch in (disable, enable, disable):
            getattr(ours, switch)()
            getattr(theirs, switch)()
            assert getattr(ours, query)() == getattr(theirs, query)(), switch
    finally:
        getattr(ours, enable)()
        getattr(theirs, enable)()
    assert getattr(ours, query)() == getattr(theirs, query)()


def test_nnx_is_off_as_keras_default(keras):
    assert mlcore.config.is_nnx_enabled() is keras.config.is_nnx_enabled() is False
