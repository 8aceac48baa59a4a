"""keras.visualization.draw_segmentation_masks: each class of a segmentation mask painted in its colour
over a batch of images, blended with them as Keras blends."""
import numpy as np

from mlcore.ops.core import convert_to_numpy
from mlcore.visualization.images import batch_as_numpy, channels_last, checked_data_format


def color_palette(num_classes):
    """Keras's default colours: class i gets (i * (2**25 - 1, 2**15 - 1, 2**21 - 1)) % 255, distinct
    enough for neighbouring classes."""
    palette = np.array([2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1])
    return [((i * palette) % 255).tolist() for i in range(num_classes)]


def draw_segmentation_masks(images, segmentation_masks, num_classes=None, color_mapping=None, alpha=0.8,
                            blend=True, ignore_index=-1, data_format=None):
    """images (batch, height, width, channels) with the classes 0..num_classes - 1 of
    segmentation_masks (batch, height, width) or (batch, height, width, 1) painted on: with blend, as
    uint8 images * (1 - alpha) + colours * alpha, leaving pixels of class ignore_index as they were;
    without, as float32 images with the colours painted over."""
    data_format = checked_data_format(data_format)
    images = channels_last(batch_as_numpy(images, "draw_segmentation_masks()"), data_format)
    masks = convert_to_numpy(segmentation_masks)
    if masks.dtype.kind not in "iu":
        raise TypeError("`segmentation_masks` must be in integer dtype. Received: segmentation_masks.dtype=%s"
                        % (masks.dtype,))
    if masks.ndim == 4:
        masks = channels_last(masks, data_format)[..., 0]
    if masks.shape != images.shape[:3]:
        raise ValueError("draw_segmentation_masks(): `segmentation_masks` must have the shape (batch, height, "
                         "width) or (batch, height, width, 1) of the images %s. Received: "
                         "segmentation_masks.shape=%s" % (images.shape, np.shape(segmentation_masks)))
    images = images.astype("float32")
    if num_classes is None:
        num_classes = int(masks.max())
    colors = color_palette(num_classes) if color_mapping is None else [color_mapping[i] for i in range(num_classes)]
    painted = images.copy()
    for index, color in enumerate(colors):
        painted[masks == index] = np.asarray(color, dtype="float32")
    if blend:
        blended = images * (1 - alpha) + painted * alpha
        painted = np.where((masks != ignore_index)[..., None], blended, images).astype("uint8")
    return np.transpose(painted, (0, 3, 1, 2)) if data_format == "channels_first" else painted
