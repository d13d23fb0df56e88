from pathlib import Path

import pytest
from redun import Dir, File
from redun.tools import copy_dir, copy_file, copy_files, render_template


def test_copy_file_keeps_the_name_for_directory_destinations(scheduler, tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("A")
    (tmp_path / "out").mkdir()
    copied = scheduler.run(copy_file(File(str(source)), str(tmp_path / "out") + "/"))
    assert copied.path == str(tmp_path / "out" / "a.txt")
    assert Path(copied.path).read_text() == "A"


def test_copy_files_checks_lengths(scheduler, tmp_path):
    source = tmp_path / "b.txt"
    source.write_text("B")
    copies = scheduler.run(copy_files([File(str(source))], [str(tmp_path / "c.txt")]))
    assert [Path(f.path).read_text() for f in copies] == ["B"]
    with pytest.raises(ValueError, match="got 1 files but 0 destination paths"):
        scheduler.run(copy_files([File(str(source))], []))


def test_copy_dir_copies_every_file(scheduler, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "one.txt").write_text("1")
    (src / "sub" / "two.txt").write_text("2")
    result = scheduler.run(copy_dir(Dir(str(src)), str(tmp_path / "dest")))
    assert isinstance(result, Dir)
    assert (tmp_path / "dest" / "one.txt").read_text() == "1"
    assert (tmp_path / "dest" / "sub" / "two.txt").read_text() == "2"


def test_render_template_needs_jinja2_or_renders(scheduler, tmp_path):
    template = tmp_path / "t.txt"
    template.write_text("Hello {{ name }}")
    expr = render_template(str(tmp_path / "out.txt"), File(str(template)), {"name": "redun"})
    try:
        import jinja2  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install jinja2"):
            scheduler.run(expr)
    else:
        assert scheduler.run(expr).read() == "Hello redun"
