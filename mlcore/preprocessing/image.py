"""keras.preprocessing.image for mlcore: image I/O, ImageDataGenerator and its iterators.

Everything tf.keras 2 / Keras 3 legacy code imports from `keras.preprocessing.image`
is importable from here, so `from mlcore.preprocessing.image import ImageDataGenerator`
is the only line that changes in Keras-era scripts.
"""

import math
import warnings

import numpy as np

from mlcore.preprocessing.affine import (
    apply_affine_transform, apply_brightness_shift, apply_channel_shift, flip_axis,
    random_brightness, random_channel_shift, random_rotation, random_shear, random_shift,
    random_zoom)
from mlcore.preprocessing.image_utils import (
    array_to_img, default_floatx, img_to_array, load_img, random_state, save_img,
    standardize_data_format)
from mlcore.preprocessing.iterators import DirectoryIterator, Iterator, NumpyArrayIterator

__all__ = [
    "DirectoryIterator", "ImageDataGenerator", "Iterator", "NumpyArrayIterator",
    "apply_affine_transform", "apply_brightness_shift", "apply_channel_shift",
    "array_to_img", "img_to_array", "load_img", "random_brightness", "random_channel_shift",
    "random_rotation", "random_shear", "random_shift", "random_zoom", "save_img", "smart_resize",
]


def _draw_shift(rng, spec, size):
    """Keras's shift ranges: a float is a uniform fraction of `size` (pixels when >= 1);
    an int n or a list picks a value (from range(n) or the list) with a random sign."""
    if isinstance(spec, (float, np.floating)):
        shift = rng.uniform(-spec, spec)
    else:
        shift = rng.choice(spec) * rng.choice([-1, 1])
    return shift * size if np.max(spec) < 1 else shift


