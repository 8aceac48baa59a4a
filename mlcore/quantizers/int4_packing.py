"""pack_int4 / unpack_int4: two int4 values ([-8, 7]) per byte, as Keras stores int4 kernels.
Along the packed axis, each pair of entries becomes one byte: the first in the low nibble, the
second in the high one (an odd length is padded with a zero)."""
import numpy as np

from mlcore import ops


def _check_dtype(dtype):
    if dtype not in ("int8", "uint8"):
        raise ValueError("Expected dtype to be 'int8' or 'uint8', but got '%s'." % (dtype,))


def pack_int4(arr, axis=0, dtype="int8"):
    """(packed, packed's shape, the axis's length before padding); packing runs on the host, as Keras's."""
    _check_dtype(dtype)
    arr = ops.convert_to_numpy(arr)
    if arr.dtype.name != dtype:
        raise TypeError("Expected %s tensor for packing, got %s." % (dtype, arr.dtype.name))
    arr = np.moveaxis(arr, axis, 0)
    length = arr.shape[0]
    if length % 2:
        arr = np.concatenate([arr, np.zeros((1,) + arr.shape[1:], arr.dtype)])
    low, high = arr[::2] & np.array(0x0F, dtype), arr[1::2] & np.array(0x0F, dtype)
    packed = np.moveaxis((low | (high << np.array(4, dtype))).astype(dtype), 0, axis)
    return packed, tuple(packed.shape), length


def unpack_int4(packed, orig_len, axis=0, dtype="int8"):
    """pack_int4's values back, orig_len of them along axis; with dtype "int8" each nibble is read as a
    signed int4 ((n ^ 8) - 8)."""
    _check_dtype(dtype)
    if ops.dtype(packed) not in ("int8", "uint8"):
        raise TypeError("Expected int8 or uint8 tensor for unpacking, got %s" % (ops.dtype(packed),))
    rank = len(ops.shape(packed))
    axis = axis % rank
    perm = [axis] + [i for i in range(rank) if i != axis]
    packed = ops.transpose(packed, perm)
    mask = ops.cast(0x0F, ops.dtype(packed))
    nibbles = [ops.bitwise_and(packed, mask), ops.bitwise_and(ops.right_shift(packed, 4), mask)]
    if dtype == "int8":
        eight = ops.cast(8, ops.dtype(packed))
        nibbles = [ops.subtract(ops.bitwise_xor(n, eight), eight) for n in nibbles]
    nibbles = [ops.cast(n, dtype) for n in nibbles]
    unpacked = ops.reshape(ops.stack(nibbles, axis=1), (-1,) + tuple(ops.shape(packed)[1:]))[:orig_len]
    return ops.transpose(unpacked, [perm.index(i) for i in range(rank)])
