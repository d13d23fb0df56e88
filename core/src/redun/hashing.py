"""redun's hash: sha512 hex digest truncated to 40 characters.

Every formula here is a persistent identifier: task, argument, call and file
hashes computed by redun must come out identical, or an existing database's
cache is never hit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from redun.bcoding import bencode
from redun.utils import json_dumps

if TYPE_CHECKING:
    from redun.value import TypeRegistry

HASH_LENGTH = 40
STREAM_BLOCK_SIZE = 1024 * 1024

_sha512 = hashlib.sha512

# sha512 states already fed with bencode([tag]); copying one is cheaper than
# re-hashing the tag for every value.
_tag_prefixes: dict[str, Any] = {}


class Hash:
    """An incremental hash whose digest has redun's length."""

    def __init__(self, length: int = HASH_LENGTH) -> None:
        self.message = _sha512()
        self.length = length

    def update(self, data: bytes) -> None:
        self.message.update(data)

    def hexdigest(self) -> str:
        return self.message.hexdigest()[: self.length]


def hash_struct(struct: Any) -> str:
    """Hash a structure through its canonical bencode form."""
    return _sha512(bencode(struct)).hexdigest()[:HASH_LENGTH]


def hash_bytes(data: bytes) -> str:
    return _sha512(data).hexdigest()[:HASH_LENGTH]


def hash_text(text: str) -> str:
    return _sha512(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def hash_tag_bytes(tag: str, data: bytes) -> str:
    """Hash `data` prefixed by a tag, so equal bytes of different kinds differ."""
    prefix = _tag_prefixes.get(tag)
    if prefix is None:
        prefix = _tag_prefixes[tag] = _sha512(bencode([tag]))
    message = prefix.copy()
    message.update(data)
    return message.hexdigest()[:HASH_LENGTH]


def hash_stream(stream: IO[bytes], block_size: int = STREAM_BLOCK_SIZE) -> str:
    """Hash everything a binary stream yields, without holding it in memory."""
    message = _sha512()
    while block := stream.read(block_size):
        message.update(block)
    return message.hexdigest()[:HASH_LENGTH]


def hash_positional_args(type_registry: TypeRegistry, args: Sequence) -> list[str]:
    get_hash = type_registry.get_hash
    return [get_hash(arg) for arg in args]


def hash_kwargs(type_registry: TypeRegistry, kwargs: dict[str, Any]) -> dict[str, str]:
    get_hash = type_registry.get_hash
    return {key: get_hash(arg) for key, arg in kwargs.items()}


def hash_arguments(type_registry: TypeRegistry, args: Sequence, kwargs: dict[str, Any]) -> str:
    """The args_hash of a task call."""
    return hash_struct(
        [
            "TaskArguments",
            hash_positional_args(type_registry, args),
            hash_kwargs(type_registry, kwargs),
        ]
    )


def hash_eval(
    type_registry: TypeRegistry, task_hash: str, args: Sequence, kwargs: dict[str, Any]
) -> tuple[str, str]:
    """(eval_hash, args_hash) of a task call: the single-reduction cache key."""
    args_hash = hash_arguments(type_registry, args, kwargs)
    return hash_struct(["Eval", task_hash, args_hash]), args_hash


def hash_tag(entity_id: str, key: str, value: Any, parents: list[str]) -> str:
    """Hash of a tag record; `parents` are the hashes of the tags it replaces."""
    return hash_struct(["Tag", entity_id, key, json_dumps(value), parents])


def hash_call_node(
    task_hash: str, args_hash: str, result_hash: str, child_call_hashes: list[str]
) -> str:
    """The call_hash: a Merkle hash over the call tree below this call."""
    return hash_struct(["CallNode", task_hash, args_hash, result_hash, sorted(child_call_hashes)])
