"""The ``tidelog`` command: inspect a log or KV file, or a raw flash dump.

    tidelog stats FILE           size, geometry, consumers, what recovery found
    tidelog dump FILE            records (--from/--to, --format auto|hex|text|raw)
    tidelog verify FILE          reads every record; exit status 1 on damage
    tidelog tail FILE [-f]       the last records; -f follows a growing log
    tidelog consumers FILE       committed positions and how far behind they are
    tidelog kv FILE [KEY]        a KV file's entries, or one value

FILE is a path (a file log, a KV file or a flash dump: the geometry is read from the image),
or ``-`` for an image on standard input. Files are opened read-only: nothing is ever
written, and a writer may be running. ``--json`` prints machine-readable output (one JSON
object; ``dump`` and ``tail`` print one object per record, JSON Lines).

Exit status: 0 success, 1 damage found (``verify``, or a damaged record met by ``dump`` /
``tail``) or a missing key (``kv``), 2 an error (unreadable file, bad arguments).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import IO, Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from . import _errors
from ._kv import KV, open_kv_image
from ._tidelog import Log, __version__, open_image, probe_image

__all__ = ["main"]

#: Records between two progress-bar updates (`verify`).
_PROGRESS_STEP = 4096


class _Fail(Exception):
    """Ends the command with a message and an exit status."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


# Opening.


def _stdin_bytes() -> bytes:
    return sys.stdin.buffer.read()


def _open_log(src: str) -> Log:
    if src == "-":
        return open_image(_stdin_bytes())
    return Log.open(src, read_only=True)


def _open_kv(src: str) -> KV:
    if src == "-":
        return open_kv_image(_stdin_bytes())
    return KV.open(src, read_only=True)


def _open_any(src: str) -> Union[Log, KV]:
    """A log or, when the image holds none, a KV."""
    if src == "-":
        data = _stdin_bytes()
        if probe_image(data).kind == "kv":
            return open_kv_image(data)
        return open_image(data)
    try:
        return Log.open(src, read_only=True)
    except _errors.NotFormattedError:
        return KV.open(src, read_only=True)


# Formatting.

# Control characters, the backslash and bytes that are not UTF-8 (decoded as surrogates by
# "surrogateescape") are written as escapes.
_ESCAPES = {c: f"\\x{c:02x}" for c in [*range(32), 0x7F]}
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", ord("\\"): "\\\\"})
_ESCAPES.update({0xDC00 + b: f"\\x{b:02x}" for b in range(0x80, 0x100)})


def _text(data: bytes) -> str:
    """The bytes as text: UTF-8, with control characters and invalid bytes escaped."""
    return data.decode("utf-8", "surrogateescape").translate(_ESCAPES)


def _is_text(data: bytes) -> bool:
    try:
        s = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\t" for c in s)


def _render(data: bytes, fmt: str) -> str:
    if fmt == "hex" or (fmt == "auto" and not _is_text(data)):
        return data.hex() if data else "-"
    return _text(data)


def _fields(obj: object, names: Sequence[str]) -> Dict[str, Any]:
    return {n: getattr(obj, n) for n in names}


_STATS = (
    "first_offset",
    "next_offset",
    "bytes_used",
    "bytes_free",
    "segments_used",
    "segments_total",
    "segment_size",
    "max_record_size",
)
_LAYOUT = (
    "write_size",
    "erase_size",
    "segment_size",
    "segment_count",
    "index_interval",
    "max_record_size",
    "max_consumers",
)
_RECOVERY = (
    "is_clean",
    "stale_segments",
    "torn_tail",
    "damaged_segments",
    "state_fallback",
    "unreadable_after_tail",
)
_KV_STATS = (
    "generation",
    "active_partition",
    "partition_size",
    "used_bytes",
    "high_water_mark",
    "live_keys",
    "max_key_len",
    "max_value_len",
    "max_batch_body",
)


def _json_out(obj: object, out: IO[str]) -> None:
    out.write(json.dumps(obj) + "\n")


