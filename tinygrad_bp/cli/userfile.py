"""A graph from a user's own Python: ``path/to/file.py:function``, as the command line reads it.

``load("net.py:neuron")`` imports ``net.py`` (as a module: its
``if __name__ == "__main__":`` block does not run) and calls ``neuron()``
with no arguments. The function returns the root Value, or ``(root,
parameters)``; backward is run on the root if it was not. The file's folder
is first on the import path while it runs, so it can import its neighbours.

What goes wrong is told apart: a reference that does not lead to a
function, or a function that returns something else, is a
``UserFileError`` whose message is one line; an exception raised by the
user's code is a ``UserCodeError`` whose ``traceback`` is the user's,
starting at the user's file (the frames of this module and of importlib
are left out).

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "mine.py")
>>> with open(path, "w") as f:
...     _ = f.write("from tinygrad_bp import Value\\n"
...                 "def f():\\n    x = Value(3.0, 'x')\\n    return x * x\\n")
>>> graph = load(f"{path}:f")
>>> graph.root.data, graph.root.grad, graph.parameters
(9.0, 1.0, None)
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType

from ..value import Value

_REFERENCE = re.compile(r"^(?P<path>.+\.py)(?::(?P<function>[^:]*))?$", re.DOTALL)


class UserFileError(ValueError):
    """A ``file.py:function`` that cannot be used; the message is one line."""


class UserCodeError(Exception):
    """The user's code raised; ``traceback`` is the user's, ready to print."""

    def __init__(self, reference: str, error: BaseException, text: str) -> None:
        super().__init__(f"{reference}: {type(error).__name__}: {error}")
        self.reference = reference
        self.error = error
        self.traceback = text


@dataclass(frozen=True)
class Graph:
    """What the function returned: its ``root`` (backward run) and its ``parameters`` or None."""

    reference: str
    root: Value
    parameters: list[Value] | None


def is_reference(text: str) -> bool:
    """Whether ``text`` names a Python file (``file.py`` or ``file.py:function``).

    >>> is_reference("nets/neuron.py:neuron"), is_reference("tanh(x)")
    (True, False)
    """
    return _REFERENCE.match(text) is not None


def load(reference: str) -> Graph:
    """Import the file, call the function, check what it returned, run backward if needed."""
    match = _REFERENCE.match(reference)
    if match is None:
        raise UserFileError(f"{reference!r} is not a file and function; expected file.py:function")
    path, name = Path(match["path"]), match["function"]
    if not name:
        raise UserFileError(f"name the function to call after a colon: {match['path']}:function")
    if not name.isidentifier():
        raise UserFileError(f"{name!r} is not a function's name; expected file.py:function")
    if not path.is_file():
        why = "a directory" if path.is_dir() else "no such file"
        raise UserFileError(f"cannot open {str(path)!r}: {why}")
    with _folder_first(path.resolve().parent):
        module = _import(reference, path)
        function = getattr(module, name, None)
        if function is None or not callable(function):
            defined = [
                k
                for k, v in vars(module).items()
                if inspect.isfunction(v) and v.__module__ == module.__name__
            ]
            what = "no function" if function is None else "something not callable called"
            listed = f"; functions defined there: {', '.join(defined)}" if defined else ""
            raise UserFileError(f"{path} has {what} {name}{listed}")
        _check_no_arguments(reference, function)
        try:
            result = function()
        except (KeyboardInterrupt, GeneratorExit):
            raise
        except BaseException as e:  # SystemExit too: the user's sys.exit() is theirs to see
            raise UserCodeError(reference, e, _their_traceback(e, path)) from None
    return _graph(reference, result)


@contextmanager
def _folder_first(folder: Path) -> Iterator[None]:
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        try:
            sys.path.remove(str(folder))
        except ValueError:  # the user's code took it out itself
            pass


def _import(reference: str, path: Path) -> ModuleType:
    stem = path.stem if path.stem.isidentifier() else "user_module"
    module_name = f"_tinygrad_bp_user_{stem}"  # never a name another import could mean
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UserFileError(f"cannot import {str(path)!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickle look their module up there
    try:
        spec.loader.exec_module(module)
    except (KeyboardInterrupt, GeneratorExit):
        del sys.modules[module_name]
        raise
    except OSError as e:
        del sys.modules[module_name]
        if e.filename is not None and Path(e.filename).resolve() == path.resolve():
            raise UserFileError(f"cannot read {str(path)!r}: {e.strerror or e}") from None
        raise UserCodeError(reference, e, _their_traceback(e, path)) from None
    except BaseException as e:
        del sys.modules[module_name]
        raise UserCodeError(reference, e, _their_traceback(e, path)) from None
    return module


def _check_no_arguments(reference: str, function: object) -> None:
    try:
        signature = inspect.signature(function)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return  # no signature to read: the call will tell
    needed = [
        p.name
        for p in signature.parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if needed:
        raise UserFileError(
            f"{reference} needs arguments ({', '.join(needed)}); it is called with none, "
            "so give them defaults or write a function without arguments"
        )


def _their_traceback(error: BaseException, path: Path) -> str:
    """The traceback from the first frame in the user's file on (a SyntaxError: Python's form)."""
    tb: TracebackType | None = error.__traceback__
    mine = os.path.normcase(str(path.resolve()))
    while tb is not None:
        if os.path.normcase(os.path.realpath(tb.tb_frame.f_code.co_filename)) == mine:
            break
        tb = tb.tb_next
    if tb is None:  # no frame of theirs (a SyntaxError): Python's own short form
        return "".join(traceback.format_exception_only(type(error), error))
    return "".join(traceback.format_exception(type(error), error, tb))


def _graph(reference: str, result: object) -> Graph:
    expected = "expected a Value (the root) or (root, parameters)"
    parameters: list[Value] | None = None
    if isinstance(result, (tuple, list)) and not isinstance(result, Value):
        if len(result) != 2:
            raise UserFileError(
                f"{reference} returned a {type(result).__name__} of {len(result)}; {expected}"
            )
        root, given = result
        try:
            parameters = list(given)
        except TypeError:
            raise UserFileError(
                f"{reference} returned parameters that are a {type(given).__name__}, "
                "not a list of Values; expected (root, parameters)"
            ) from None
        for k, p in enumerate(parameters):
            if not isinstance(p, Value):
                raise UserFileError(
                    f"{reference} returned parameters[{k}], a {type(p).__name__}; "
                    "every parameter must be a Value"
                )
    else:
        root = result
    if not isinstance(root, Value):
        raise UserFileError(f"{reference} returned a {type(root).__name__}; {expected}")
    if root.grad == 0.0:  # backward() leaves 1.0 on the root: not run yet
        root.backward()
    return Graph(reference, root, parameters)