class ImageDataGenerator:
    """Real-time augmentation and normalisation of image batches, as Keras's.

    Per image, in order: random transform (rotation, shifts, shear, zoom, channel shift,
    flips, brightness), then `preprocessing_function`, `rescale`, sample-wise and
    feature-wise normalisation, ZCA whitening. Feature-wise statistics come from fit().
    `width_shift_range` moves images horizontally and `height_shift_range` vertically,
    as documented (Keras 3's legacy code swaps the two).
    """

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0.0, height_shift_range=0.0, brightness_range=None,
                 shear_range=0.0, zoom_range=0.0, channel_shift_range=0.0,
                 fill_mode="nearest", cval=0.0, horizontal_flip=False, vertical_flip=False,
                 rescale=None, preprocessing_function=None, data_format=None,
                 validation_split=0.0, interpolation_order=1, dtype=None):
        self.data_format = standardize_data_format(data_format)
        self.dtype = dtype or default_floatx()
        self.featurewise_center = featurewise_center or zca_whitening or \
            featurewise_std_normalization
        self.samplewise_center = samplewise_center or samplewise_std_normalization
        self.featurewise_std_normalization = featurewise_std_normalization and not zca_whitening
        self.samplewise_std_normalization = samplewise_std_normalization
        if self.featurewise_center != featurewise_center or \
                self.featurewise_std_normalization != featurewise_std_normalization or \
                self.samplewise_center != samplewise_center:
            warnings.warn("This ImageDataGenerator's zca_whitening or *_std_normalization "
                          "setting overrides the matching *_center / std setting.")
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = shear_range
        self.channel_shift_range = channel_shift_range
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.interpolation_order = interpolation_order
        self.channel_axis, self.row_axis, self.col_axis = (
            (3, 1, 2) if self.data_format == "channels_last" else (1, 2, 3))
        if validation_split and not 0 < validation_split < 1:
            raise ValueError("`validation_split` must be strictly between 0 and 1. "
                             f"Received: {validation_split}")
        self._validation_split = validation_split
        if isinstance(zoom_range, (float, int)):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif len(zoom_range) == 2 and all(isinstance(v, (float, int)) for v in zoom_range):
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError("`zoom_range` should be a float or a tuple or list of two "
                             f"floats. Received: {zoom_range}")
        if brightness_range is not None and (
                not isinstance(brightness_range, (tuple, list)) or len(brightness_range) != 2):
            raise ValueError("`brightness_range should be tuple or list of two floats. "
                             f"Received: {brightness_range}")
        self.brightness_range = brightness_range
        self.mean = None
        self.std = None
        self.zca_whitening_matrix = None

    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix="", save_format="png", ignore_class_split=False,
             subset=None):
        """Iterate over batches of augmented images from an array (and labels)."""
        return NumpyArrayIterator(
            x, y, self, batch_size=batch_size, shuffle=shuffle, sample_weight=sample_weight,
            seed=seed, data_format=self.data_format, save_to_dir=save_to_dir,
            save_prefix=save_prefix, save_format=save_format,
            ignore_class_split=ignore_class_split, subset=subset, dtype=self.dtype)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb",
                            classes=None, class_mode="categorical", batch_size=32,
                            shuffle=True, seed=None, save_to_dir=None, save_prefix="",
                            save_format="png", follow_links=False, subset=None,
                            interpolation="nearest", keep_aspect_ratio=False):
        """Iterate over batches of augmented images read from one folder per class."""
        return DirectoryIterator(
            directory, self, target_size=target_size, color_mode=color_mode,
            classes=classes, class_mode=class_mode, batch_size=batch_size, shuffle=shuffle,
            seed=seed, data_format=self.data_format, save_to_dir=save_to_dir,
            save_prefix=save_prefix, save_format=save_format, follow_links=follow_links,
            subset=subset, interpolation=interpolation,
            keep_aspect_ratio=keep_aspect_ratio, dtype=self.dtype)

    def standardize(self, x):
        """Normalise an image or batch, in place where possible (as Keras, for speed)."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        for wanted, stat in (("featurewise_center", self.mean),
                             ("featurewise_std_normalization", self.std),
                             ("zca_whitening", self.zca_whitening_matrix)):
            if getattr(self, wanted) and stat is None:
                warnings.warn(f"This ImageDataGenerator specifies `{wanted}`, but it hasn't "
                              "been fit on any training data. Fit it first by calling "
                              "`.fit(numpy_data)`.")
        if self.featurewise_center and self.mean is not None:
            x -= self.mean
        if self.featurewise_std_normalization and self.std is not None:
            x /= self.std + 1e-6
        if self.zca_whitening and self.zca_whitening_matrix is not None:
            flat_x = x.reshape(-1, math.prod(x.shape[-3:]))
            x = np.reshape(flat_x @ self.zca_whitening_matrix, x.shape)
        return x

    def get_random_transform(self, img_shape, seed=None):
        """Draw the parameters of one random transform (a dict for apply_transform).

        `seed` may be an int or a numpy random Generator; None uses numpy's global RNG.
        """
        rng = random_state(seed)
        rows, cols = img_shape[self.row_axis - 1], img_shape[self.col_axis - 1]
        theta = rng.uniform(-self.rotation_range, self.rotation_range) \
            if self.rotation_range else 0
        tx = _draw_shift(rng, self.width_shift_range, cols) \
            if np.any(self.width_shift_range) else 0
        ty = _draw_shift(rng, self.height_shift_range, rows) \
            if np.any(self.height_shift_range) else 0
        shear = rng.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = rng.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = bool(self.horizontal_flip and rng.random() < 0.5)
        flip_vertical = bool(self.vertical_flip and rng.random() < 0.5)
        channel_shift_intensity = None
        if self.channel_shift_range != 0:
            channel_shift_intensity = rng.uniform(-self.channel_shift_range,
                                                  self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = rng.uniform(self.brightness_range[0], self.brightness_range[1])
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift_intensity, "brightness": brightness}

    def apply_transform(self, x, transform_parameters):
        """Apply a parameter dict (see get_random_transform) to one 3D image."""
        p = transform_parameters
        row_axis, col_axis, channel_axis = self.row_axis - 1, self.col_axis - 1, \
            self.channel_axis - 1
        x = apply_affine_transform(
            x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0), p.get("shear", 0),
            p.get("zx", 1), p.get("zy", 1), row_axis=row_axis, col_axis=col_axis,
            channel_axis=channel_axis, fill_mode=self.fill_mode, cval=self.cval,
            order=self.interpolation_order)
        if p.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, p["channel_shift_intensity"], channel_axis)
        if p.get("flip_horizontal", False):
            x = flip_axis(x, col_axis)
        if p.get("flip_vertical", False):
            x = flip_axis(x, row_axis)
        if p.get("brightness") is not None:
            x = apply_brightness_shift(x, p["brightness"], False)
        return x

    def random_transform(self, x, seed=None):
        """Apply one random transform to one 3D image."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Compute the feature-wise mean, std and ZCA matrix from sample images (rank 4).

        `rescale` is applied first; with `augment`, statistics cover `rounds` randomly
        transformed copies of the data.
        """
        x = np.array(x, dtype=self.dtype)  # a copy: normalised in place below
        if x.ndim != 4:
            raise ValueError(f"Input to `.fit()` should have rank 4. Got array with shape: "
                             f"{x.shape}")
        if x.shape[self.channel_axis] not in {1, 3, 4}:
            warnings.warn(f"Expected input to be images following the data format convention "
                          f'"{self.data_format}" (channels on axis {self.channel_axis}), '
                          f"i.e. 1, 3 or 4 channels; got an array with shape {x.shape}.")
        if self.rescale:
            x *= self.rescale
        if augment:
            rng = random_state(seed)
            x = np.stack([self.random_transform(image, seed=rng)
                          for _ in range(rounds) for image in x]).astype(self.dtype)
        broadcast = [1, 1, 1]
        broadcast[self.channel_axis - 1] = x.shape[self.channel_axis]
        axes = (0, self.row_axis, self.col_axis)
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=axes), broadcast)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=axes), broadcast)
            x /= self.std + 1e-6
        if self.zca_whitening:
            flat_x = np.reshape(x, (len(x), -1))
            u, s, _ = np.linalg.svd(flat_x.T, full_matrices=False)
            s_inv = np.sqrt(len(x)) / (s + self.zca_epsilon)
            self.zca_whitening_matrix = (u * s_inv) @ u.T


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last", **kwargs):
    """An image or a batch resized to size = (height, width) without distorting it: the largest centred
    window of the target's aspect ratio, resized (keras.ops.image.resize with crop_to_aspect_ratio).  A
    numpy array gives a numpy array, a graph tensor a graph tensor."""
    from mlcore.ops import image   # here: mlcore.ops imports the graph, which image I/O does not need
    kwargs.pop("backend_module", None)
    if kwargs:
        raise TypeError("smart_resize() got unexpected keyword arguments: %s" % (list(kwargs),))
    if len(size) != 2:
        raise ValueError("Expected `size` to be a tuple of 2 integers, but got: %s." % (size,))
    shape = tuple(x.type.shape) if hasattr(x, "type") else np.shape(x)     # a graph variable, or values
    if len(shape) not in (3, 4):
        raise ValueError("Expected an image array with shape `(height, width, channels)`, or `(batch_size, "
                         "height, width, channels)`, but got input with incorrect rank, of shape %s." % (shape,))
    return image.resize(x, size, interpolation=interpolation, crop_to_aspect_ratio=True, data_format=data_format)