def _table(rows: Sequence[Tuple[str, str]], out: IO[str]) -> None:
    width = max((len(k) for k, _ in rows), default=0)
    for k, v in rows:
        out.write(f"{k.ljust(width)}  {v}\n")


def _recovery_words(log: Log) -> str:
    r = log.recovery()
    if r.is_clean:
        return "clean"
    words = []
    if r.torn_tail:
        words.append("torn tail (a write cut by a crash; the records before it are intact)")
    if r.stale_segments:
        words.append(f"{r.stale_segments} stale segment(s) of a cut-short truncation")
    if r.damaged_segments:
        words.append(f"{r.damaged_segments} damaged segment header(s)")
    if r.state_fallback:
        words.append("damaged state frame (an older consumer position or trim point stands in)")
    if r.unreadable_after_tail:
        words.append("unreadable header after the active segment")
    return "; ".join(words)


# Commands.


def _cmd_stats(args: argparse.Namespace, out: IO[str]) -> int:
    store = _open_any(args.file)
    with store:
        if isinstance(store, KV):
            st = store.stats()
            if args.json:
                _json_out(
                    {
                        "kind": "kv",
                        "path": store.path,
                        "stats": _fields(st, _KV_STATS),
                        "high_water_mark_triggered": store.high_water_mark_triggered,
                    },
                    out,
                )
                return 0
            _table(
                [
                    ("file", store.path or "<stdin>"),
                    ("kind", "KV journal"),
                    ("keys", str(st.live_keys)),
                    (
                        "used",
                        f"{st.used_bytes} of {st.partition_size} B in partition "
                        f"{st.active_partition} (generation {st.generation})",
                    ),
                    (
                        "high-water mark",
                        f"{st.high_water_mark} B"
                        + (" (triggered)" if store.high_water_mark_triggered else ""),
                    ),
                    ("limits", f"keys up to {st.max_key_len} B, values up to {st.max_value_len} B"),
                ],
                out,
            )
            return 0
        log = store
        st, lay, consumers = log.stats(), log.layout(), log.consumers()
        if args.json:
            _json_out(
                {
                    "kind": "log",
                    "path": log.path,
                    "records": st.next_offset - st.first_offset,
                    "stats": _fields(st, _STATS),
                    "layout": _fields(lay, _LAYOUT),
                    "recovery": _fields(log.recovery(), _RECOVERY),
                    "consumers": consumers,
                },
                out,
            )
            return 0
        _table(
            [
                ("file", log.path or "<stdin>"),
                ("kind", "log"),
                (
                    "records",
                    f"{st.next_offset - st.first_offset} (offsets {st.first_offset}..{st.next_offset})",
                ),
                ("bytes used", str(st.bytes_used)),
                ("bytes free", str(st.bytes_free)),
                (
                    "segments",
                    f"{st.segments_used} of {st.segments_total} in use, {st.segment_size} B each",
                ),
                ("max record", f"{st.max_record_size} B"),
                (
                    "geometry",
                    f"write unit {lay.write_size} B, erase sector {lay.erase_size} B, "
                    f"index every {lay.index_interval} B",
                ),
                (
                    "consumers",
                    ", ".join(f"{n}={o}" for n, o in consumers.items()) if consumers else "none",
                ),
                ("recovery", _recovery_words(log)),
            ],
            out,
        )
        return 0


def _offset_arg(value: Optional[int], default: int) -> int:
    return default if value is None else value


def _records(log: Log, start: int, stop: Optional[int]) -> Iterator[Tuple[int, bytes]]:
    """The records from `start` to `stop`; a damaged one ends the command with status 1."""
    try:
        yield from log.iter(start=start, stop=stop)
    except _errors.CorruptError as e:
        raise _Fail(f"damaged record: {e} (run `tidelog verify` for every damaged position)", 1)


def _print_record(offset: int, data: bytes, args: argparse.Namespace, out: IO[str]) -> None:
    if args.json:
        _json_out({"offset": offset, "len": len(data), "hex": data.hex()}, out)
    elif args.format == "raw":
        out.flush()
        sys.stdout.buffer.write(data)
    else:
        out.write(f"{offset}\t{len(data)}\t{_render(data, args.format)}\n")


