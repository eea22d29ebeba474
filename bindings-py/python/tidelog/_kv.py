"""``tidelog.KV``: the crash-safe key-value journal as a ``MutableMapping[bytes, bytes]``."""

from __future__ import annotations

import os
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, MutableMapping, ValuesView
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Optional, Tuple, Type, TypeVar, Union, overload

from ._tidelog import KVHandle, KVStats

if TYPE_CHECKING:
    from typing_extensions import Buffer, Self
else:  # the names are only used in annotations
    Buffer = bytes
    Self = Any

__all__ = ["KV", "open_kv_image"]

StrPath = Union[str, "os.PathLike[str]"]
Durability = Literal["every_write", "explicit"]
_T = TypeVar("_T")

_MISSING: Any = object()


class KV(MutableMapping[bytes, bytes]):
    """A key-value map journaled in a file (or a read-only image), as a
    ``MutableMapping[bytes, bytes]``.

    Keys iterate in ascending byte order. Every write is crash-safe; ``update()``,
    ``set_multiple()``, ``apply()`` and ``clear()`` are atomic (after a crash all of it or
    none). Keys and values are bytes (any bytes-like object is accepted); the limits
    (``max_key_len``, ``max_value_len``) are fixed when the file is created.

    When the journal passes its high-water mark, the live map is compacted into the other half
    of the file; ``high_water_mark_triggered`` stays True when even the compacted map is over
    the mark, and writes that do not fit raise :class:`tidelog.FullError`.

    Open with :meth:`create`, :meth:`open` or :func:`tidelog.open_kv_image`; close with
    :meth:`close` or a ``with`` block.
    """

    __slots__ = ("_kv",)

    def __init__(self, handle: KVHandle) -> None:
        """Wraps a native handle; use :meth:`create`, :meth:`open` or
        :func:`open_kv_image`."""
        if not isinstance(handle, KVHandle):
            raise TypeError("use KV.create(), KV.open() or tidelog.open_kv_image()")
        self._kv = handle

    @classmethod
    def create(
        cls,
        path: StrPath,
        capacity: int,
        *,
        max_key_len: int = 255,
        max_value_len: Optional[int] = None,
        high_water_percent: int = 75,
        durability: Durability = "every_write",
        write_size: int = 4,
        erase_size: int = 4096,
    ) -> KV:
        """Creates a new KV file of ``capacity`` bytes (it must not exist); each half holds one
        copy of the map. ``max_value_len=None`` allows the largest value a half can hold.
        ``durability="every_write"`` syncs every write before it returns; ``"explicit"``
        leaves that to :meth:`sync` (a process crash loses nothing either way)."""
        return cls(
            KVHandle.create(
                path,
                capacity,
                max_key_len=max_key_len,
                max_value_len=max_value_len,
                high_water_percent=high_water_percent,
                durability=durability,
                write_size=write_size,
                erase_size=erase_size,
            )
        )

    @classmethod
    def open(
        cls,
        path: StrPath,
        *,
        durability: Durability = "every_write",
        high_water_percent: int = 75,
        read_only: bool = False,
    ) -> KV:
        """Opens an existing KV file (or a KV partition dump: the geometry comes from the
        image). A second writer gets :class:`tidelog.LockedError`; ``read_only=True`` takes no
        lock and never writes."""
        return cls(
            KVHandle.open(
                path,
                durability=durability,
                high_water_percent=high_water_percent,
                read_only=read_only,
            )
        )

    # The mapping.

    def __getitem__(self, key: Buffer) -> bytes:
        value = self._kv.get(key)
        if value is None:
            raise KeyError(key)
        return value

    @overload
    def get(self, key: Buffer) -> Optional[bytes]: ...
    @overload
    def get(self, key: Buffer, default: Union[bytes, _T]) -> Union[bytes, _T]: ...
    def get(self, key: Buffer, default: Any = None) -> Any:
        value = self._kv.get(key)
        return default if value is None else value

    def __setitem__(self, key: Buffer, value: Buffer) -> None:
        self._kv.set(key, value)

    def __delitem__(self, key: Buffer) -> None:
        if not self._kv.delete(key):
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        try:
            return self._kv.contains(key)  # type: ignore[arg-type]
        except TypeError:
            return False

    def __iter__(self) -> Iterator[bytes]:
        return self._kv.iterate("keys")  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._kv)

    def keys(self) -> KeysView[bytes]:
        return KeysView(self)

    def items(self) -> ItemsView[bytes, bytes]:
        return _Items(self)

    def values(self) -> ValuesView[bytes]:
        return _Values(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]

    # Atomic batches.

    def update(self, other: Any = (), /, **kwargs: bytes) -> None:
        """Sets every pair of ``other`` (a mapping or an iterable of ``(key, value)`` pairs)
        **atomically**: one frame, so after a crash all of them are set or none. Keyword
        arguments are not accepted (keys are bytes)."""
        if kwargs:
            raise TypeError("KV keys are bytes: pass a mapping or (key, value) pairs, not keywords")
        if isinstance(other, Mapping):
            pairs: Iterable[Tuple[Buffer, Buffer]] = list(other.items())
        elif hasattr(other, "keys"):
            pairs = [(k, other[k]) for k in other.keys()]
        else:
            pairs = other
        self._kv.set_multiple(pairs)

    def set_multiple(self, pairs: Iterable[Tuple[Buffer, Buffer]]) -> None:
        """Sets every ``(key, value)`` pair atomically (later pairs win over earlier ones)."""
        self._kv.set_multiple(pairs)

    def apply(
        self,
        *,
        set: Union[Mapping[bytes, Buffer], Iterable[Tuple[Buffer, Buffer]]] = (),
        delete: Iterable[Buffer] = (),
    ) -> None:
        """Sets ``set`` and deletes ``delete`` atomically, in one frame (sets first)."""
        pairs = list(set.items()) if isinstance(set, Mapping) else set
        self._kv.apply(pairs, delete)

    def clear(self) -> None:
        """Removes every key, atomically and crash-safely."""
        self._kv.clear()

    # Journal management.

    def compact(self) -> None:
        """Writes the live map compactly into the other half now."""
        self._kv.compact()

    @property
    def high_water_mark_triggered(self) -> bool:
        """True while the journal is over its high-water mark (even after compaction)."""
        return self._kv.high_water_mark_triggered

    def stats(self) -> KVStats:
        """Size and state: generation, used bytes, the mark, live keys, limits."""
        return self._kv.stats()

    def sync(self) -> None:
        """Durability barrier: every write before it survives power loss once it returns."""
        self._kv.sync()

    def close(self) -> None:
        """Syncs (a writer) and closes the file, releasing its lock; later calls raise
        :class:`tidelog.ClosedError`."""
        self._kv.close()

    @property
    def closed(self) -> bool:
        return self._kv.closed

    @property
    def path(self) -> Optional[str]:
        """The file's path (None for an image in memory)."""
        p = self._kv.path
        return None if p is None else str(p)

    @property
    def read_only(self) -> bool:
        return self._kv.read_only

    @property
    def durability(self) -> Durability:
        return self._kv.durability  # type: ignore[return-value]

    def __enter__(self) -> KV:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if not self.closed:
            self.close()

    def __repr__(self) -> str:
        where = repr(self.path) if self.path is not None else "<image>"
        if self.closed:
            return f"<tidelog.KV {where} closed>"
        return f"<tidelog.KV {where} keys={len(self)}>"


class _Items(ItemsView[bytes, bytes]):
    _mapping: KV

    def __iter__(self) -> Iterator[Tuple[bytes, bytes]]:
        return self._mapping._kv.iterate("items")  # type: ignore[return-value]


class _Values(ValuesView[bytes]):
    _mapping: KV

    def __iter__(self) -> Iterator[bytes]:
        return self._mapping._kv.iterate("values")  # type: ignore[return-value]


def open_kv_image(src: Union[StrPath, Buffer]) -> KV:
    """A read-only KV over a raw image (a KV partition dump, or any bytes holding a tidelog KV),
    given as a path or a bytes-like object. The geometry is read from the image; the image is
    never modified."""
    return KV(KVHandle.open_image(src))
