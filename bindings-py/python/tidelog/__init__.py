"""tidelog: a crash-safe, append-only log with dense offsets, atomic batches, named consumer
cursors and a small key-value journal — the same bytes in a file, on NOR flash and in a
browser.

>>> import tidelog, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "events.tlog")
>>> with tidelog.Log.create(path, 1 << 20) as log:
...     log.append(b"boot")
...     log.extend([b"temp=21.5", b"temp=21.7"])
0
1
>>> with tidelog.Log.open(path) as log:
...     list(log)
[(0, b'boot'), (1, b'temp=21.5'), (2, b'temp=21.7')]

The classes (``Log``, ``KV``, ``LogDir``, ...) are thin wrappers of the Rust core: every call
releases the GIL around its I/O, and every error is one of the exception classes of
:mod:`tidelog._errors`, re-exported here.
"""

from __future__ import annotations

from typing import Tuple

from ._errors import (
    AlreadyExistsError,
    BufferTooSmallError,
    ClosedError,
    CorruptError,
    Error,
    FullError,
    GeometryMismatchError,
    InvalidArgumentError,
    InvalidConfigError,
    InvalidNameError,
    LockedError,
    NeedsRemountError,
    NoSuchConsumerError,
    NotFormattedError,
    NotFoundError,
    OffsetError,
    OutOfRangeError,
    OverwrittenError,
    StorageDeviceError,
    StorageError,
    StorageNotAlignedError,
    StorageOutOfBoundsError,
    StoragePowerLossError,
    StorageReadOnlyError,
    StorageWriteTwiceError,
    TooLargeError,
    TooManyConsumersError,
    UnsupportedVersionError,
    error_class,
)
from ._kv import KV, open_kv_image
from ._tidelog import (
    FORMAT_VERSION,
    KV_FORMAT_VERSION,
    MAX_CONSUMER_NAME,
    MAX_CONSUMERS,
    Consumer,
    ImageInfo,
    KVStats,
    Layout,
    Log,
    LogDir,
    LogIterator,
    RecoveryReport,
    Stats,
    __version__,
    open_image,
    probe_image,
)
from ._tidelog import ERROR_CODES as _ERROR_CODES

#: The core's error table: ``(code, name, description)`` for every error code, ascending.
ERROR_CODES: Tuple[Tuple[int, str, str], ...] = tuple(_ERROR_CODES)

__all__ = [
    "__version__",
    "FORMAT_VERSION",
    "KV_FORMAT_VERSION",
    "MAX_CONSUMER_NAME",
    "MAX_CONSUMERS",
    "ERROR_CODES",
    "Log",
    "LogIterator",
    "Consumer",
    "Stats",
    "Layout",
    "RecoveryReport",
    "KV",
    "KVStats",
    "LogDir",
    "ImageInfo",
    "open_image",
    "open_kv_image",
    "probe_image",
    "Error",
    "FullError",
    "CorruptError",
    "OffsetError",
    "OutOfRangeError",
    "OverwrittenError",
    "TooLargeError",
    "BufferTooSmallError",
    "UnsupportedVersionError",
    "NotFormattedError",
    "GeometryMismatchError",
    "InvalidConfigError",
    "InvalidArgumentError",
    "InvalidNameError",
    "NoSuchConsumerError",
    "TooManyConsumersError",
    "LockedError",
    "NeedsRemountError",
    "NotFoundError",
    "AlreadyExistsError",
    "ClosedError",
    "StorageError",
    "StorageOutOfBoundsError",
    "StorageNotAlignedError",
    "StorageWriteTwiceError",
    "StoragePowerLossError",
    "StorageDeviceError",
    "StorageReadOnlyError",
    "error_class",
]
