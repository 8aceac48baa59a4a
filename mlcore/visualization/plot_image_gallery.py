"""keras.visualization.plot_image_gallery: a batch of images in a matplotlib grid, with their true and
predicted class names as titles, shown or saved."""
import math

from mlcore.layers.image_ranges import rescale
from mlcore.ops.core import convert_to_numpy
from mlcore.visualization.images import batch_as_numpy, channels_last, checked_data_format


def pyplot(function):
    """matplotlib.pyplot, which the plotting functions need (it is an optional dependency)."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("The `%s` function requires the `matplotlib` package. Please install it with "
                          "`pip install matplotlib`." % function) from None
    return plt


def finish(plt, path, show, transparent, dpi):
    """Save the figure to path, or show it; either way it is closed after.  With neither, it stays open
    (plt.gcf()) for the caller to use."""
    if path is not None:
        plt.savefig(fname=path, pad_inches=0, bbox_inches="tight", transparent=transparent, dpi=dpi)
        plt.close()
    elif show:
        plt.show()
        plt.close()


def plot_image_gallery(images, y_true=None, y_pred=None, label_map=None, rows=None, cols=None, value_range=(0, 255),
                       scale=2, path=None, show=None, transparent=True, dpi=60, legend_handles=None,
                       data_format=None):
    """Plot the first rows * cols images (batch, height, width, channels) of a batch, whose values lie in
    value_range, in a grid; titles "Label: <name>  Pred: <name>" from label_map when y_true or y_pred
    (class indices, one per image) are given.  Saved to path, else shown unless show=False.  As in
    Keras, rows defaults to ceil(sqrt(batch)) and cols to batch // rows."""
    plt = pyplot("plot_image_gallery")
    if path is not None and show:
        raise ValueError("plot_image_gallery() expects either `path` to be set, or `show` to be true.")
    if (y_true is not None or y_pred is not None) and label_map is None:
        raise ValueError("If `y_true` or `y_pred` are provided, a `label_map` must also be provided.")
    show = path is None if show is None else show
    data_format = checked_data_format(data_format)
    images = channels_last(batch_as_numpy(images, "plot_image_gallery()"), data_format)
    batch_size = images.shape[0]
    rows = rows or int(math.ceil(math.sqrt(batch_size)))
    cols = cols or batch_size // rows
    images = rescale(images[:rows * cols].astype("float32"), value_range, (0, 255))
    y_true = None if y_true is None else convert_to_numpy(y_true)
    y_pred = None if y_pred is None else convert_to_numpy(y_pred)

    fig, axes = plt.subplots(nrows=rows, ncols=cols, figsize=(cols * scale, rows * scale), frameon=False,
                             layout="tight", squeeze=False, sharex="row", sharey="col")
    fig.subplots_adjust(wspace=0, hspace=0)
    if legend_handles is not None:
        fig.legend(handles=legend_handles, loc="lower center")
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= len(images):
            continue
        image = images[index].astype("uint8")
        axis.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray")   # cmap: for one channel
        axis.margins(x=0, y=0)
        titles = ["%s: %s" % (name, label_map.get(labels[index], "Unknown"))
                  for name, labels in (("Label", y_true), ("Pred", y_pred))
                  if labels is not None and index < len(labels)]
        if titles:
            axis.set_title("  ".join(titles), fontsize=8)
    finish(plt, path, show, transparent, dpi)
