"""Which Google credentials a client uses, with one-line errors when there are none.

Production behaviour is google-auth's default chain. Anonymous credentials
are used for an emulator: GCS when ``STORAGE_EMULATOR_HOST`` is set, the
Batch/Compute/Logging APIs when ``api_endpoint`` is a loopback address (or
``credentials = anonymous``). A path to a service-account key file also works.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

NO_CREDENTIALS_HINT = (
    "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS "
    "to a service-account key file"
)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class CredentialsError(Exception):
    """No usable Google credentials; the message says how to provide them."""


def is_loopback(endpoint: str) -> bool:
    url = endpoint if "://" in endpoint else f"http://{endpoint}"
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS


def default_credentials() -> Any:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
    except DefaultCredentialsError:
        raise CredentialsError(f"No Google credentials found: {NO_CREDENTIALS_HINT}") from None
    return credentials


def anonymous_credentials() -> Any:
    from google.auth.credentials import AnonymousCredentials

    return AnonymousCredentials()


def resolve_credentials(setting: str, api_endpoint: str) -> Any:
    """Credentials for the ``credentials`` key: default, anonymous or a key file path."""
    setting = (setting or "").strip()
    if setting == "anonymous" or (not setting and api_endpoint and is_loopback(api_endpoint)):
        return anonymous_credentials()
    if setting in ("", "default"):
        return default_credentials()
    if not os.path.isfile(setting):
        raise CredentialsError(
            f"credentials = {setting!r} is neither 'default', 'anonymous' nor a key file"
        )
    from google.oauth2 import service_account

    try:
        return service_account.Credentials.from_service_account_file(
            setting, scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
    except ValueError as error:
        raise CredentialsError(f"credentials file {setting} is not a key file: {error}") from None


def storage_credentials() -> tuple[Any, str | None]:
    """Credentials and project for gs:// files (anonymous against an emulator)."""
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        return anonymous_credentials(), None
    return default_credentials(), None
