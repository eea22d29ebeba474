"""Type stubs of the native module ``tidelog._tidelog`` (written by hand; see
``bindings-py/src/``)."""

import os
import sys
from types import TracebackType
from typing import Any, Dict, Iterable, Iterator, List, Literal, Optional, Tuple, Type, Union, final

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:
    from typing_extensions import Buffer

StrPath = Union[str, "os.PathLike[str]"]
Durability = Literal["every_write", "explicit"]
FullPolicy = Literal["reject", "overwrite_oldest"]

__version__: str
FORMAT_VERSION: int
KV_FORMAT_VERSION: int
MAX_CONSUMER_NAME: int
MAX_CONSUMERS: int
ERROR_CODES: List[Tuple[int, str, str]]

@final
class Stats:
    """A snapshot of a log's size and position."""

    @property
    def first_offset(self) -> int: ...
    @property
    def next_offset(self) -> int: ...
    @property
    def bytes_used(self) -> int: ...
    @property
    def bytes_free(self) -> int: ...
    @property
    def segments_used(self) -> int: ...
    @property
    def segments_total(self) -> int: ...
    @property
    def segment_size(self) -> int: ...
    @property
    def max_record_size(self) -> int: ...

@final
class Layout:
    """The geometry stored in a log image."""

    @property
    def write_size(self) -> int: ...
    @property
    def erase_size(self) -> int: ...
    @property
    def segment_size(self) -> int: ...
    @property
    def segment_count(self) -> int: ...
    @property
    def index_interval(self) -> int: ...
    @property
    def max_record_size(self) -> int: ...
    @property
    def max_consumers(self) -> int: ...

@final
class RecoveryReport:
    """What mount repaired or worked around."""

    @property
    def stale_segments(self) -> int: ...
    @property
    def torn_tail(self) -> bool: ...
    @property
    def damaged_segments(self) -> int: ...
    @property
    def state_fallback(self) -> bool: ...
    @property
    def unreadable_after_tail(self) -> bool: ...
    @property
    def is_clean(self) -> bool: ...

@final
class KVStats:
    """Size and state of a KV."""

    @property
    def generation(self) -> int: ...
    @property
    def active_partition(self) -> int: ...
    @property
    def partition_size(self) -> int: ...
    @property
    def used_bytes(self) -> int: ...
    @property
    def high_water_mark(self) -> int: ...
    @property
    def live_keys(self) -> int: ...
    @property
    def max_key_len(self) -> int: ...
    @property
    def max_value_len(self) -> int: ...
    @property
    def max_batch_body(self) -> int: ...

@final
class ImageInfo:
    """What an image holds and the geometry to mount it with."""

    @property
    def kind(self) -> Literal["log", "kv"]: ...
    @property
    def write_size(self) -> int: ...
    @property
    def erase_size(self) -> int: ...
    @property
    def capacity(self) -> int: ...

@final
class LogIterator(Iterator[Tuple[int, bytes]]):
    """Iterates ``(offset, record)`` lazily, in bounded memory."""

    def __iter__(self) -> "LogIterator": ...
    def __next__(self) -> Tuple[int, bytes]: ...
    @property
    def offset(self) -> int:
        """The offset of the record the next step returns."""
    def seek(self, offset: int) -> None:
        """Moves the iterator to ``offset`` (e.g. past a record that raised CorruptError)."""

@final
class Consumer:
    """A named consumer cursor: deliver, then commit; after a crash, iterate again."""

    @property
    def name(self) -> str: ...
    @property
    def log(self) -> "Log": ...
    @property
    def committed(self) -> Optional[int]:
        """The committed offset, or None if it never committed."""
    @property
    def position(self) -> int:
        """Where reading resumes: the committed offset, or the log's first offset."""
    def commit(self, offset: int) -> None:
        """Persists ``offset``: records below it are done. It may not move backwards."""
    def rewind(self, offset: int) -> None:
        """Moves the position to ``offset``, backwards allowed."""
    def remove(self) -> None:
        """Deletes the consumer from the log."""
    def __iter__(self) -> LogIterator: ...
    def iter(self, stop: Optional[int] = None) -> LogIterator:
        """Iterates ``(offset, record)`` from the position to ``stop`` (exclusive)."""

