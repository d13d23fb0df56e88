"""GCP label rules are met by encoding, never violated."""

from __future__ import annotations

import re

from redun_gcp.labels import encode_key, encode_user_labels, encode_value

VALUE = re.compile(r"\A[a-z0-9_-]{0,63}\Z")
KEY = re.compile(r"\A[a-z][a-z0-9_-]{0,62}\Z")


def test_values_outside_the_rules_are_escaped() -> None:
    assert encode_value("gs://bucket/redun") == "gs_3a_2f_2fbucket_2fredun"
    assert encode_value("redun.examples.hello") == "redun_2eexamples_2ehello"
    assert encode_value("a_b") == "a_5fb"  # "_" is escaped too, so distinct values stay distinct
    assert encode_value("a_b") != encode_value("a.b")
    assert encode_value("0123abcd-ef") == "0123abcd-ef"
    assert encode_value("Émile") == "_c3_89mile"


def test_long_values_are_shortened_deterministically() -> None:
    long_url = "gs://a-bucket-with-a-long-name/" + "deep/" * 30
    label = encode_value(long_url)
    assert VALUE.match(label) and len(label) == 63
    assert encode_value(long_url) == label
    assert encode_value(long_url + "x") != label


def test_keys_start_with_a_letter() -> None:
    assert encode_key("redun_hash") == "redun_hash"
    assert encode_key("2fast") == "k2fast"
    assert KEY.match(encode_key("Some.Key With Spaces" * 5))


def test_user_labels_are_lowercased_and_kept_when_valid() -> None:
    labels = encode_user_labels({"Team": "ML_Ops", "cost center": "R&D", "env": "prod"})
    assert labels == {"team": "ml_ops", "cost_20center": "r_26d", "env": "prod"}
    assert all(KEY.match(k) and VALUE.match(v) for k, v in labels.items())
