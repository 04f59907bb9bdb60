"""``-o``: Between writes a regular file whole, or refuses in one line and touches nothing.

The commands run as the installed ``between``, each a separate process, on a real store:
``report`` and ``export fhir`` both write through ``commands.output_file``.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from helpers import run_installed

from between.commands.output_file import OutputFile, output_target, write_output
from between.engine.errors import InvalidInput

#: Each command with the name it gives its file inside a folder (``-o DIR/``), before the date.
COMMANDS = {
    "report": (["report", "C-1"], "report-C-1-"),
    "fhir": (["export", "fhir"], "fhir-"),
}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("store")
    (folder / "plugins").mkdir()
    environment = {
        **os.environ,
        "BETWEEN_STORE": str(folder / "out.db"),
        "BETWEEN_ACTOR": "dr.lee",
        "BETWEEN_DEBUG": "",
        "BETWEEN_PLUGINS_DIR": str(folder / "plugins"),
        "XDG_CONFIG_HOME": str(folder / "config"),
        "XDG_DATA_HOME": str(folder / "data"),
    }
    for var in ("BETWEEN_CONFIG", "BETWEEN_PLUGINS", "BETWEEN_WORKSHEETS_DIR"):
        environment.pop(var, None)
    for args in (["init"], ["client", "add", "C-1", "--name", "Ana", "--therapist", "dr.lee"]):
        run_installed(environment, *args, inherit=False, check=True)
    return environment


def between(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, in its own process (a FIFO opened for writing would hang it:
    the timeout turns that into a failure)."""
    return run_installed(env, *args, cwd=cwd, inherit=False)


