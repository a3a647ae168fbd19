"""A graph from a user's own Python file: file.py:function."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from tinygrad_bp import Value
from tinygrad_bp.cli.userfile import UserCodeError, UserFileError, is_reference, load


def write(tmp_path: Path, source: str, name: str = "mine.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


NEURON = """
    from tinygrad_bp import Value

    def neuron():
        x = Value(2.0, "x")
        w = Value(-3.0, "w")
        b = Value(6.8813735870195432, "b")
        out = (x * w + b).tanh()
        out.label = "out"
        return out, [w, b]

    def plain():
        a = Value(3.0, "a")
        return a * a

    def done():
        a = Value(3.0, "a")
        y = a * 4.0
        y.backward()
        return y

    if __name__ == "__main__":
        raise SystemExit("the main block ran")
"""


def test_a_root_with_parameters(tmp_path: Path) -> None:
    path = write(tmp_path, NEURON)
    graph = load(f"{path}:neuron")
    assert graph.root.label == "out" and graph.root.grad == 1.0
    assert [p.label for p in graph.parameters or []] == ["w", "b"]
    assert graph.parameters is not None and graph.parameters[0].grad == pytest.approx(1.0)


def test_backward_is_run_once(tmp_path: Path) -> None:
    path = write(tmp_path, NEURON)
    graph = load(f"{path}:plain")
    assert graph.parameters is None and graph.root.parents[0].grad == 6.0
    done = load(f"{path}:done")  # already run: not run again (a leaf would get 8)
    assert done.root.parents[0].grad == 4.0


def test_the_file_can_import_its_neighbours(tmp_path: Path) -> None:
    write(tmp_path, "SCALE = 5.0\n", name="helper.py")
    path = write(
        tmp_path,
        """
        from helper import SCALE
        from tinygrad_bp import Value

        def f():
            return Value(1.0, "x") * SCALE
        """,
    )
    assert load(f"{path}:f").root.data == 5.0
    assert str(tmp_path) not in sys.path  # put back as it was


def test_references() -> None:
    assert is_reference("a/b.py:f") and is_reference("b.py") and is_reference("C:\\x\\b.py:f")
    assert not is_reference("tanh(x)") and not is_reference("mazur")


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("{path}", "name the function to call after a colon: .*mine.py:function"),
        ("{path}:", "name the function to call after a colon"),
        ("{path}:nope", "has no function nope; functions defined there: neuron, plain, done"),
        ("{path}:1x", "'1x' is not a function's name"),
        ("{dir}/missing.py:f", "cannot open .*missing.py': no such file"),
        ("{dir}/sub.py:f", "cannot open .*sub.py': a directory"),
    ],
)
def test_a_reference_that_leads_nowhere(tmp_path: Path, reference: str, message: str) -> None:
    path = write(tmp_path, NEURON)
    (tmp_path / "sub.py").mkdir()
    with pytest.raises(UserFileError, match=message) as info:
        load(reference.format(path=path, dir=tmp_path))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("def f():\n    return 3.0\n", "returned a float; expected a Value"),
        ("def f():\n    return None\n", "returned a NoneType; expected a Value"),
        ("def f():\n    return (1, 2, 3)\n", "returned a tuple of 3; expected"),
        (
            "from tinygrad_bp import Value\ndef f():\n    return Value(1.0), 5\n",
            "parameters that are a int",
        ),
        (
            "from tinygrad_bp import Value\ndef f():\n    return Value(1.0), [Value(1.0), 2]\n",
            r"parameters\[1\], a int; every parameter must be a Value",
        ),
        ("def f(x):\n    return x\n", r"needs arguments \(x\); it is called with none"),
        ("f = 3\n", "has something not callable called f"),
    ],
)
def test_what_the_function_returns_is_checked(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(UserFileError, match=message):
        load(f"{path}:f")


def test_an_error_in_the_function_shows_the_users_traceback(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        def helper():
            return 1 / 0

        def f():
            return helper()
        """,
    )
    with pytest.raises(UserCodeError) as info:
        load(f"{path}:f")
    text = info.value.traceback
    assert text.startswith("Traceback (most recent call last):")
    assert f'File "{path}", line 6, in f' in text and "in helper" in text
    assert text.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "userfile.py" not in text and "importlib" not in text


def test_an_error_at_import_shows_the_users_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "x = 1\nraise ValueError('bad data')\n")
    with pytest.raises(UserCodeError) as info:
        load(f"{path}:f")
    text = info.value.traceback
    assert f'File "{path}", line 2, in <module>' in text
    assert text.rstrip().endswith("ValueError: bad data") and "importlib" not in text


def test_a_syntax_error_is_shown_as_python_shows_it(tmp_path: Path) -> None:
    path = write(tmp_path, "def f(:\n    pass\n")
    with pytest.raises(UserCodeError) as info:
        load(f"{path}:f")
    text = info.value.traceback
    assert f'File "{path}", line 1' in text and "SyntaxError" in text
    assert "Traceback" not in text  # nothing of ours to show


def test_an_error_inside_the_library_keeps_the_users_frames_first(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        from tinygrad_bp import Value

        def f():
            return Value(1.0).log() * Value(-1.0).log()
        """,
    )
    with pytest.raises(UserCodeError) as info:
        load(f"{path}:f")
    lines = info.value.traceback.splitlines()
    assert lines[1].strip() == f'File "{path}", line 5, in f'
    assert lines[-1].startswith("ValueError: log")


def test_sys_exit_in_the_users_file_is_their_error(tmp_path: Path) -> None:
    path = write(tmp_path, "import sys\ndef f():\n    sys.exit('stop')\n")
    with pytest.raises(UserCodeError) as info:
        load(f"{path}:f")
    assert info.value.traceback.rstrip().endswith("SystemExit: stop")


def test_ctrl_c_is_not_swallowed(tmp_path: Path) -> None:
    path = write(tmp_path, "def f():\n    raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        load(f"{path}:f")


def test_the_result_is_a_value(tmp_path: Path) -> None:
    path = write(tmp_path, NEURON)
    assert isinstance(load(f"{path}:plain").root, Value)
