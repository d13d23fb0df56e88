"""Which credentials the clients use: anonymous only for emulators, else google-auth's chain."""

from __future__ import annotations

import pytest
from redun_gcp.credentials import CredentialsError, is_loopback, resolve_credentials


def test_loopback_endpoints() -> None:
    assert is_loopback("http://127.0.0.1:8080")
    assert is_loopback("localhost:443")
    assert not is_loopback("batch.googleapis.com")
    assert not is_loopback("https://europe-west1-batch.googleapis.com")


def test_anonymous_for_a_loopback_endpoint_or_when_asked() -> None:
    from google.auth.credentials import AnonymousCredentials

    assert isinstance(resolve_credentials("", "http://127.0.0.1:9"), AnonymousCredentials)
    assert isinstance(
        resolve_credentials("anonymous", "batch.googleapis.com"), AnonymousCredentials
    )


def test_production_default_is_the_default_chain() -> None:
    # No credentials exist in the test environment (and no metadata server is asked).
    with pytest.raises(CredentialsError, match="No Google credentials found"):
        resolve_credentials("", "")
    with pytest.raises(CredentialsError, match="No Google credentials found"):
        resolve_credentials("default", "http://127.0.0.1:9")


def test_a_key_file_that_is_not_one(tmp_path) -> None:
    with pytest.raises(CredentialsError, match="neither 'default', 'anonymous' nor a key file"):
        resolve_credentials(str(tmp_path / "missing.json"), "")
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"type": "service_account"}')
    with pytest.raises(CredentialsError, match="is not a key file"):
        resolve_credentials(str(bogus), "")
