"""TensorBoard event files without TensorFlow: TFRecord framing, CRC32C, and the Event message.

An event file is a sequence of records, each
    uint64 length | uint32 masked CRC32C of those 8 bytes | data | uint32 masked CRC32C of data
(all little-endian), where each record's data is an encoded `Event`
(tensorflow/core/util/event.proto): the first holds file_version "brain.Event:2", the others one
Summary.Value (built by mlcore.utils.summary_values) with a step and a wall time.
"""
import itertools
import os
import socket
import struct
import time

from mlcore.utils.protobuf_wire import bytes_field, double_field, int_field

_CASTAGNOLI = 0x82F63B78        # the CRC-32C polynomial, bit-reversed (the CRC works low bit first)


def _crc_table():
    """The CRC of each byte value alone: one table lookup then replaces eight shift-and-xor steps."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (_CASTAGNOLI if crc & 1 else 0)
        table.append(crc)
    return table


_CRC_TABLE = _crc_table()


def crc32c(data):
    """CRC-32C (Castagnoli), the checksum TFRecord files use: crc32c(b"123456789") == 0xE3069283."""
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """The CRC rotated right by 15 bits plus a constant, as TFRecord stores it (a CRC of data that
    itself holds CRCs is then less likely to be degenerate)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(data):
    """One record: the framed, checksummed bytes."""
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", masked_crc32c(length)) + data
            + struct.pack("<I", masked_crc32c(data)))


def encode_event(wall_time, step=0, summary_value=None, file_version=None, writer=None):
    """An Event: wall_time (1), step (2), file_version (3), summary (5) holding one Summary.Value,
    source_metadata (10) naming the writer."""
    fields = [double_field(1, wall_time)]
    if step:
        fields.append(int_field(2, step))
    if file_version is not None:
        fields.append(bytes_field(3, file_version))
    if summary_value is not None:
        fields.append(bytes_field(5, bytes_field(1, summary_value)))
    if writer is not None:
        fields.append(bytes_field(10, bytes_field(1, writer)))
    return b"".join(fields)


_file_ids = itertools.count()      # TensorFlow's per-process counter that keeps two writers' names apart


class EventFileWriter:
    """Appends events to a new file in `logdir` (created if missing), named and begun as
    TensorFlow 2's tf.summary.create_file_writer does it:
    events.out.tfevents.<seconds>.<hostname>.<pid>.<n>.v2, whose first event is written at once.
    Events are buffered until flush() or close()."""

    def __init__(self, logdir):
        os.makedirs(logdir, exist_ok=True)
        seconds = int(time.time())
        name = "events.out.tfevents.%010d.%s.%d.%d.v2" % (seconds, socket.gethostname(), os.getpid(),
                                                          next(_file_ids))
        self.path = os.path.join(logdir, name)
        self._file = open(self.path, "wb")
        self._write(encode_event(float(seconds), file_version="brain.Event:2", writer="mlcore"))
        self.flush()

    def _write(self, event):
        self._file.write(tfrecord(event))

    def add_summary(self, value, step):
        """One event holding one encoded Summary.Value, at `step`, stamped with the current time."""
        self._write(encode_event(time.time(), int(step), summary_value=value))

    def flush(self):
        self._file.flush()

    def close(self):
        self._file.close()

    @property
    def closed(self):
        return self._file.closed
