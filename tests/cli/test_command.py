"""The command line as a user (and a careless or hostile one) meets it: no traceback, no lost
work, one line that says what went wrong."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import nn.train
from nn import MLP, load, save
from tinygrad_bp import __version__, cli
from tinygrad_bp.cli import graphs as cli_graphs

ROOT = Path(__file__).resolve().parents[2]  # the checkout: tests/<part>/this file
COMMAND = [sys.executable, "-m", "tinygrad_bp"]
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX signals, pipes and devices")


def environment() -> dict[str, str]:
    """This checkout's code first on the path, and output unbuffered (so a test can
    wait for a line)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return dict(os.environ, PYTHONPATH=path, PYTHONUNBUFFERED="1")


def start(*args: str, cwd: Path = ROOT, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*COMMAND, *args],
        stdout=kwargs.pop("stdout", subprocess.PIPE),  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=environment(),
        **kwargs,  # type: ignore[call-overload]
    )


def interrupt_once_running(
    process: subprocess.Popen[str], marker: str, signum: int = signal.SIGINT
) -> tuple[str, str]:
    """Wait for ``marker`` on the process's output, let it work a moment, then Ctrl-C
    (or send ``signum``)."""
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            break
    else:
        raise AssertionError(f"{marker!r} never came: {''.join(seen)}")
    time.sleep(1.0)  # some updates are made
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    return "".join(seen) + out, err


# -- Ctrl-C ---------------------------------------------------------------------------------
@posix_only
def test_ctrl_c_during_training_saves_what_was_trained(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    process = start("train", "moons", "--steps", "100000", "--save", str(path))
    out, err = interrupt_once_running(process, "full-batch SGD")
    assert process.returncode == 130, err
    assert "Traceback" not in err
    [line] = [x for x in err.splitlines() if "interrupted" in x]
    updates = int(line.split("interrupted after ")[1].split(" of ")[0])
    assert line == f"tinygrad-bp train: interrupted after {updates} of 100000 updates"
    assert 0 < updates < 100000
    assert f"saved the model to {str(path)!r}" in out
    model = load(path)  # a whole file, and a model that trained
    assert model.get_weights() != MLP(2, [16, 16, 1], seed=0).get_weights()
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temporary left


@posix_only
def test_ctrl_c_during_mazur_steps_says_how_far_it_got() -> None:
    process = start("mazur", "--steps", "100000000")
    out, err = interrupt_once_running(process, "After the first update")
    assert process.returncode == 130, err
    assert err.startswith("tinygrad-bp mazur: interrupted after ") and "Traceback" not in err
    assert err.rstrip().endswith(" of 100000000 updates") and len(err.splitlines()) == 1
    assert "The forward pass" in out  # the walkthrough was shown before the long part


@posix_only
def test_sigterm_during_training_saves_what_was_trained_as_ctrl_c_does(tmp_path: Path) -> None:
    # `timeout`, a job scheduler or `docker stop` ends a run with SIGTERM, not Ctrl-C.
    path = tmp_path / "m.json"
    process = start("train", "moons", "--steps", "100000", "--save", str(path))
    out, err = interrupt_once_running(process, "full-batch SGD", signal.SIGTERM)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    [line] = err.splitlines()
    updates = int(line.split("stopped by SIGTERM after ")[1].split(" of ")[0])
    assert line == f"tinygrad-bp train: stopped by SIGTERM after {updates} of 100000 updates"
    assert 0 < updates < 100000
    assert f"saved the model to {str(path)!r}" in out
    model = load(path)  # a whole file, and a model that trained
    assert model.get_weights() != MLP(2, [16, 16, 1], seed=0).get_weights()
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temporary left


def test_ctrl_c_before_the_first_update_keeps_a_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    save(MLP(2, [16, 16, 1], seed=7), path)
    before = path.read_bytes()

    def interrupted_at_once(*args: object, **kwargs: object) -> None:
        raise nn.train.TrainingInterrupted(0, 100)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nn.train, "fit", interrupted_at_once)
        assert cli.main(["train", "moons", "--save", str(path)]) == 130
    assert path.read_bytes() == before


@posix_only
def test_ctrl_c_elsewhere_is_one_line_and_status_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_graphs, "render", interrupted)  # draw renders the graph there
    assert cli.main(["draw", "mazur", "-o", "never.svg"]) == 130


