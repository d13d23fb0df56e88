"""Bencode: the canonical byte form that every redun hash is computed over.

The encoding must stay byte-for-byte what redun has always produced (ints,
str/bytes, mappings with sorted keys, any other iterable as a list; bools,
floats and None rejected), or recorded cache entries stop matching.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from io import BytesIO
from typing import IO, Any

__all__ = ["bdecode", "bencode"]


def _encode(data: Any, out: Callable[[bytes], Any]) -> None:
    kind = type(data)
    # Exact-type checks first: they cover almost every call on the hot path.
    if kind is str:
        raw = data.encode()
        out(b"%d:" % len(raw))
        out(raw)
    elif kind is list or kind is tuple:
        out(b"l")
        for item in data:
            # Inline the commonest item (a hash string) to save a call per item.
            if type(item) is str:
                raw = item.encode()
                out(b"%d:" % len(raw))
                out(raw)
            else:
                _encode(item, out)
        out(b"e")
    elif kind is int:
        out(b"i%de" % data)
    elif kind is bytes:
        out(b"%d:" % len(data))
        out(data)
    elif kind is dict:
        _encode_mapping(data, out)
    else:
        _encode_other(data, out)


def _encode_mapping(mapping: Mapping, out: Callable[[bytes], Any]) -> None:
    out(b"d")
    try:
        items = sorted(mapping.items())
    except TypeError as error:
        raise TypeError(
            f"bencode: mapping keys must all be str or all be bytes ({error})"
        ) from None
    for key, value in items:
        if isinstance(key, str):
            key = key.encode()
        elif not isinstance(key, bytes):
            raise TypeError(
                f"bencode: mapping key {key!r} of type {type(key).__name__} is not str or bytes"
            )
        out(b"%d:" % len(key))
        out(key)
        _encode(value, out)
    out(b"e")


def _encode_other(data: Any, out: Callable[[bytes], Any]) -> None:
    """Subclasses and other iterables, with redun's precedence of checks."""
    if isinstance(data, int) and not isinstance(data, bool):
        out(b"i" + str(data).encode() + b"e")
    elif isinstance(data, (str, bytes)):
        raw = data.encode() if isinstance(data, str) else bytes(data)
        out(b"%d:" % len(raw))
        out(raw)
    elif isinstance(data, Mapping):
        _encode_mapping(data, out)
    elif isinstance(data, Iterable):
        out(b"l")
        for item in data:
            _encode(item, out)
        out(b"e")
    else:
        raise TypeError(
            f"bencode: value {data!r} of type {type(data).__name__} is not bencodable "
            "(use int, str, bytes, list, tuple or dict; convert bools and floats to str)"
        )


def bencode(data: Any, f: IO[bytes] | None = None) -> bytes | None:
    """Encode `data`; write to the binary stream `f` if given, else return bytes."""
    chunks: list[bytes] = []
    _encode(data, chunks.append)
    encoded = b"".join(chunks)
    if f is None:
        return encoded
    f.write(encoded)
    return None


class BdecodeError(ValueError):
    """Bytes that are not valid bencoding."""


class BdecodeTypeError(BdecodeError, TypeError):
    """A byte that starts no bencoded item (a TypeError, as redun raises it)."""


class BdecodeKeyError(BdecodeError, AssertionError):
    """A dict key that is not a string (an AssertionError, as redun raises it)."""


def _read_until(stream: IO[bytes], end: bytes) -> bytes:
    buffer = bytearray()
    while True:
        byte = stream.read(1)
        if byte == end:
            return bytes(buffer)
        if not byte:
            raise BdecodeError(f"bdecode: data ended before the expected {end!r}")
        buffer += byte


def _decode(stream: IO[bytes]) -> Any:
    """Decode one item; returns the sentinel `_END` at a list/dict terminator."""
    head = stream.read(1)
    if head == b"i":
        return int(_read_until(stream, b"e"))
    if head == b"l":
        items = []
        while (item := _decode(stream)) is not _END:
            items.append(item)
        return items
    if head == b"d":
        result = {}
        while (key := _decode(stream)) is not _END:
            if not isinstance(key, (str, bytes)):
                raise BdecodeKeyError(f"bdecode: dict key {key!r} is not a string")
            value = _decode(stream)
            if value is _END:
                raise BdecodeError(f"bdecode: dict key {key!r} has no value")
            result[key] = value
        return result
    if head.isdigit():
        length = int(head + _read_until(stream, b":"))
        raw = stream.read(length)
        if len(raw) != length:
            raise BdecodeError(f"bdecode: string of {length} bytes is truncated to {len(raw)}")
        try:
            return raw.decode()
        except UnicodeDecodeError:
            return raw
    if head == b"e":
        return _END
    raise BdecodeTypeError(f"bdecode: unexpected byte {head!r}; the data is not bencoded")


_END = object()


def bdecode(data: bytes | str | IO[bytes]) -> Any:
    """Decode bencoded bytes (or a binary stream); strings that are valid UTF-8 become str."""
    if isinstance(data, str):
        data = data.encode()
    stream = BytesIO(data) if isinstance(data, bytes) else data
    result = _decode(stream)
    if result is _END:
        raise BdecodeError("bdecode: data starts with an end marker")
    return result