def refused(done: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 2 and one line on standard error that says each of ``words``."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    line = done.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, done.stderr
    assert line.startswith("error: "), line
    for word in words:
        assert word in line, (word, line)
    return line


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("command", COMMANDS)
def test_a_fifo_is_refused_and_left_a_fifo(env, tmp_path, command):
    os.mkfifo(tmp_path / "pipe")
    done = between(env, tmp_path, *COMMANDS[command][0], "-o", "pipe")
    refused(done, "pipe", "FIFO")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe").st_mode)
    assert listing(tmp_path) == ["pipe"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_symbolic_link_is_neither_followed_nor_replaced(env, tmp_path, command):
    (tmp_path / "notes.txt").write_text("the therapist's own notes\n")
    (tmp_path / "link").symlink_to("notes.txt")
    (tmp_path / "dangling").symlink_to("nowhere.json")
    for name in ("link", "dangling"):
        refused(between(env, tmp_path, *COMMANDS[command][0], "-o", name), name, "symbolic link")
    assert (tmp_path / "notes.txt").read_text() == "the therapist's own notes\n"
    assert os.readlink(tmp_path / "link") == "notes.txt"
    assert os.readlink(tmp_path / "dangling") == "nowhere.json"
    assert listing(tmp_path) == ["dangling", "link", "notes.txt"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_folder_is_refused_without_a_slash_and_written_into_with_one(env, tmp_path, command):
    args, prefix = COMMANDS[command]
    (tmp_path / "out").mkdir()
    refused(between(env, tmp_path, *args, "-o", "out"), "out", "is a folder", "end it with /")
    assert listing(tmp_path / "out") == []
    done = between(env, tmp_path, *args, "-o", "out/")
    assert done.returncode == 0, done.stderr
    (written,) = listing(tmp_path / "out")
    extension = ".html" if command == "report" else ".json"
    assert written.startswith(prefix) and written.endswith(extension), written
    assert written in done.stdout + done.stderr  # it says where it wrote
    mode = os.lstat(tmp_path / "out" / written).st_mode
    assert stat.S_ISREG(mode) and stat.S_IMODE(mode) == 0o600  # it holds health information


@pytest.mark.parametrize("command", COMMANDS)
def test_a_folder_that_does_not_exist_is_refused_by_name(env, tmp_path, command):
    args = COMMANDS[command][0]
    refused(between(env, tmp_path, *args, "-o", "newdir/"), "newdir", "create it first")
    refused(between(env, tmp_path, *args, "-o", "newdir/x.json"), "newdir", "does not exist")
    assert listing(tmp_path) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_an_empty_path_is_refused(env, tmp_path, command):
    refused(between(env, tmp_path, *COMMANDS[command][0], "-o", ""), "-o", "file name")
    assert listing(tmp_path) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_a_device_is_refused_and_stays_a_device(env, tmp_path, command):
    """A private copy of /dev/full when the test may make one (as root): a Between that wrote
    through it would replace only that copy. Otherwise /dev/full itself, whose folder a user
    other than root cannot change."""
    device = tmp_path / "full"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except PermissionError:
        device = Path("/dev/full")
        if os.geteuid() == 0 or not stat.S_ISCHR(os.lstat(device).st_mode):
            pytest.skip("no device to name")
    refused(between(env, tmp_path, *COMMANDS[command][0], "-o", str(device)), str(device), "device")
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert stat.S_ISCHR(os.lstat("/dev/full").st_mode)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_regular_file_is_replaced_whole_and_nothing_else_is_left(env, tmp_path, command):
    (tmp_path / "old.out").write_text("an older version\n")
    (tmp_path / "other").hardlink_to(tmp_path / "old.out")  # the other name keeps the old text
    done = between(env, tmp_path, *COMMANDS[command][0], "-o", "old.out")
    assert done.returncode == 0, done.stderr
    assert "an older version" not in (tmp_path / "old.out").read_text()
    assert (tmp_path / "other").read_text() == "an older version\n"
    assert listing(tmp_path) == ["old.out", "other"]  # no temporary file left beside it


def test_dash_is_standard_output_for_both(env, tmp_path):
    for args, _ in COMMANDS.values():
        done = between(env, tmp_path, *args, "-o", "-")
        assert done.returncode == 0 and done.stdout.strip(), done.stderr
    assert listing(tmp_path) == []


def test_a_report_without_o_is_refused_when_its_default_name_is_a_link(env, tmp_path):
    done = between(env, tmp_path, "report", "C-1")  # writes report-C-1-DATE.html here
    assert done.returncode == 0, done.stderr
    (name,) = listing(tmp_path)
    (tmp_path / name).unlink()
    (tmp_path / "elsewhere").write_text("keep\n")
    (tmp_path / name).symlink_to("elsewhere")
    refused(between(env, tmp_path, "report", "C-1"), name, "symbolic link")
    assert (tmp_path / "elsewhere").read_text() == "keep\n"


# The helper itself, for what a separate process cannot arrange: a path that changes while the
# file is written.


def test_a_target_turned_into_a_link_while_writing_is_refused_at_the_end(tmp_path):
    (tmp_path / "precious").write_text("keep\n")
    out = OutputFile(tmp_path / "report.html")
    out.file.write("<html>")
    (tmp_path / "report.html").symlink_to("precious")
    with pytest.raises(InvalidInput, match="symbolic link"):
        out.commit()
    assert (tmp_path / "precious").read_text() == "keep\n"
    assert listing(tmp_path) == ["precious", "report.html"]
    assert (tmp_path / "report.html").is_symlink()


def test_a_failed_write_leaves_the_target_as_it_was(tmp_path):
    (tmp_path / "r.json").write_text("old\n")
    with pytest.raises(RuntimeError), OutputFile(tmp_path / "r.json") as f:
        f.write("half")
        raise RuntimeError("the export failed")
    assert (tmp_path / "r.json").read_text() == "old\n"
    assert listing(tmp_path) == ["r.json"]


def test_paths_no_file_system_holds_are_one_line(tmp_path):
    for given in ("a\x00b", str(tmp_path / ("y" * 300)), str(tmp_path / "a\nb") + "/"):
        with pytest.raises(InvalidInput) as caught:
            output_target(given, "default.txt")
        assert "\n" not in str(caught.value), caught.value
    with pytest.raises(InvalidInput, match="too long"):
        write_output(tmp_path / ("y" * 300), "text")
    assert listing(tmp_path) == []
