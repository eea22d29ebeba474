"""tidelog's exceptions: one class per core error code.

Every error the core reports has a stable number (``tidelog::ErrorCode``, the table shared with
the C and JS bindings); each number has one class here, named after the code's name
(``OUT_OF_RANGE`` -> :class:`OutOfRangeError`). The message is the core's own text; the
fields a core error carries are attributes (``CorruptError.addr``,
``OverwrittenError.first_available``, ...), and ``path`` names the file (or the stream) the
error concerns, when there is one.

Some classes also derive from the built-in exception a Python programmer would catch:
``OffsetError`` (the base of ``OutOfRangeError`` and ``OverwrittenError``) is an
``IndexError``; ``TooLargeError`` and the invalid-argument errors are ``ValueError``\\ s (so
is ``ClosedError``, like an operation on a closed file); ``NotFoundError`` is a
``FileNotFoundError``, ``AlreadyExistsError`` a ``FileExistsError`` and
``StorageDeviceError`` an ``OSError`` carrying the OS's ``errno``.
"""

from __future__ import annotations

import errno as _errno
from typing import Any, ClassVar, Dict, Optional, Tuple, Type

__all__ = [
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


class Error(Exception):
    """Base class of every tidelog error.

    ``code`` is the core's stable error number and ``code_name`` its name (e.g. ``3`` and
    ``"OUT_OF_RANGE"``); ``path`` is the file, stream or group the error concerns, or None.
    """

    code: ClassVar[int] = 0
    code_name: ClassVar[str] = ""
    #: The fields this class carries besides the message and the path.
    _fields: ClassVar[Tuple[str, ...]] = ()

    message: str
    path: Optional[str]

    def __init__(self, message: str, *, path: Optional[str] = None, **fields: int) -> None:
        super().__init__(message)
        self._set(message, path, fields)

    def _set(self, message: str, path: Optional[str], fields: Dict[str, int]) -> None:
        unknown = set(fields) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        self.message = message
        self.path = path
        for name in self._fields:
            setattr(self, name, fields.get(name, 0))

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> Tuple[Any, ...]:
        fields = {name: getattr(self, name) for name in self._fields}
        return (_rebuild, (type(self), self.message, self.path, fields))


def _rebuild(
    cls: Type[Error], message: str, path: Optional[str], fields: Dict[str, int]
) -> Error:
    return cls(message, path=path, **fields)


class _OSErrorMixin(Error, OSError):
    """An error that is also an ``OSError`` (``errno``, ``strerror``, ``filename``)."""

    _default_errno: ClassVar[int] = 0
    errno: int

    def __init__(self, message: str, *, path: Optional[str] = None, **fields: int) -> None:
        number = fields.pop("errno", self._default_errno)
        OSError.__init__(self, number, message, path)
        self._set(message, path, fields)
        self.errno = number

    def __reduce__(self) -> Tuple[Any, ...]:
        fields = {name: getattr(self, name) for name in self._fields}
        fields["errno"] = self.errno
        return (_rebuild, (type(self), self.message, self.path, fields))


class FullError(Error):
    """No space: the log is full (``full_policy="reject"``) and nothing can be reclaimed, or a
    KV write does not fit even after compaction."""

    code = 1
    code_name = "FULL"


class CorruptError(Error):
    """Data on the medium failed validation; ``addr`` is the byte address of the damaged frame,
    slot or header."""

    code = 2
    code_name = "CORRUPT"
    _fields = ("addr",)
    addr: int


class OffsetError(Error, IndexError):
    """Base of the errors about an offset that holds no readable record."""


class OutOfRangeError(OffsetError):
    """The offset is past the end (or negative): readable offsets are ``first..next``."""

    code = 3
    code_name = "OUT_OF_RANGE"
    _fields = ("first", "next")
    first: int
    next: int


class OverwrittenError(OffsetError):
    """The records were dropped (trimmed, or overwritten by wraparound); reading can resume at
    ``first_available``."""

    code = 4
    code_name = "OVERWRITTEN"
    _fields = ("first_available",)
    first_available: int


class TooLargeError(Error, ValueError):
    """A record, batch, key or value is larger than the log or KV accepts: ``len`` bytes
    asked for, ``max`` accepted."""

    code = 5
    code_name = "TOO_LARGE"
    _fields = ("len", "max")
    len: int
    max: int


class BufferTooSmallError(Error):
    """A caller's buffer is too small (``needed`` bytes); the Python API sizes its own buffers,
    so it reports this only from a future API that takes one."""

    code = 6
    code_name = "BUFFER_TOO_SMALL"
    _fields = ("needed",)
    needed: int


class UnsupportedVersionError(Error):
    """The image is of a newer format version (``found``) than this build reads."""

    code = 7
    code_name = "UNSUPPORTED_VERSION"
    _fields = ("found",)
    found: int


class NotFormattedError(Error):
    """The file or bytes hold no tidelog image."""

    code = 8
    code_name = "NOT_FORMATTED"


class GeometryMismatchError(Error):
    """The image's geometry does not match the storage (e.g. a truncated image), or its
    headers disagree."""

    code = 9
    code_name = "GEOMETRY_MISMATCH"


class InvalidConfigError(Error, ValueError):
    """The configuration or geometry cannot hold a log or KV; the message says which rule."""

    code = 10
    code_name = "INVALID_CONFIG"


class InvalidArgumentError(Error, ValueError):
    """An argument breaks a rule; the message says which."""

    code = 11
    code_name = "INVALID_ARGUMENT"


class InvalidNameError(Error, ValueError):
    """A consumer, stream or group name is invalid (consumers: UTF-8, 1..32 bytes)."""

    code = 12
    code_name = "INVALID_NAME"


class NoSuchConsumerError(Error, LookupError):
    """No consumer of that name exists."""

    code = 13
    code_name = "NO_SUCH_CONSUMER"


class TooManyConsumersError(Error):
    """The consumer table is full (16 consumers)."""

    code = 14
    code_name = "TOO_MANY_CONSUMERS"


class LockedError(Error):
    """Another writer (in this process or another) holds the file; ``path`` names it.
    ``read_only=True`` opens beside a writer."""

    code = 15
    code_name = "LOCKED"


class NeedsRemountError(Error):
    """An earlier write failed part-way: reads work, writes are refused until the log is opened
    again."""

    code = 16
    code_name = "NEEDS_REMOUNT"


class NotFoundError(_OSErrorMixin, FileNotFoundError):
    """A file, stream or group does not exist (``errno`` is ``ENOENT``)."""

    code = 17
    code_name = "NOT_FOUND"
    _default_errno = _errno.ENOENT


class AlreadyExistsError(_OSErrorMixin, FileExistsError):
    """A file, stream or group that should be new exists already (``errno`` is ``EEXIST``)."""

    code = 18
    code_name = "ALREADY_EXISTS"
    _default_errno = _errno.EEXIST


class ClosedError(Error, ValueError):
    """The log, KV or directory was closed."""

    code = 19
    code_name = "CLOSED"


class StorageError(Error):
    """Base of the errors the storage reported (codes 32 to 63)."""


class StorageOutOfBoundsError(StorageError):
    """A storage address lies outside the storage."""

    code = 32
    code_name = "STORAGE_OUT_OF_BOUNDS"


class StorageNotAlignedError(StorageError):
    """A storage operation was not aligned to the geometry."""

    code = 33
    code_name = "STORAGE_NOT_ALIGNED"


class StorageWriteTwiceError(StorageError):
    """A write unit was programmed twice without an erase (flash simulator only)."""

    code = 34
    code_name = "STORAGE_WRITE_TWICE"


class StoragePowerLossError(StorageError):
    """Simulated power loss (flash simulator only)."""

    code = 35
    code_name = "STORAGE_POWER_LOSS"


class StorageDeviceError(_OSErrorMixin, StorageError):
    """The device (for files: the OS) reported an error; ``errno`` is the OS error number (0
    when there is none)."""

    code = 36
    code_name = "STORAGE_DEVICE"


class StorageReadOnlyError(StorageError):
    """A write on a log or KV opened read-only (or an image)."""

    code = 37
    code_name = "STORAGE_READ_ONLY"


_BY_CODE: Dict[int, Type[Error]] = {
    cls.code: cls
    for cls in (
        FullError,
        CorruptError,
        OutOfRangeError,
        OverwrittenError,
        TooLargeError,
        BufferTooSmallError,
        UnsupportedVersionError,
        NotFormattedError,
        GeometryMismatchError,
        InvalidConfigError,
        InvalidArgumentError,
        InvalidNameError,
        NoSuchConsumerError,
        TooManyConsumersError,
        LockedError,
        NeedsRemountError,
        NotFoundError,
        AlreadyExistsError,
        ClosedError,
        StorageOutOfBoundsError,
        StorageNotAlignedError,
        StorageWriteTwiceError,
        StoragePowerLossError,
        StorageDeviceError,
        StorageReadOnlyError,
    )
}


def error_class(code: int) -> Optional[Type[Error]]:
    """The exception class of a core error code, or None for a number the core does not use."""
    return _BY_CODE.get(code)


def _from_core(
    code: int, message: str, path: Optional[str], details: Dict[str, int]
) -> Error:
    """Called by the native module: the exception for a core error."""
    cls = _BY_CODE.get(code)
    if cls is None:
        # A code this package does not know (a newer core): still a tidelog error.
        return Error(f"{message} (error code {code})", path=path)
    known = {k: v for k, v in details.items() if k in cls._fields or k == "errno"}
    if not issubclass(cls, _OSErrorMixin):
        known.pop("errno", None)
    return cls(message, path=path, **known)
