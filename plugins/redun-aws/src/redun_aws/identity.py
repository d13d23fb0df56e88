"""Who the AWS user is, from credentials already at hand: never a network call.

redun tags executions (and Batch jobs) with the caller's ARN from STS. We
read only what the environment and ~/.aws already say: a role ARN (web
identity or a profile's ``role_arn``), else the access key id. No boto3
import and no request, so it is cheap enough for every ``redun run``.
"""

from __future__ import annotations

import configparser
import os


def _profile_section(config: configparser.ConfigParser, profile: str, is_config: bool) -> dict:
    name = profile if not is_config or profile == "default" else f"profile {profile}"
    return dict(config[name]) if config.has_section(name) else {}


def aws_user() -> str | None:
    """The identity of the configured AWS credentials, or None when there are none."""
    if os.environ.get("AWS_ROLE_ARN"):
        return os.environ["AWS_ROLE_ARN"]
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        return os.environ["AWS_ACCESS_KEY_ID"]
    profile = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"
    home = os.path.expanduser("~")
    sources = (
        (os.environ.get("AWS_CONFIG_FILE") or os.path.join(home, ".aws", "config"), True),
        (
            os.environ.get("AWS_SHARED_CREDENTIALS_FILE")
            or os.path.join(home, ".aws", "credentials"),
            False,
        ),
    )
    for path, is_config in sources:
        parser = configparser.ConfigParser()
        try:
            parser.read(path)
        except configparser.Error:
            continue
        section = _profile_section(parser, profile, is_config)
        if section.get("role_arn"):
            return section["role_arn"]
        if section.get("aws_access_key_id"):
            return section["aws_access_key_id"]
    return None
