"""keras.visualization.plot_segmentation_mask_gallery: one row per image, showing the image, then its
true mask, then its predicted mask, each painted over it."""
import functools

import numpy as np

from mlcore.ops.core import convert_to_numpy
from mlcore.visualization.draw_segmentation_masks import draw_segmentation_masks
from mlcore.visualization.images import batch_as_numpy, channels_last, checked_data_format
from mlcore.visualization.plot_image_gallery import plot_image_gallery


def plot_segmentation_mask_gallery(images, num_classes, value_range=(0, 255), y_true=None, y_pred=None,
                                   color_mapping=None, blend=True, alpha=0.8, ignore_index=-1, data_format=None,
                                   **kwargs):
    """plot_image_gallery of images (batch, height, width, channels) in rows of (image, image with
    y_true painted, image with y_pred painted), the masks drawn as draw_segmentation_masks draws them.
    Other keyword arguments go to plot_image_gallery."""
    data_format = checked_data_format(data_format)
    images = channels_last(batch_as_numpy(images, "plot_segmentation_mask_gallery()"), data_format)
    draw = functools.partial(draw_segmentation_masks, num_classes=num_classes, color_mapping=color_mapping,
                             alpha=alpha, ignore_index=ignore_index, blend=blend, data_format="channels_last")
    columns = [images]
    for masks in (y_true, y_pred):
        if masks is not None:
            masks = convert_to_numpy(masks).astype("int32")
            masks = channels_last(masks, data_format) if masks.ndim == 4 else masks
            columns.append(draw(images, masks))
    gallery = np.stack(columns, axis=1).reshape((-1,) + images.shape[1:])
    return plot_image_gallery(gallery, value_range=value_range, rows=images.shape[0], cols=len(columns),
                              data_format="channels_last", **kwargs)
