"""keras.utils.image_dataset_from_directory: the images of one sub-folder per class, decoded with Pillow and
resized as Keras 3 resizes them (keras.ops.image.resize, which the Resizing layer matches), in batches of
numpy arrays that fit, evaluate and predict read directly."""
import functools

import numpy as np

from mlcore.preprocessing.image_utils import img_to_array, load_img, standardize_data_format
from mlcore.utils.dataset_utils import dataset_from_directory

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
KERAS_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
                        "mitchellcubic")
CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


def resize_array(image, size, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio):
    """An (h, w, c) float32 array resized to size = (height, width) with keras.ops.image.resize's
    weights (without antialiasing, its default): numpy on one array, no graph to compile per file."""
    # imported here: mlcore.activations imports mlcore.utils, which imports this module, and mlcore.ops
    # imports mlcore.activations
    from mlcore.ops.image_sampling import aspect_crop_box, aspect_pad_band, nearest_indices, resize_weights
    if crop_to_aspect_ratio:
        top, left, rows, cols = aspect_crop_box(image.shape[:2], size)
        image = image[top:top + rows, left:left + cols]
    elif pad_to_aspect_ratio:
        image = np.pad(image, aspect_pad_band(image.shape[:2], size) + ((0, 0),))
    for axis, new_size in enumerate(size):
        old_size = image.shape[axis]
        if old_size == new_size:
            continue
        if interpolation == "nearest":
            image = np.take(image, nearest_indices(old_size, new_size), axis=axis)
        else:
            weights = resize_weights(old_size, new_size, interpolation).astype("float32")
            image = np.moveaxis(np.tensordot(image, weights, axes=[[axis], [0]]), -1, axis)
    return image


def load_image(path, color_mode, image_size, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio,
               data_format):
    """One image file as a float32 array of image_size, channels where data_format puts them."""
    img = load_img(path, color_mode=color_mode)
    image = img_to_array(img, data_format="channels_last", dtype="float32")
    img.close()
    image = resize_array(image, image_size, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio)
    return image.transpose(2, 0, 1) if data_format == "channels_first" else image


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                 color_mode="rgb", batch_size=32, image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, data_format=None,
                                 format="tf", verbose=True):
    """A PyDataset of (images, labels) batches (images alone when label_mode or labels is None) from the
    .bmp/.gif/.jpeg/.jpg/.png files under directory, with Keras 3's arguments, file order, seeded shuffle and
    validation split; it has `class_names` and `file_paths`. subset="both" gives [training, validation].
    Images are float32 (batch, *image_size, channels) in [0, 255]. format ("tf" or "grain", Keras's choice of
    pipeline) is checked and otherwise ignored: both give this dataset. Interpolation is "bilinear" or
    "nearest" (Keras's other methods are not implemented)."""
    caller = "image_dataset_from_directory"
    if color_mode not in CHANNELS:
        raise ValueError("%s: `color_mode` must be one of {\"rgb\", \"rgba\", \"grayscale\"}. Received: "
                         "color_mode=%r" % (caller, color_mode))
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError("%s: Invalid `image_size` value. Expected a tuple of 2 integers. Received: image_size=%r"
                         % (caller, image_size))
    interpolation = interpolation.lower()
    if interpolation not in KERAS_INTERPOLATIONS:
        raise ValueError("%s: Argument `interpolation` should be one of %s. Received: interpolation=%r"
                         % (caller, KERAS_INTERPOLATIONS, interpolation))
    from mlcore.ops.image_sampling import RESIZE_INTERPOLATIONS
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise NotImplementedError("%s: interpolation=%r is not implemented in mlcore; use one of %s"
                                  % (caller, interpolation, RESIZE_INTERPOLATIONS))
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("%s: Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`."
                         % caller)
    load = functools.partial(load_image, color_mode=color_mode, image_size=tuple(image_size),
                             interpolation=interpolation, crop_to_aspect_ratio=crop_to_aspect_ratio,
                             pad_to_aspect_ratio=pad_to_aspect_ratio,
                             data_format=standardize_data_format(data_format))
    return dataset_from_directory(caller, "images", ALLOWLIST_FORMATS, load, directory, labels, label_mode,
                                  class_names, batch_size, shuffle, seed, validation_split, subset, follow_links,
                                  format, verbose)
