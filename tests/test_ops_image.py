"""keras.ops.image (mlcore.ops.image), keras.ops.numpy (mlcore.ops.numpy) and
keras.preprocessing.image.smart_resize against Keras 3 on its jax backend: every function on random images,
channels_last and channels_first, batched and unbatched, as one compiled graph per backend and on values;
gradients against finite differences; the Resizing layer in every interpolation against Keras's."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import mlcore  # noqa: E402
from mlcore import layers, ops  # noqa: E402
from mlcore.graph.basic import TensorType  # noqa: E402
from mlcore.preprocessing.image import smart_resize  # noqa: E402

RNG = np.random.default_rng(7)
IMAGES = RNG.random((2, 7, 9, 3)).astype("float32")           # channels_last batch; channels are 3 for colours
TRANSFORMS = np.array([[1.1, 0.2, -1.0, 0.1, 0.9, 0.5, 0, 0], [0.8, -0.3, 2.0, 0.2, 1.2, -1.0, 0, 0]], "float32")
START = np.array([[[0, 0], [0, 7], [9, 0], [9, 7]]] * 2, "float32")
END = np.array([[[1, 0], [0, 6], [8, 1], [9, 7]], [[0.5, 1], [1, 7], [9, 0], [7, 6]]], "float32")
KINDS = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5")

# (function, arguments after the images, keywords): each takes data_format
CASES = [("resize", ((4, 5),), {"interpolation": "bilinear"}),
         ("resize", ((12, 13),), {"interpolation": "nearest"}),
         ("resize", ((3, 11),), {"interpolation": "bicubic", "antialias": True}),
         ("resize", ((12, 13),), {"interpolation": "lanczos3"}),
         ("resize", ((4, 5),), {"interpolation": "lanczos5", "antialias": True}),
         ("resize", ((4, 4),), {"crop_to_aspect_ratio": True, "interpolation": "bicubic"}),
         ("resize", ((5, 4),), {"pad_to_aspect_ratio": True, "fill_value": 2.0}),
         ("crop_images", (1, 2), {"target_height": 4, "target_width": 5}),
         ("crop_images", (), {"bottom_cropping": 1, "right_cropping": 3, "target_height": 5, "target_width": 4}),
         ("pad_images", (1, 2), {"bottom_padding": 3, "target_width": 12}),
         ("rgb_to_grayscale", (), {}),
         ("rgb_to_hsv", (), {}),
         ("hsv_to_rgb", (), {}),
         ("extract_patches", (3,), {}),
         ("extract_patches", ((2, 3),), {"strides": (1, 2), "padding": "same"}),
         ("extract_patches", ((2, 2),), {"strides": 1, "dilation_rate": 2}),
         ("gaussian_blur", (), {"kernel_size": (3, 5), "sigma": (1.0, 2.0)}),
         ("perspective_transform", (START, END), {}),
         ("perspective_transform", (START, END[::-1]), {"interpolation": "nearest", "fill_value": 0.5}),
         ("affine_transform", (TRANSFORMS,), {}),
         ("affine_transform", (TRANSFORMS,), {"interpolation": "nearest", "fill_mode": "nearest"}),
         ("affine_transform", (TRANSFORMS,), {"fill_mode": "wrap"}),
         ("affine_transform", (TRANSFORMS,), {"interpolation": "nearest", "fill_mode": "mirror"}),
         ("affine_transform", (TRANSFORMS,), {"fill_mode": "reflect", "fill_value": 0.5})]
LAYOUTS = [("channels_last", True), ("channels_first", False)]


def laid_out(images, data_format, batched):
    images = images if data_format == "channels_last" else np.moveaxis(images, -1, 1)
    return images if batched else images[0]


def arguments(args, batched):
    """An unbatched image takes the first of each batch of transforms or points."""
    return tuple(a[0] if isinstance(a, np.ndarray) and a.ndim in (2, 3) and not batched else a for a in args)


def expected(keras, name, images, args, kwargs, data_format):
    return np.asarray(getattr(keras.ops.image, name)(images, *args, data_format=data_format, **kwargs))


# numpy, the reference, in both layouts; each other backend in one (the on-values test has the other two)
@pytest.mark.parametrize("backend_name, data_format, batched", [("numpy",) + LAYOUTS[0], ("numpy",) + LAYOUTS[1],
                                                                ("theano",) + LAYOUTS[0], ("jax",) + LAYOUTS[1]])
def test_every_function_on_every_backend_as_keras(require_backend, keras, backend_name, data_format, batched):
    """All the cases as the outputs of one graph on a symbolic image (one compile per backend)."""
    backend = require_backend(backend_name)
    images = laid_out(IMAGES, data_format, batched)
    symbol = TensorType("float32", images.shape)()
    outputs = [getattr(ops.image, name)(symbol, *arguments(args, batched), data_format=data_format, **kwargs)
               for name, args, kwargs in CASES]
    got = mlcore.function([symbol], outputs, backend=backend)(images)
    for (name, args, kwargs), ours in zip(CASES, got):
        theirs = expected(keras, name, images, arguments(args, batched), kwargs, data_format)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=2e-6, err_msg="%s %s" % (name, kwargs))


@pytest.mark.parametrize("data_format, batched", [("channels_last", False), ("channels_first", True)])
def test_on_values_they_give_arrays_as_keras(keras, data_format, batched):
    images = laid_out(IMAGES, data_format, batched)
    for name, args, kwargs in CASES:
        ours = getattr(ops.image, name)(images, *arguments(args, batched), data_format=data_format, **kwargs)
        assert isinstance(ours, np.ndarray)
        np.testing.assert_allclose(ours, expected(keras, name, images, arguments(args, batched), kwargs,
                                                  data_format), rtol=1e-5, atol=2e-6, err_msg=name)


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
def test_map_coordinates_as_keras(keras, order, fill_mode):
    inputs = RNG.random((6, 5, 4)).astype("float32")
    coordinates = RNG.uniform(-3, 9, (3, 4, 7)).astype("float32")
    np.testing.assert_allclose(ops.image.map_coordinates(inputs, coordinates, order, fill_mode, 0.25),
                               keras.ops.image.map_coordinates(inputs, coordinates, order, fill_mode, 0.25),
                               rtol=1e-6, atol=1e-6)


def test_map_coordinates_on_every_backend(backend, keras):
    inputs, coordinates = RNG.random((5, 6)).astype("float32"), RNG.uniform(-2, 7, (2, 3, 4)).astype("float32")
    symbols = [TensorType("float32", v.shape)() for v in (inputs, coordinates)]
    out = ops.image.map_coordinates(*symbols, order=1, fill_mode="mirror")
    np.testing.assert_allclose(mlcore.function(symbols, out, backend=backend)(inputs, coordinates),
                               keras.ops.image.map_coordinates(inputs, coordinates, 1, "mirror"), rtol=1e-6,
                               atol=1e-6)


def test_area_resize_as_jax_image_resize():
    """Keras's jax backend refuses "area" (its TensorFlow backend has it); mlcore gives jax.image.resize's."""
    jax = pytest.importorskip("jax")
    for size in ((4, 5), (10, 17)):
        np.testing.assert_allclose(ops.image.resize(IMAGES, size, interpolation="area"),
                                   jax.image.resize(IMAGES, (2,) + size + (3,), "area"), rtol=1e-5, atol=1e-6)


def test_integer_images_come_back_rounded_in_their_dtype(keras):
    images = (IMAGES * 255).astype("uint8")
    for kind in KINDS:
        ours = ops.image.resize(images, (5, 12), interpolation=kind)
        assert ours.dtype == np.uint8
        np.testing.assert_array_equal(ours, keras.ops.image.resize(images, (5, 12), interpolation=kind))
    np.testing.assert_array_equal(ops.image.affine_transform(images, TRANSFORMS),
                                  keras.ops.image.affine_transform(images, TRANSFORMS))


def test_scale_sobel_and_3d_patches_as_keras(keras):
    scale, translation = np.array([0.7, 1.6], "float32"), np.array([0.5, -0.2], "float32")
    for method in ("linear", "cubic", "lanczos3"):
        np.testing.assert_allclose(
            ops.image.scale_and_translate(IMAGES, (2, 5, 14, 3), scale, translation, (1, 2), method),
            keras.ops.image.scale_and_translate(IMAGES, (2, 5, 14, 3), scale, translation, (1, 2), method),
            rtol=1e-5, atol=1e-6)
    for data_format in ("channels_last", "channels_first"):
        images = laid_out(IMAGES, data_format, True)
        np.testing.assert_allclose(ops.image.sobel_edges(images, data_format),
                                   keras.ops.image.sobel_edges(images, data_format), rtol=1e-5, atol=1e-5)
    volumes = RNG.random((2, 5, 6, 4, 2)).astype("float32")
    np.testing.assert_array_equal(ops.image.extract_patches_3d(volumes, (2, 3, 2), strides=(1, 2, 2)),
                                  keras.ops.image.extract_patches_3d(volumes, (2, 3, 2), strides=(1, 2, 2)))
    np.testing.assert_array_equal(ops.image.extract_patches(volumes[0], (2, 2, 2)),
                                  keras.ops.image.extract_patches(volumes[0], (2, 2, 2)))


# --- gradients -----------------------------------------------------------------------------------
GRADIENT_CASES = [
    ("resize", ((3, 7),), {"interpolation": "bilinear"}),
    ("resize", ((3, 7),), {"interpolation": "bilinear", "antialias": True}),
    ("resize", ((5, 3),), {"interpolation": "bicubic"}),
    ("resize", ((6, 2),), {"interpolation": "lanczos3", "antialias": True}),
    ("affine_transform", (TRANSFORMS[:1].astype("float64"),), {"fill_mode": "reflect"}),
    ("affine_transform", (TRANSFORMS[1:].astype("float64"),), {"fill_mode": "constant", "fill_value": 0.3}),
    ("gaussian_blur", (), {"kernel_size": (3, 3), "sigma": (0.8, 1.3)}),
    ("rgb_to_hsv", (), {}),
    ("extract_patches", (2,), {"strides": 1}),
]


@pytest.mark.parametrize("name, args, kwargs", GRADIENT_CASES, ids=[c[0] for c in GRADIENT_CASES])
def test_gradients_match_finite_differences(name, args, kwargs, numeric_grad):
    images = RNG.random((1, 4, 5, 3)) * 0.8 + 0.1
    symbol = TensorType("float64", images.shape)()
    out = getattr(ops.image, name)(symbol, *args, data_format="channels_last", **kwargs)
    weights = np.random.default_rng(1).normal(size=mlcore.function([symbol], out, backend="numpy")(images).shape)
    cost = ops.sum(out * weights)
    gradient = mlcore.function([symbol], mlcore.grad(cost, [symbol])[0], backend="numpy")(images)
    np.testing.assert_allclose(gradient, numeric_grad(mlcore.function([symbol], cost, backend="numpy"), [images], 0),
                               rtol=1e-6, atol=1e-8)


def test_map_coordinates_gradient_reaches_inputs_and_coordinates(numeric_grad):
    inputs, coordinates = RNG.random((4, 5)), RNG.uniform(0.1, 3.7, (2, 3, 3))
    symbols = [TensorType("float64", v.shape)() for v in (inputs, coordinates)]
    cost = ops.sum(ops.image.map_coordinates(*symbols, order=1, fill_mode="wrap") ** 2)
    f = mlcore.function(symbols, cost, backend="numpy")
    grads = mlcore.function(symbols, mlcore.grad(cost, symbols), backend="numpy")(inputs, coordinates)
    for k, grad in enumerate(grads):
        np.testing.assert_allclose(grad, numeric_grad(f, [inputs, coordinates], k), rtol=1e-6, atol=1e-8)


# --- the Resizing layer, smart_resize, keras.ops.numpy ------------------------------------------
@pytest.mark.parametrize("interpolation", KINDS)
def test_resizing_layer_in_every_mode_as_keras(keras, interpolation):
    for kwargs in ({"height": 4, "width": 13}, {"height": 3, "width": 4, "antialias": True},
                   {"height": 6, "width": 6, "crop_to_aspect_ratio": True, "data_format": "channels_first"}):
        images = laid_out(IMAGES, kwargs.get("data_format", "channels_last"), True)
        symbol = TensorType("float32", (None,) + images.shape[1:])()
        ours = mlcore.function([symbol], layers.Resizing(interpolation=interpolation, **kwargs)(symbol))(images)
        theirs = keras.layers.Resizing(interpolation=interpolation, **kwargs)(images)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=2e-6, err_msg=str(kwargs))


def test_inside_a_model_with_unknown_batch_as_keras(keras, float32_jax):
    def steps(ops_module):
        return lambda x: ops_module.image.extract_patches(
            ops_module.image.gaussian_blur(ops_module.image.rgb_to_hsv(x), data_format="channels_last"), 2)
    ours = mlcore.Sequential([layers.Input((7, 9, 3)), layers.Lambda(steps(ops)),
                              layers.Resizing(5, 5, interpolation="bicubic")])
    theirs = keras.Sequential([keras.Input((7, 9, 3)), keras.layers.Lambda(steps(keras.ops)),
                               keras.layers.Resizing(5, 5, interpolation="bicubic")])
    np.testing.assert_allclose(ours.predict(IMAGES, verbose=0), theirs.predict(IMAGES, verbose=0), rtol=1e-5,
                               atol=2e-6)


def test_resizing_layer_area_as_jax():
    jax = pytest.importorskip("jax")
    symbol = TensorType("float32", (None, 7, 9, 3))()
    ours = mlcore.function([symbol], layers.Resizing(3, 4, interpolation="area")(symbol))(IMAGES)
    np.testing.assert_allclose(ours, jax.image.resize(IMAGES, (2, 3, 4, 3), "area"), rtol=1e-5, atol=1e-6)


def test_smart_resize_as_keras(keras):
    for kwargs in ({}, {"interpolation": "bicubic"}, {"interpolation": "nearest"}):
        ours = smart_resize(IMAGES, (5, 5), **kwargs)
        assert isinstance(ours, np.ndarray)
        np.testing.assert_allclose(ours, keras.preprocessing.image.smart_resize(IMAGES, (5, 5), **kwargs),
                                   rtol=1e-5, atol=1e-6)
    first = np.moveaxis(IMAGES[0], -1, 0)
    np.testing.assert_allclose(smart_resize(first, (8, 3), data_format="channels_first"),
                               keras.preprocessing.image.smart_resize(first, (8, 3), data_format="channels_first"),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="unexpected keyword"):
        smart_resize(IMAGES, (5, 5), antialias=True)


def test_ops_numpy_has_only_kerass_names_that_mlcore_ops_has(keras):
    from mlcore.ops import numpy as ops_numpy
    kerass = {name for name in dir(keras.ops.numpy) if not name.startswith("_")}
    assert set(ops_numpy.KERAS_NAMES) == kerass
    assert set(ops_numpy.__all__) == {name for name in kerass if callable(getattr(ops, name, None))}
    assert all(getattr(ops_numpy, name) is getattr(ops, name) for name in ops_numpy.__all__)
    np.testing.assert_allclose(ops_numpy.tensordot(IMAGES, np.ones(3), 1), IMAGES.sum(-1), rtol=1e-6)


# --- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, message", [
    (lambda: ops.image.resize(IMAGES, (3,)), "tuple of 2 integers"),
    (lambda: ops.image.resize(IMAGES, (3, 3), interpolation="gaussian"), "interpolation"),
    (lambda: ops.image.resize(IMAGES[0, 0], (3, 3)), r"rank.*\(9, 3\)"),
    (lambda: ops.image.resize(IMAGES, (3, 3), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True), "Only one"),
    (lambda: ops.image.affine_transform(IMAGES, TRANSFORMS, fill_mode="edge"), "fill_mode"),
    (lambda: ops.image.affine_transform(IMAGES, TRANSFORMS[None]), "transform rank"),
    (lambda: ops.image.map_coordinates(IMAGES, np.zeros((3, 5)), 1), "rank of `inputs`"),
    (lambda: ops.image.map_coordinates(IMAGES, np.zeros((4, 5)), 3), "order"),
    (lambda: ops.image.crop_images(IMAGES, 1, 1, 1, target_height=3, target_width=3), "exactly two"),
    (lambda: ops.image.crop_images(IMAGES, 5, 0, target_height=4, target_width=2), "bottom_cropping must be >= 0"),
    (lambda: ops.image.pad_images(IMAGES, 1, 1, target_height=5, target_width=12), "bottom_padding must be >= 0"),
    (lambda: ops.image.rgb_to_hsv(IMAGES[..., :2]), "3 channels"),
    (lambda: ops.image.rgb_to_hsv(IMAGES.astype("int32")), "float dtype"),
    (lambda: ops.image.rgb_to_grayscale(IMAGES[..., :2]), "channel size"),
    (lambda: ops.image.extract_patches(IMAGES, (1, 2, 3, 4)), "length 2 or 3"),
    (lambda: ops.image.perspective_transform(IMAGES, START[:, :3], END[:, :3]), "start_points shape"),
    (lambda: ops.image.resize(IMAGES, (3, 3), data_format="NHWC"), "data_format"),
])
def test_bad_arguments_are_refused_clearly(call, message):
    with pytest.raises(ValueError, match=message):
        call()
