"""keras.visualization.plot_bounding_box_gallery: a gallery of images with their true boxes and their
predicted boxes drawn in two colours."""
import functools

import numpy as np

from mlcore.visualization.draw_bounding_boxes import draw_bounding_boxes
from mlcore.visualization.images import batch_as_numpy, channels_last, checked_data_format
from mlcore.visualization.plot_image_gallery import plot_image_gallery, pyplot


def plot_bounding_box_gallery(images, bounding_box_format, y_true=None, y_pred=None, value_range=(0, 255),
                              true_color=(0, 188, 212), pred_color=(255, 235, 59), line_thickness=2, font_scale=1.0,
                              text_thickness=None, class_mapping=None, ground_truth_mapping=None,
                              prediction_mapping=None, legend=False, legend_handles=None, rows=None, cols=None,
                              data_format=None, **kwargs):
    """plot_image_gallery of images (batch, height, width, channels) with the boxes of y_true drawn in
    true_color and those of y_pred in pred_color (dicts as draw_bounding_boxes takes), named by
    ground_truth_mapping / prediction_mapping (both default to class_mapping); legend=True adds a
    legend of the two colours.  Other keyword arguments go to plot_image_gallery."""
    pyplot("plot_bounding_box_gallery")
    from matplotlib import patches
    data_format = checked_data_format(data_format)
    images = channels_last(batch_as_numpy(images, "plot_bounding_box_gallery()"), data_format)
    draw = functools.partial(draw_bounding_boxes, bounding_box_format=bounding_box_format,
                             line_thickness=line_thickness, text_thickness=text_thickness, font_scale=font_scale,
                             data_format="channels_last")
    if y_true is not None:
        images = draw(images, y_true, color=true_color, class_mapping=ground_truth_mapping or class_mapping)
    if y_pred is not None:
        images = draw(images, y_pred, color=pred_color, class_mapping=prediction_mapping or class_mapping)
    if legend:
        if legend_handles:
            raise ValueError("Only pass `legend` OR `legend_handles` to "
                             "`keras.visualization.plot_bounding_box_gallery()`.")
        legend_handles = [patches.Patch(color=np.array(true_color) / 255.0, label="Ground Truth"),
                          patches.Patch(color=np.array(pred_color) / 255.0, label="Prediction")]
    return plot_image_gallery(images, value_range=value_range, legend_handles=legend_handles, rows=rows, cols=cols,
                              data_format="channels_last", **kwargs)