# -- output that cannot be written ----------------------------------------------------------
@posix_only
def test_a_closed_pipe_ends_the_command_quietly() -> None:
    # `tinygrad-bp mazur --explain all | head -1`: here the reader is gone before
    # the first line, so the very first write fails.
    process = start("mazur", "--explain", "all")
    assert process.stdout is not None
    process.stdout.close()
    assert process.stderr is not None
    err = process.stderr.read()
    process.wait(timeout=60)
    assert err == ""
    assert process.returncode == 141  # as for a tool ended by SIGPIPE


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_full_disk_is_one_line() -> None:
    with open("/dev/full", "w") as full:
        process = start("mazur", stdout=full)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err == "tinygrad-bp: cannot write the output: No space left on device\n"


# -- checked before training ----------------------------------------------------------------
def unwritable_targets(tmp_path: Path) -> list[str]:
    targets = ["", str(tmp_path) + os.sep, str(tmp_path / "a-file" / "m.json")]
    (tmp_path / "a-file").write_text("x")
    if os.path.isdir("/proc/self"):
        targets.append("/proc/m.json")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if not os.access(locked, os.W_OK):  # the superuser may write anywhere
        targets.append(str(locked / "m.json"))
    return targets


def test_an_unwritable_save_target_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for target in unwritable_targets(tmp_path):
        assert cli.main(["train", "moons", "--save", target]) == 1, target
        out, err = capsys.readouterr()
        assert out == "", target  # not even the line that announces the training
        assert err.startswith(f"tinygrad-bp train: error: cannot write the model file {target!r}: ")
        assert len(err.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "locked"]