@final
class Log:
    """A crash-safe append-only log in a file (or a read-only image in memory).

    One ``Log`` may be shared by threads; every call releases the GIL around its I/O. With
    ``durability="every_write"`` each write is durable when it returns, and concurrent durable
    writes from several threads share one ``fdatasync`` (group commit); with ``"explicit"``,
    writes survive a process crash when they return and power loss after :meth:`sync`.
    """

    @staticmethod
    def create(
        path: StrPath,
        capacity: int,
        *,
        segment_size: Optional[int] = None,
        index_interval: Optional[int] = None,
        max_record_size: Optional[int] = None,
        full_policy: FullPolicy = "reject",
        durability: Durability = "every_write",
        write_size: Optional[int] = None,
        erase_size: Optional[int] = None,
    ) -> "Log":
        """Creates a new log file of ``capacity`` bytes (it must not exist), writing it once.

        ``segment_size``: bytes per segment, a multiple of ``erase_size`` (default: about 64
        segments, capacity / 64 rounded down to whole erase sectors, at least one); the largest
        record is one segment less its header and index unless ``max_record_size`` says less.
        ``index_interval``: bytes of frames between index entries (default 1024).
        ``full_policy``: ``"reject"`` keeps every record (``FullError`` when full) or
        ``"overwrite_oldest"`` (a ring buffer). ``write_size`` (default 4) and ``erase_size``
        (default 4096) give the image the geometry of a flash device.
        """
    @staticmethod
    def open(
        path: StrPath,
        *,
        durability: Durability = "every_write",
        full_policy: FullPolicy = "reject",
        read_only: bool = False,
    ) -> "Log":
        """Opens a log file or a raw flash dump (geometry from the image), recovering from any
        crash. A second writer gets ``LockedError``; ``read_only=True`` takes no lock, never
        writes and sees the log as it was when opened (see :meth:`refresh`)."""
    def append(self, data: Buffer) -> int:
        """Appends one record (any bytes-like object, no copy in Python); returns its offset."""
    def append_batch(self, records: Iterable[Buffer]) -> int:
        """Appends ``records`` atomically, as one frame (all or none after a crash); returns
        the first offset. The batch is bounded by the maximum record size (``TooLargeError``)."""
    def extend(self, records: Iterable[Buffer]) -> int:
        """Appends any number of records, fast, packed into as many frames as needed; returns
        the first offset (the next offset for an empty iterable). Each frame is atomic, the
        whole is **not**: after a crash or an error (``FullError``, a record of a later chunk
        that is not bytes-like) the log holds a prefix of the records, and
        :attr:`next_offset` tells how many went in."""
    def read(self, offset: int) -> bytes:
        """The record at ``offset`` (``OutOfRangeError`` past the end or for a negative offset,
        ``OverwrittenError`` below the first offset, ``CorruptError`` where damaged)."""
    def __getitem__(self, offset: int) -> bytes: ...
    def record_len(self, offset: int) -> int:
        """The length of the record at ``offset``."""
    def __len__(self) -> int:
        """Live records: ``next_offset - first_offset``."""
    @property
    def first_offset(self) -> int:
        """The first readable offset."""
    @property
    def next_offset(self) -> int:
        """The offset the next appended record gets."""
    def __iter__(self) -> LogIterator: ...
    def iter(self, start: Optional[int] = None, stop: Optional[int] = None) -> LogIterator:
        """Iterates ``(offset, record)`` from ``start`` (default: the first offset) to ``stop``
        (exclusive; default: the end), lazily and in bounded memory."""
    def trim_front(self, offset: int) -> None:
        """Drops every record below ``offset``; space is reclaimed segment by segment."""
    def truncate_back(self, length: int) -> None:
        """Drops every record at and above ``length`` (offsets from there are reused)."""
    def sync(self) -> None:
        """Durability barrier: everything written before it survives power loss."""
    def stats(self) -> Stats: ...
    def layout(self) -> Layout: ...
    def recovery(self) -> RecoveryReport: ...
    def refresh(self) -> None:
        """For ``read_only=True``: mounts the file again to see what its writer did since."""
    def close(self) -> None:
        """Syncs a writer and closes; every later call raises ``ClosedError``."""
    @property
    def closed(self) -> bool: ...
    @property
    def path(self) -> Optional[str]:
        """The file's path (None for an image in memory)."""
    @property
    def read_only(self) -> bool: ...
    @property
    def durability(self) -> Durability: ...
    @property
    def full_policy(self) -> FullPolicy: ...
    def __enter__(self) -> "Log": ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...
    def consumer(self, name: str) -> Consumer:
        """A handle on consumer ``name`` (UTF-8, 1..32 bytes); created on its first commit."""
    def consumers(self) -> Dict[str, int]:
        """Every consumer with its committed offset, in name order."""
    def committed(self, name: str) -> Optional[int]: ...
    def position(self, name: str) -> int: ...
    def commit(self, name: str, offset: int) -> None: ...
    def rewind(self, name: str, offset: int) -> None: ...
    def remove_consumer(self, name: str) -> None: ...

