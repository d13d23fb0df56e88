"""Golden values computed with redun 0.44.1: our bytes and hashes must match exactly."""

import io
from collections import OrderedDict

import pytest
from redun.bcoding import bdecode, bencode
from redun.hashing import (
    Hash,
    hash_bytes,
    hash_call_node,
    hash_stream,
    hash_struct,
    hash_tag,
    hash_tag_bytes,
    hash_text,
)

GOLDEN_STRUCTS = [
    (42, b"i42e", "8bfbf37d286f74f105d8d131e3b1c7cee5c17050"),
    (-7, b"i-7e", "cb61352c493186ffc7476bb76c1dc1663a673d8a"),
    (0, b"i0e", "53eaba1027afeb1f7b67f3846e464f252772d3ab"),
    ("hello", b"5:hello", "d353afd5bd4bfd789a1ecf633118acc95ff1c5ff"),
    (
        "héllo ✓",
        b"10:h\xc3\xa9llo \xe2\x9c\x93",
        "47beac895a282a594eb5865c777bfbc210a3775e",
    ),
    (b"\x00\xff", b"2:\x00\xff", "7f7c82656ad73a87fdecce053b52eaa8c4484bf7"),
    ([1, "a", b"b", [2, 3]], b"li1e1:a1:bli2ei3eee", "0c6f1c4e7e584063d58d693a44f9157474e579f3"),
    ((1, 2), b"li1ei2ee", "60e9d8fe0743953d9b6e6c79cefd4697d7184504"),
    (
        {"b": 1, "a": [1, 2], "c": {"z": "y"}},
        b"d1:ali1ei2ee1:bi1e1:cd1:z1:yee",
        "821a4a96d03a4664b4892b23a6fc9e87e86e26ee",
    ),
    ({b"b": 1, b"a": 2}, b"d1:ai2e1:bi1ee", "c66a65b7f3d964692ae8b086c506b0569e9f5aea"),
    (
        OrderedDict([("b", 1), ("a", 2)]),
        b"d1:ai2e1:bi1ee",
        "c66a65b7f3d964692ae8b086c506b0569e9f5aea",
    ),
    ([], b"le", "052d52f93faf4fa4037fc1e1cedec179253e47e3"),
    ({}, b"de", "2b5801d08603c0d5f4db58b71dc5ff22e1e3d3b8"),
    (bytearray(b"ab"), b"li97ei98ee", "8af47d72bc12c5d58ab0f0ddd9964e30ae7ac075"),
    (range(3), b"li0ei1ei2ee", "aea6d5e169e0eda086d36cf6538143549691d16f"),
    ({"x"}, b"l1:xe", "00157a243c97fb0904286f3ebc38b780b63ac7ed"),
    (
        ["Task", "ns.name", "source", "def f():\n    return 1\n"],
        b"l4:Task7:ns.name6:source22:def f():\n    return 1\ne",
        "56df336e9fd4580c8165bccf612070fe75f88388",
    ),
]


@pytest.mark.parametrize("struct,encoded,digest", GOLDEN_STRUCTS)
def test_bencode_and_hash_struct_match_redun(struct, encoded, digest):
    assert bencode(struct) == encoded
    assert hash_struct(struct) == digest


def test_bencode_writes_to_stream():
    out = io.BytesIO()
    assert bencode([1, "x"], out) is None
    assert out.getvalue() == b"li1e1:xe"


@pytest.mark.parametrize("bad", [True, 1.5, None, object()])
def test_bencode_rejects_unencodable_values(bad):
    with pytest.raises(TypeError, match="not bencodable"):
        bencode([bad])


def test_bencode_rejects_non_string_dict_keys():
    with pytest.raises(TypeError, match="not str or bytes"):
        bencode({1: 2})
    with pytest.raises(TypeError, match="all be str or all be bytes"):
        bencode({"a": 1, b"b": 2})


def test_bdecode_round_trip():
    data = {"a": [1, -2, "x", {"n": b"\xff"}], "b": ""}
    assert bdecode(bencode(data)) == data
    assert bdecode(io.BytesIO(b"li1ee")) == [1]
    assert bdecode("3:abc") == "abc"


@pytest.mark.parametrize("garbage", [b"x", b"i12", b"5:ab", b"e", b"d1:ae"])
def test_bdecode_rejects_garbage(garbage):
    with pytest.raises(ValueError, match="bdecode"):
        bdecode(garbage)


def test_hash_primitives_match_redun():
    assert hash_bytes(b"hello world") == "309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee"
    assert hash_text("hello wörld") == "b4e28e55422dd1a5244f05bec6c9907b32ac8c75"
    assert hash_tag_bytes("Value", b"abc") == "280477812c460bd24d7dd8a128c4e376fc138f92"
    assert hash_tag_bytes("Value.set", b"") == "7d6df1ed35142c4949fc669199011ffcc65f9177"
    # A second call reuses the cached tag prefix and must give the same digest.
    assert hash_tag_bytes("Value", b"abc") == "280477812c460bd24d7dd8a128c4e376fc138f92"
    assert hash_stream(io.BytesIO(b"x" * 5000)) == "970a461060a15b5eb8f803e8b40d14a44a6ecced"
    assert hash_stream(io.BytesIO(b"x" * 5000), block_size=7) == hash_bytes(b"x" * 5000)


def test_record_hashes_match_redun():
    assert (
        hash_call_node("a" * 40, "b" * 40, "c" * 40, ["e" * 40, "d" * 40])
        == "d5a2ca77646d3059765d1d3f170fa07b4ddfe764"
    )
    assert (
        hash_tag("exec1", "env", {"b": [1, 2], "a": "x"}, ["p1", "p0"])
        == "3a7cbd025d81dcea190ea5a14048fdd67f0ca0ef"
    )


def test_hash_class_is_incremental():
    message = Hash()
    message.update(b"hello ")
    message.update(b"world")
    assert message.hexdigest() == hash_bytes(b"hello world")
    assert len(Hash(length=12).hexdigest()) == 12
