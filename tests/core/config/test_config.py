"""redun.ini: parsing, interpolation, nesting, config dir resolution, validation."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from redun.config import (
    Config,
    ConfigError,
    create_config_section,
    find_config_dir,
    load_config,
    postprocess_config,
)


def write_ini(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "redun.ini").write_text(text)
    return directory


def test_dict_config_nests_dotted_sections() -> None:
    config = Config(
        {"backend": {"db_uri": "sqlite:///x.db"}, "executors": {"batch": {"type": "local"}}}
    )
    assert config["backend"]["db_uri"] == "sqlite:///x.db"
    assert config["executors"]["batch"]["type"] == "local"
    assert "executors.batch" in config.get_config_dict()


def test_read_string_dotted_sections_and_case_sensitive_keys() -> None:
    config = Config()
    config.read_string("[executors.batch]\ntype = local\nMaxWorkers = 3\n[limits]\ndb = 2\n")
    assert config["executors"]["batch"]["MaxWorkers"] == "3"
    assert "maxworkers" not in config["executors"]["batch"]
    assert config["limits"]["db"] == "2"
    assert config.get("missing", "default") == "default"


def test_interpolation_keys_sections_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_BUCKET", "bucket-1")
    config = Config()
    config.read_string(
        "[DEFAULT]\nroot = /data\n"
        "[backend]\nvalue_store_path = ${root}/values\n"
        "[executors.batch]\ntype = local\nscratch = s3://${MY_BUCKET}/x\n"
        "other = ${backend:value_store_path}\ncost = $$5\n"
    )
    assert config["backend"]["value_store_path"] == "/data/values"
    assert config["executors"]["batch"]["scratch"] == "s3://bucket-1/x"
    assert config["executors"]["batch"]["other"] == "/data/values"
    assert config["executors"]["batch"]["cost"] == "$5"


def test_interpolation_of_undefined_name_is_a_clear_error() -> None:
    config = Config()
    config.read_string("[backend]\ndb_uri = ${NOT_DEFINED_ANYWHERE_123}\n")
    with pytest.raises(ConfigError, match="NOT_DEFINED_ANYWHERE_123.*environment variable"):
        config["backend"]["db_uri"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("db_uri = x\n", r"redun.ini:1: expected a \[section\] header"),
        ("[backend]\ndb_uri = x\n[backend]\n", r"redun.ini:3: section \[backend\] appears twice"),
        ("[backend]\ndb_uri = x\ndb_uri = y\n", r"redun.ini:3: key 'db_uri' appears twice"),
        ("[backend]\nthis line is broken\n", r"redun.ini:2: cannot parse 'this line is broken'"),
    ],
)
def test_malformed_ini_is_one_line_with_file_and_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    write_ini(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as info:
        load_config(tmp_path)
    assert "\n" not in str(info.value)
    assert str(tmp_path / "redun.ini") in str(info.value)


def test_postprocess_makes_sqlite_uri_absolute(tmp_path: Path) -> None:
    config_dir = write_ini(tmp_path / ".redun", "[backend]\ndb_uri = sqlite:///redun.db\n")
    config = load_config(config_dir)
    assert config["backend"]["db_uri"] == f"sqlite:///{config_dir}/redun.db"
    assert config["backend"]["config_dir"] == str(config_dir)
    assert config["repos"]["default"]["config_dir"] == str(config_dir)
    assert "scheduler" in config


def test_postprocess_legacy_default_and_untouched_uris(tmp_path: Path) -> None:
    config_dir = tmp_path / ".redun"
    legacy = postprocess_config(
        Config({"backend": {"db_uri": "sqlite:///.redun/redun.db"}}), config_dir
    )
    assert legacy["backend"]["db_uri"] == f"sqlite:///{config_dir}/redun.db"
    for uri in ("sqlite:///:memory:", "sqlite:////abs/x.db", "postgresql://h:5432/db"):
        config = postprocess_config(Config({"backend": {"db_uri": uri}}), config_dir)
        assert config["backend"]["db_uri"] == uri


def test_default_db_uri_when_missing(tmp_path: Path) -> None:
    config = load_config(write_ini(tmp_path, "[scheduler]\njob_status_interval = 5\n"))
    assert config["backend"]["db_uri"] == f"sqlite:///{tmp_path}/redun.db"


def test_context_file_relative_to_config_dir(tmp_path: Path) -> None:
    config = load_config(write_ini(tmp_path, "[scheduler]\ncontext_file = ctx.json\n"))
    assert config["scheduler"]["context_file"] == str(tmp_path / "ctx.json")


def test_federated_configs_merge_executors(tmp_path: Path) -> None:
    write_ini(
        tmp_path / "other",
        "[executors.remote]\ntype = local\n[federated_tasks.fed]\nnamespace = ns\n",
    )
    main = write_ini(tmp_path / "main", "[scheduler]\nfederated_configs = ../other\n")
    config = load_config(main)
    assert config["executors"]["remote"]["type"] == "local"
    assert config["federated_tasks"]["fed"]["namespace"] == "ns"


def test_federated_duplicate_executor_is_an_error(tmp_path: Path) -> None:
    write_ini(tmp_path / "other", "[executors.default]\ntype = local\n")
    main = write_ini(
        tmp_path / "main",
        "[scheduler]\nfederated_configs = ../other\n[executors.default]\ntype = local\n",
    )
    with pytest.raises(ConfigError, match=r"\[executors.default\] is defined both"):
        load_config(main)


def test_unknown_key_warns_with_file_section_key_and_suggestion(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_ini(
        tmp_path,
        "[backend]\ndb_urii = sqlite:///x.db\n[executors.default]\ntype = local\nmax_worker = 2\n",
    )
    with caplog.at_level(logging.WARNING, logger="redun"):
        load_config(tmp_path)
    messages = [r.getMessage() for r in caplog.records]
    ini = tmp_path / "redun.ini"
    assert f"{ini}: [backend] unknown key 'db_urii' (did you mean 'db_uri'?)" in messages
    assert (
        f"{ini}: [executors.default] unknown key 'max_worker' (did you mean 'max_workers'?)"
        in messages
    )


def test_unknown_section_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_ini(tmp_path, "[schedular]\njob_status_interval = 3\n")
    with caplog.at_level(logging.WARNING, logger="redun"):
        load_config(tmp_path)
    assert any(
        "unknown section [schedular] (did you mean [scheduler]?)" in r.getMessage()
        for r in caplog.records
    )


def test_strict_config_turns_warnings_into_errors(tmp_path: Path) -> None:
    write_ini(tmp_path, "[scheduler]\nstrict_config = true\n[backend]\nautomigrat = true\n")
    with pytest.raises(
        ConfigError, match=r"\[backend\] unknown key 'automigrat' \(did you mean 'automigrate'\?\)"
    ):
        load_config(tmp_path)


def test_open_sections_and_undeclared_executor_types_pass(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_ini(
        tmp_path,
        "[limits]\nanything = 3\n[tags]\nproject = x\n[executors.custom]\ntype = mine\nfoo = 1\n",
    )
    with caplog.at_level(logging.WARNING, logger="redun"):
        load_config(tmp_path)
    assert caplog.records == []


def test_find_config_dir_explicit_requires_ini(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"No redun config found at .*Run 'redun init -c"):
        find_config_dir(tmp_path / "nope")
    write_ini(tmp_path / "yes", "")
    assert find_config_dir(tmp_path / "yes") == tmp_path / "yes"


def test_find_config_dir_env_then_search_upward_then_create(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDUN_CONFIG", str(tmp_path / "envdir"))
    assert find_config_dir() == tmp_path / "envdir"
    assert (tmp_path / "envdir" / "redun.ini").exists()
    monkeypatch.delenv("REDUN_CONFIG")

    project = tmp_path / "project"
    (project / ".redun").mkdir(parents=True)
    nested = project / "a" / "b"
    nested.mkdir(parents=True)
    assert find_config_dir(cwd=nested) == project / ".redun"
    assert (project / ".redun" / "redun.ini").exists()

    lonely = tmp_path / "lonely"
    lonely.mkdir()
    assert find_config_dir(create=False, cwd=lonely) is None
    assert find_config_dir(cwd=lonely) == lonely / ".redun"
    assert "[backend]" in (lonely / ".redun" / "redun.ini").read_text()


def test_create_config_section() -> None:
    section = create_config_section({"image": "x", "memory": 4})
    assert section["image"] == "x" and section["memory"] == "4"


def test_non_section_key_in_dict_is_rejected() -> None:
    with pytest.raises(ConfigError, match="not inside a section"):
        Config({"db_uri": "x"})
