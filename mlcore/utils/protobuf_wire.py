"""Protocol-buffer fields written by hand: just enough of the wire format for TensorBoard's messages.

A message is the concatenation of its fields; each field is a key (field number << 3 | wire type)
then its value: a varint, 8 or 4 little-endian bytes, or a length-prefixed byte string (strings,
nested messages, packed repeated numbers).  See https://protobuf.dev/programming-guides/encoding/.
"""
import struct

import numpy as np

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


def varint(n):
    """Base-128, low group first, high bit set on all bytes but the last; negative int64 values are
    written as their 64-bit two's complement (10 bytes), as protobuf does."""
    n &= (1 << 64) - 1
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def key(field, wire_type):
    return varint(field << 3 | wire_type)


def int_field(field, n):
    """An int32, int64 or enum field."""
    return key(field, VARINT) + varint(int(n))


def double_field(field, x):
    return key(field, FIXED64) + struct.pack("<d", x)


def float_field(field, x):
    """A float field: x rounded to float32 (a value too large for it becomes inf)."""
    return key(field, FIXED32) + np.float32(x).tobytes()


def bytes_field(field, data):
    """A string (str, written as UTF-8), bytes, or an already encoded nested message."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return key(field, LENGTH_DELIMITED) + varint(len(data)) + data


def packed_doubles_field(field, values):
    """A `repeated double` field in its packed form: one length-prefixed run of float64s."""
    return bytes_field(field, np.asarray(values, "<f8").tobytes())