def test_a_plot_format_that_needs_latex_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    assert cli.main(["train", "xor", "--plot", str(tmp_path / "p.pgf")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "LaTeX" in err and ".png" in err and ".pgf" not in err.split("use")[1]
    assert list(tmp_path.iterdir()) == []


@posix_only
def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "m.json"
    os.mkfifo(fifo)
    process = start("train", "xor", "--load", str(fifo))
    try:
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 1
    assert err == (
        f"tinygrad-bp train: error: cannot load {str(fifo)!r}: a named pipe (FIFO), "
        "not a regular file; a model file is a file\n"
    )


NOT_REGULAR = "not a regular file; expected a regular file to replace or a new name"


@posix_only
def test_a_save_or_plot_target_that_is_not_a_regular_file_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Renaming the saved file over a FIFO (or, as root, over /dev/full, or over a
    # link to /dev/null) would replace it with a file: refused, and left as it is.
    fifo, image = tmp_path / "fifo.json", tmp_path / "fifo.png"
    os.mkfifo(fifo)
    os.mkfifo(image)
    link = tmp_path / "link.json"
    link.symlink_to(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    (tmp_path / "to-folder.json").symlink_to(folder)
    cases = [
        ("--save", fifo, "model file", "a named pipe (FIFO)"),
        ("--save", link, "model file", "a named pipe (FIFO)"),
        ("--save", tmp_path / "to-folder.json", "model file", "it is a directory"),
    ]
    try:
        import matplotlib  # noqa: F401

        cases.append(("--plot", image, "plot", "a named pipe (FIFO)"))
    except ImportError:
        pass
    for flag, target, what, kind in cases:
        assert cli.main(["train", "xor", "--steps", "1", flag, str(target)]) == 1, target
        out, err = capsys.readouterr()
        assert out == "", target  # refused before the line that announces the training
        assert err.startswith(
            f"tinygrad-bp train: error: cannot write the {what} {str(target)!r}: {kind}"
        ), err
        assert len(err.splitlines()) == 1
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and stat.S_ISFIFO(os.lstat(image).st_mode)
    assert os.readlink(link) == str(fifo) and folder.is_dir()
    names = ["fifo.json", "fifo.png", "folder", "link.json", "to-folder.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == names  # no temporary left


@posix_only
def test_save_replaces_only_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "m.json"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match=f"a named pipe \\(FIFO\\), {NOT_REGULAR}"):
        save(MLP(2, [1]), fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


@posix_only
@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
@pytest.mark.parametrize("command", ["draw", "viz"])
def test_draw_and_viz_refuse_an_output_that_is_not_a_regular_file(
    command: str, tmp_path: Path
) -> None:
    ending = ".svg" if command == "draw" else ".html"
    fifo = tmp_path / f"fifo{ending}"
    os.mkfifo(fifo)
    device = tmp_path / f"null{ending}"
    device.symlink_to("/dev/null")
    folder = tmp_path / f"folder{ending}"
    folder.mkdir()
    for target, kind in [
        (fifo, "a named pipe (FIFO)"),
        (device, "a character device"),
        (folder, "a directory"),
    ]:
        # A process of its own: a write to the FIFO would wait for a reader for ever.
        process = start(command, "x*y", "x=2", "y=3", "-o", str(target))
        try:
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()
        assert (process.returncode, out) == (1, ""), err
        assert err == f"tinygrad-bp: error: cannot write {target}: {kind}, {NOT_REGULAR}\n"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.readlink(device) == "/dev/null"


def test_a_diverging_run_is_one_line_and_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = MLP(2, [16, 16, 1])
    for p in model.parameters():
        p.data = 1e300
    save(model, tmp_path / "big.json")
    before = (tmp_path / "big.json").read_bytes()
    argv = ["train", "moons", "--steps", "3", "--load", str(tmp_path / "big.json")]
    assert cli.main([*argv, "--save", str(tmp_path / "big.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tinygrad-bp train: error: training stopped: SGD.step: the gradient")
    assert "expected a finite number" in err and len(err.splitlines()) == 1
    assert (tmp_path / "big.json").read_bytes() == before  # nothing diverged was saved


def test_a_model_file_with_a_huge_integer_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save(MLP(2, [16, 16, 1]), tmp_path / "m.json")
    doc = json.loads((tmp_path / "m.json").read_text())
    doc["weights"][2][0][15] = 10**400
    (tmp_path / "m.json").write_text(json.dumps(doc))
    assert cli.main(["train", "moons", "--load", str(tmp_path / "m.json")]) == 1
    err = capsys.readouterr().err
    assert "weights[2][0][15]: expected a finite number, got an int of 401 digits" in err
    assert len(err.splitlines()) == 1


# -- what is printed ------------------------------------------------------------------------
def test_a_long_path_is_printed_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / ("d" * 120)
    directory.mkdir()
    target = directory / "graph.dot"
    assert cli.main(["draw", "mazur", "-o", str(target)]) == 0
    assert capsys.readouterr().out.startswith(f"Wrote {target}: the article's network")


def test_an_escape_in_an_argument_is_shown_escaped_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (
        ["mazur", "--explain", "w5\x1b[31m"],
        ["draw", "mazur", "-o", "g.svg", "--highlight", "w5\x1b[31m"],
        ["draw", "mazur", "-o", "g\x1b[31m.xyz"],
        ["viz", "mazur", "-o", "page\x1b[31m.txt"],
    ):
        try:
            status = cli.main(argv)
        except SystemExit as exit:  # a usage error, found by argparse
            status = int(exit.code or 0)
        assert status in (1, 2)
        err = capsys.readouterr().err
        assert "\x1b" not in err and "\\x1b[31m" in err and "\\\\x1b" not in err, err


def test_one_step_is_singular(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["train", "xor", "--steps", "1"]) == 0
    out = capsys.readouterr().out
    assert ": 1 step of full-batch SGD" in out
    assert re.search(r" after 1 step in [\d.]+ s$", out.rstrip().splitlines()[-1])
    assert "1 steps" not in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"tinygrad-bp {__version__}\n"


# -- another nn ------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["nn.py", "nn/__init__.py"])
def test_a_students_own_nn_is_named_not_run(tmp_path: Path, layout: str) -> None:
    theirs = tmp_path / layout
    theirs.parent.mkdir(exist_ok=True)
    theirs.write_text("print('the student module ran')\n")
    done = subprocess.run(
        [*COMMAND, "mazur"], capture_output=True, text=True, cwd=tmp_path, env=environment()
    )
    assert done.returncode == 1
    assert "the student module ran" not in done.stdout
    assert done.stderr.startswith(f"tinygrad-bp: error: another module named nn ({theirs}) hides")
    assert str(ROOT / "nn") in done.stderr and len(done.stderr.splitlines()) == 1