@final
class KVIterator(Iterator[Any]):
    def __iter__(self) -> "KVIterator": ...
    def __next__(self) -> Any: ...

@final
class KVHandle:
    """The native side of :class:`tidelog.KV`."""

    @staticmethod
    def create(
        path: StrPath,
        capacity: int,
        *,
        max_key_len: Optional[int] = None,
        max_value_len: Optional[int] = None,
        high_water_percent: Optional[int] = None,
        durability: Durability = "every_write",
        write_size: Optional[int] = None,
        erase_size: Optional[int] = None,
    ) -> "KVHandle": ...
    @staticmethod
    def open(
        path: StrPath,
        *,
        durability: Durability = "every_write",
        high_water_percent: Optional[int] = None,
        read_only: bool = False,
    ) -> "KVHandle": ...
    @staticmethod
    def open_image(src: Union[StrPath, Buffer]) -> "KVHandle": ...
    def get(self, key: Buffer) -> Optional[bytes]: ...
    def contains(self, key: Buffer) -> bool: ...
    def set(self, key: Buffer, value: Buffer) -> None: ...
    def delete(self, key: Buffer) -> bool: ...
    def set_multiple(self, pairs: Iterable[Tuple[Buffer, Buffer]]) -> None: ...
    def apply(self, sets: Iterable[Tuple[Buffer, Buffer]], deletes: Iterable[Buffer]) -> None: ...
    def compact(self) -> None: ...
    def clear(self) -> None: ...
    def sync(self) -> None: ...
    def stats(self) -> KVStats: ...
    def __len__(self) -> int: ...
    @property
    def high_water_mark_triggered(self) -> bool: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def path(self) -> Optional[str]: ...
    @property
    def read_only(self) -> bool: ...
    @property
    def durability(self) -> Durability: ...
    def iterate(self, what: Literal["keys", "values", "items"]) -> KVIterator: ...

@final
class LogDir:
    """Many named logs ("streams") under named groups in one directory."""

    def __init__(
        self,
        path: StrPath,
        *,
        durability: Durability = "every_write",
        initial_capacity: Optional[int] = None,
        max_capacity: Optional[int] = None,
        max_open_streams: Optional[int] = None,
    ) -> None: ...
    @property
    def path(self) -> str: ...
    def create_stream(self, group: str, stream: str, entries: Optional[Iterable[Buffer]] = None) -> None:
        """Creates ``stream`` in ``group`` holding ``entries``, atomically."""
    def append(self, stream: str, entry: Buffer) -> int:
        """Appends ``entry``; returns its index (from 0)."""
    def read_all(self, stream: str) -> List[bytes]: ...
    def entry_count(self, stream: str) -> int: ...
    def truncate(self, stream: str, n: int) -> None:
        """Keeps the first ``n`` entries (crash-safe)."""
    def lookup_group_of(self, stream: str) -> str: ...
    def exists(self, stream: str) -> bool: ...
    def __contains__(self, stream: str) -> bool: ...
    def list_groups(self) -> List[str]:
        """Every group, most recently created first."""
    def list_streams(self, group: str) -> List[str]:
        """The streams of ``group``, most recently created first."""
    def sync_all(self) -> None: ...
    def close_stream(self, stream: str) -> bool: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    def __enter__(self) -> "LogDir": ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

def open_image(src: Union[StrPath, Buffer]) -> Log:
    """A read-only log over a raw image (a flash dump, or any bytes holding a tidelog log),
    given as a path or a bytes-like object; the geometry is read from the image, which is
    never modified."""

def probe_image(src: Union[StrPath, Buffer]) -> ImageInfo:
    """What an image holds (``"log"`` or ``"kv"``) and its geometry."""