def _cmd_dump(args: argparse.Namespace, out: IO[str]) -> int:
    with _open_log(args.file) as log:
        start = _offset_arg(args.start, log.first_offset)
        for offset, data in _records(log, start, args.stop):
            _print_record(offset, data, args, out)
    return 0


def _cmd_verify(args: argparse.Namespace, out: IO[str]) -> int:
    from tqdm import tqdm

    with _open_log(args.file) as log:
        first, end = log.first_offset, log.next_offset
        damaged: List[Dict[str, Any]] = []
        checked = 0
        bar = tqdm(
            total=end - first,
            unit="rec",
            unit_scale=True,
            file=sys.stderr,
            disable=args.quiet or not sys.stderr.isatty(),
            desc="verify",
        )
        it = log.iter(start=first, stop=end)
        pending = 0
        while True:
            try:
                for _ in it:
                    checked += 1
                    pending += 1
                    if pending >= _PROGRESS_STEP:
                        bar.update(pending)
                        pending = 0
                break
            except _errors.CorruptError as e:
                at = it.offset
                last = damaged[-1] if damaged else None
                if last is not None and last["last"] + 1 == at and last["addr"] == e.addr:
                    last["last"] = at
                else:
                    damaged.append({"first": at, "last": at, "addr": e.addr, "error": str(e)})
                checked += 1
                pending += 1
                it.seek(at + 1)
        bar.update(pending)
        bar.close()
        recovery = log.recovery()
        ok = not damaged and recovery.damaged_segments == 0
        if args.json:
            _json_out(
                {
                    "ok": ok,
                    "first_offset": first,
                    "next_offset": end,
                    "records_checked": checked,
                    "records_damaged": sum(d["last"] - d["first"] + 1 for d in damaged),
                    "damaged": damaged,
                    "recovery": _fields(recovery, _RECOVERY),
                },
                out,
            )
        else:
            where = log.path or "<stdin>"
            for d in damaged:
                span = (
                    f"offset {d['first']}"
                    if d["first"] == d["last"]
                    else f"offsets {d['first']}..{d['last']}"
                )
                out.write(f"DAMAGED {span}: {d['error']}\n")
            out.write(f"recovery: {_recovery_words(log)}\n")
            bad = sum(d["last"] - d["first"] + 1 for d in damaged)
            verdict = "OK" if ok else "DAMAGED"
            out.write(
                f"{where}: {verdict}: {checked - bad} of {checked} records readable "
                f"(offsets {first}..{end})\n"
            )
        return 0 if ok else 1


def _cmd_tail(args: argparse.Namespace, out: IO[str]) -> int:
    if args.follow and args.file == "-":
        raise _Fail("tail -f follows a file, not standard input")
    with _open_log(args.file) as log:
        pos = max(log.first_offset, log.next_offset - args.lines)
        while True:
            if pos < log.first_offset:  # trimmed (or overwritten) past us meanwhile
                pos = log.first_offset
            if pos > log.next_offset:  # truncated behind us
                pos = log.next_offset
            for offset, data in _records(log, pos, None):
                _print_record(offset, data, args, out)
                pos = offset + 1
            out.flush()
            if not args.follow:
                return 0
            time.sleep(args.interval)
            log.refresh()


def _cmd_consumers(args: argparse.Namespace, out: IO[str]) -> int:
    with _open_log(args.file) as log:
        first, end = log.first_offset, log.next_offset
        rows = []
        for name, committed in log.consumers().items():
            rows.append(
                {
                    "name": name,
                    "committed": committed,
                    "lag": max(0, end - committed),
                    "overwritten": committed < first,
                }
            )
        if args.json:
            _json_out({"first_offset": first, "next_offset": end, "consumers": rows}, out)
            return 0
        if not rows:
            out.write("no consumers\n")
            return 0
        width = max(len("NAME"), *(len(r["name"]) for r in rows))
        out.write(f"{'NAME'.ljust(width)}  {'COMMITTED':>10}  {'LAG':>10}\n")
        for r in rows:
            note = "  (records dropped before it was read)" if r["overwritten"] else ""
            out.write(f"{r['name'].ljust(width)}  {r['committed']:>10}  {r['lag']:>10}{note}\n")
        return 0


