import pytest
from redun import File, script, task
from redun.scripting import ScriptError, exec_script, get_wrapped_command, prepare_command

redun_namespace = "script_test"


def test_prepare_command_adds_the_default_shell():
    assert prepare_command("\n    echo hi\n") == "#!/usr/bin/env bash\nset -exo pipefail\necho hi"
    assert prepare_command("#!/usr/bin/env python\nprint(1)") == "#!/usr/bin/env python\nprint(1)"


def test_wrapped_command_survives_eof_markers_in_the_script():
    command = prepare_command("cat <<EOF\nEOF\necho done")
    assert exec_script(prepare_command(get_wrapped_command(command))).endswith(b"done\n")


def test_exec_script_errors_carry_the_last_stderr_line():
    with pytest.raises(ScriptError, match="Last line: oops") as info:
        exec_script("#!/bin/sh\necho first >&2\necho oops >&2\nexit 3")
    assert repr(info.value) == "ScriptError('Last line: oops')"


def test_script_returns_stdout(scheduler):
    assert scheduler.run(script("echo hello")) == b"hello\n"
    assert scheduler.run(script(["printf", "%s-%s", "a b", "c"])) == b"a b-c"
    assert scheduler.run(script("#!/usr/bin/env python3\nprint(6 * 7)")) == b"42\n"
    with pytest.raises(ScriptError):
        scheduler.run(script("exit 1"))


@task
def count_words(input_path: str, output_path: str) -> File:
    return script(
        "wc -w < in.txt > out.txt",
        inputs=[File(input_path).stage("in.txt")],
        outputs=File(output_path).stage("out.txt"),
        tempdir=True,
    )


def test_script_stages_inputs_and_outputs(repo, tmp_path):
    source = tmp_path / "source.txt"
    source.write_text("one two three\n")
    result = repo().run(count_words(str(source), str(tmp_path / "count.txt")))
    assert isinstance(result, File) and result.path == str(tmp_path / "count.txt")
    assert result.read().strip() == "3"


def test_script_output_files_short_circuit_until_they_change(repo, tmp_path, redun_log):
    output = tmp_path / "made.txt"
    expr = script(f"echo made > {output}", outputs=File(str(output)))
    assert repo().run(expr).read() == "made\n"
    output.write_text("tampered\n")
    assert repo().run(script(f"echo made > {output}", outputs=File(str(output)))).read() == (
        "made\n"
    )
    assert any("Cached result is no longer valid" in r.getMessage() for r in redun_log.records)
