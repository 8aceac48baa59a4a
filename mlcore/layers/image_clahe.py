"""Keras 3's ContrastLimitedAdaptiveHistogramEqualization (CLAHE): each channel of each image equalized
tile by tile, so that contrast rises locally, with each tile's histogram clipped at clip_limit times its
mean bin so that near-flat regions are not stretched into noise; every pixel then blends the maps of the
four tiles whose centres surround it, so that no tile edges show.

The numbers are Keras's: on 0..255 (value_range mapped there) in float32, the images padded
symmetrically to whole tiles, 256 levels (values truncated to ints), the excess of the clipped bins
spread evenly over all 256, each tile's map (cdf - cdf[0]) * 255 / (pixels - cdf[0]), and the outer
tiles' maps used beyond the outer tile centres.  The tile geometry depends only on the image size, so
numpy works it out once per graph; the histograms and four look-ups per pixel run on the backend."""
import numpy as np

from mlcore import ops
from mlcore.graph.ops.common import is_float_dtype
from mlcore.layers.image_base import ImageLayer
from mlcore.layers.image_ranges import rescale

FULL = (0, 255)
LEVELS = 256


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _padded(levels, axis, length):
    """levels extended along axis (1 or 2) to `length` by mirroring, edge included (numpy's "symmetric")."""
    size = levels.type.shape[axis]
    if size == length:
        return levels
    return ops.take(levels, np.pad(np.arange(size), (0, length - size), mode="symmetric"), axis=axis)


def _neighbour_tiles(length, tile, grid):
    """For each position 0..length-1 of an axis cut into `grid` tiles of `tile` pixels: the tiles whose
    centres lie at or before it and after it (the outer tile past the outer centres), and the weight of
    the latter, in float32 as Keras computes them."""
    position = (np.arange(length, dtype="float32") - np.float32(tile / 2.0)) / np.float32(tile) + np.float32(1)
    after = np.floor(position)              # counted from a tile before the first, as Keras's weights are
    return (np.clip(after - 1, 0, grid - 1).astype("int32"), np.clip(after, 0, grid - 1).astype("int32"),
            position - after)


def tile_maps(tiled, grid, tile, clip_limit):
    """Each tile's equalizing map from level to 0..255, per image a row of (grid rows, grid columns,
    channels, 256) entries, from the int levels of NHWC images of whole tiles; clip_limit > 0 caps each
    bin at clip_limit times the mean bin (rounded to float32, as Keras's) and spreads the excess evenly."""
    channels, pixels = tiled.type.shape[3], tile[0] * tile[1]
    tiles = ops.reshape(tiled, (-1, grid[0], tile[0], grid[1], tile[1], channels))
    tiles = ops.reshape(ops.transpose(tiles, (0, 1, 3, 5, 2, 4)), (-1, pixels))
    count = ops.shape(tiles)[0]
    slots = ops.reshape(tiles + ops.arange(count, dtype="int32")[:, None] * LEVELS, (-1, 1))
    counts = ops.reshape(ops.scatter(slots, ops.ones_like(slots[:, 0], dtype="float32"), (count * LEVELS,)),
                         (-1, LEVELS))
    if clip_limit > 0:
        clipped = ops.minimum(counts, float(np.float32(clip_limit * pixels / 256.0)))
        counts = clipped + ops.sum(counts - clipped, axis=-1, keepdims=True) / 256.0
    cdf = ops.cumsum(counts, axis=-1)
    first = cdf[:, :1]                          # the smallest: counts are never negative
    spread = float(pixels) - first
    maps = ops.clip((cdf - first) * 255.0 / ops.where(ops.equal(spread, 0.0), 1.0, spread), *FULL)
    return ops.reshape(maps, (-1, grid[0] * grid[1] * channels * LEVELS))


class ContrastLimitedAdaptiveHistogramEqualization(ImageLayer):
    """Contrast limited adaptive histogram equalization on tile_grid_size (rows, columns) tiles of each
    image, at inference as in training; clip_limit 0 equalizes without limit.  Integer images come back
    in their dtype (truncated), as Keras gives them."""

    def __init__(self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8), data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        name = type(self).__name__
        if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
                or not all(map(_is_number, value_range)) or value_range[0] == value_range[1]):
            raise ValueError("%s: the `value_range` argument should be a list of two different numbers. Received: "
                             "value_range=%r" % (name, value_range))
        if not _is_number(clip_limit) or not clip_limit >= 0:
            raise ValueError("%s: the `clip_limit` argument should be a number >= 0 (0: no limit). Received: "
                             "clip_limit=%r" % (name, clip_limit))
        if (not isinstance(tile_grid_size, (tuple, list)) or len(tile_grid_size) != 2
                or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1
                           for n in tile_grid_size)):
            raise ValueError("%s: the `tile_grid_size` argument should be a pair of positive integers (rows, "
                             "columns). Received: tile_grid_size=%r" % (name, tile_grid_size))
        self.value_range = value_range
        self.clip_limit = clip_limit
        self.tile_grid_size = tile_grid_size

    def call(self, inputs, training=True):
        """Keras gives integer images back in their own dtype, the equalized values truncated."""
        outputs = super().call(inputs, training)
        dtype = (inputs["images"] if isinstance(inputs, dict) else inputs).dtype
        if is_float_dtype(dtype):
            return outputs
        if isinstance(outputs, dict):
            return {**outputs, "images": ops.cast(outputs["images"], dtype)}
        return ops.cast(outputs, dtype)

    def transform(self, images, training):
        height, width, channels = images.type.shape[1:]
        if None in (height, width, channels):
            raise ValueError("%s '%s': the images' height, width and channels must be known; received NHWC "
                             "shape %s" % (type(self).__name__, self.name, images.type.shape))
        grid = tuple(int(n) for n in self.tile_grid_size)
        tile = (-(-height // grid[0]), -(-width // grid[1]))
        full = rescale(ops.cast(images, "float32"), self.value_range, FULL)
        levels = ops.cast(ops.clip(full, *FULL), "int32")
        tiled = _padded(_padded(levels, 1, tile[0] * grid[0]), 2, tile[1] * grid[1])
        maps = tile_maps(tiled, grid, tile, self.clip_limit)
        rows, cols = _neighbour_tiles(height, tile[0], grid[0]), _neighbour_tiles(width, tile[1], grid[1])

        def look_up(row, col):
            """maps[image, row[y], col[x], channel, level of pixel (y, x, channel)]."""
            slot = ((row[:, None, None] * grid[1] + col[None, :, None]) * channels + np.arange(channels)) * LEVELS
            index = ops.reshape(levels + slot.astype("int32"), (-1, height * width * channels))
            return ops.reshape(ops.take_along_axis(maps, index, axis=1), (-1, height, width, channels))

        down, right = rows[2][:, None, None], cols[2][None, :, None]
        upper = look_up(rows[0], cols[0]) * (1.0 - right) + look_up(rows[0], cols[1]) * right
        lower = look_up(rows[1], cols[0]) * (1.0 - right) + look_up(rows[1], cols[1]) * right
        equalized = upper * (1.0 - down) + lower * down
        return ops.cast(rescale(equalized, FULL, self.value_range), images.dtype)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range, "clip_limit": self.clip_limit,
                "tile_grid_size": self.tile_grid_size}