def _cmd_kv(args: argparse.Namespace, out: IO[str]) -> int:
    with _open_kv(args.file) as kv:
        if args.key is not None:
            key = bytes.fromhex(args.key) if args.hex_key else os.fsencode(args.key)
            value = kv.get(key)
            if value is None:
                raise _Fail(f"no key {args.key!r}", 1)
            if args.json:
                _json_out({"key_hex": key.hex(), "value_hex": value.hex()}, out)
            elif args.format == "raw":
                out.flush()
                sys.stdout.buffer.write(value)
            else:
                out.write(_render(value, args.format) + "\n")
            return 0
        if args.json:
            _json_out(
                {
                    "stats": _fields(kv.stats(), _KV_STATS),
                    "entries": [{"key_hex": k.hex(), "value_hex": v.hex()} for k, v in kv.items()],
                },
                out,
            )
            return 0
        fmt = "auto" if args.format == "raw" else args.format
        for k, v in kv.items():
            out.write(f"{_render(k, fmt)}\t{_render(v, fmt)}\n")
        return 0


# The parser.


def _offset(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an offset: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"offsets are not negative: {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tidelog",
        description="Inspect a tidelog log or KV file, or a raw flash dump (read-only).",
        epilog="FILE may be '-' for an image on standard input. Exit status: 0 ok, "
        "1 damage found or key missing, 2 error.",
    )
    p.add_argument("--version", action="version", version=f"tidelog {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help, description=help)
        c.add_argument("file", metavar="FILE", help="log file, KV file or flash dump ('-': stdin)")
        c.add_argument("--json", action="store_true", help="machine-readable output")
        return c

    command("stats", "size, geometry, consumers and what recovery found")

    formats = ["auto", "hex", "text", "raw"]
    dump = command("dump", "print records")
    dump.add_argument("--from", dest="start", type=_offset, metavar="OFFSET", help="first offset (default: the first)")
    dump.add_argument("--to", dest="stop", type=_offset, metavar="OFFSET", help="stop before this offset (default: the end)")
    dump.add_argument(
        "--format",
        choices=formats,
        default="auto",
        help="auto: text when printable UTF-8, else hex (default); raw: the bytes, back to back",
    )

    verify = command("verify", "read every record; exit status 1 on damage")
    verify.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    tail = command("tail", "print the last records; -f follows a growing log")
    tail.add_argument("-n", "--lines", type=_offset, default=10, metavar="N", help="records to print first (default 10)")
    tail.add_argument("-f", "--follow", action="store_true", help="keep printing records as they are appended")
    tail.add_argument("--interval", type=_positive_float, default=0.5, metavar="SECONDS", help="how often -f looks (default 0.5)")
    tail.add_argument("--format", choices=formats, default="auto")

    command("consumers", "committed positions of the consumers and their lag")

    kv = command("kv", "a KV file's entries in key order, or the value of KEY")
    kv.add_argument("key", nargs="?", metavar="KEY", help="print only this key's value")
    kv.add_argument("--hex-key", action="store_true", help="KEY is given in hex")
    kv.add_argument("--format", choices=formats, default="auto")
    return p


_COMMANDS = {
    "stats": _cmd_stats,
    "dump": _cmd_dump,
    "verify": _cmd_verify,
    "tail": _cmd_tail,
    "consumers": _cmd_consumers,
    "kv": _cmd_kv,
}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the command; returns the exit status."""
    args = _parser().parse_args(argv)
    out = sys.stdout
    try:
        return _COMMANDS[args.command](args, out)
    except _Fail as e:
        sys.stderr.write(f"tidelog: {e}\n")
        return e.status
    except BrokenPipeError:
        # The reader went away (`tidelog dump x | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (_errors.Error, OSError) as e:
        sys.stderr.write(f"tidelog: {e}\n")
        return 2
    except KeyboardInterrupt:
        return 130
