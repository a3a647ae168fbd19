"""Helpers several ``nn`` modules share: messages, writing files safely, Ctrl-C in loops.

Nothing here is public API: ``module``, ``serialize``, ``plot``, ``train``
and ``mazur`` use it, and the command line uses ``check_writable`` to find a
bad target before it trains. The engine (``tinygrad_bp``) never imports ``nn``; should it need
these one day, they move there.

>>> short_repr("x" * 100)
"'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."
>>> describe([1, 2, 3])
'a list of 3'
"""

from __future__ import annotations

import errno
import math
import numbers
import os
import secrets
import signal
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from tinygrad_bp.checks import not_a_regular_file, special_target

PathLike = str | os.PathLike[str]


def short_repr(x: object, limit: int = 40) -> str:
    """``repr(x)`` cut to ``limit`` characters: an error message quotes what came, briefly.

    An int too long to print says how long it is instead (Python refuses to
    turn an int of over 4300 digits into text, and its digits say nothing).

    >>> short_repr(0.5), short_repr(None)
    ('0.5', 'None')
    >>> short_repr(-(10**400))
    'an int of 401 digits'
    """
    if type(x) is int and x.bit_length() > 4 * limit:
        try:
            return f"an int of {len(str(abs(x)))} digits"
        except ValueError:  # past sys.get_int_max_str_digits()
            return f"an int of about {int(x.bit_length() * 0.30103)} digits"
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(x: object) -> str:
    """Like ``short_repr``, but a list or tuple by its length: what a shape check reports.

    >>> describe((0.1, 0.2)), describe("w1")
    ('a tuple of 2', "'w1'")
    """
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of {len(x)}"
    return short_repr(x)


def plural(n: int, word: str) -> str:
    """``n`` and ``word``, with an s unless n is 1.

    >>> plural(1, "step"), plural(3, "update"), plural(0, "update")
    ('1 step', '3 updates', '0 updates')
    """
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# -- Ctrl-C in a training loop -----------------------------------------------------------
class StopRequest:
    """Set by Ctrl-C inside ``stop_requests()``; a loop reads ``requested`` between updates."""

    requested = False


# The requests of the loops running in the main thread, innermost last: what
# request_stop() asks (a signal handler runs in the main thread only).
_listening: list[StopRequest] = []


@contextmanager
def stop_requests() -> Iterator[StopRequest]:
    """Within the block, the first Ctrl-C asks the loop to stop instead of raising at once.

    A KeyboardInterrupt raised in the middle of an update could leave some
    parameters updated and others not; a loop that polls the request between
    updates stops with every parameter exactly one update further. A second
    Ctrl-C interrupts at once, as usual, for a user who does not want to wait.
    ``request_stop()`` asks the same of the loop (the command line's SIGTERM).

    Signals reach only the main thread, and a program may have its own SIGINT
    handler: then nothing is changed and Ctrl-C behaves as it would anyway.
    """
    request = StopRequest()
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT)
    take_sigint = main_thread and previous is signal.default_int_handler

    def ask_to_stop(signum: int, frame: object) -> None:
        request.requested = True
        signal.signal(signal.SIGINT, previous)  # the next Ctrl-C raises

    if main_thread:
        _listening.append(request)
    if take_sigint:
        signal.signal(signal.SIGINT, ask_to_stop)
    try:
        yield request
    finally:
        if take_sigint:
            signal.signal(signal.SIGINT, previous)
        if main_thread:
            _listening.remove(request)


def request_stop() -> bool:
    """Ask the innermost loop within ``stop_requests()`` to stop, as a first Ctrl-C does.

    For a signal handler (the command line's SIGTERM): True if a loop was
    listening and had not been asked yet, False if none is (before or after
    the loop, or asked already), where the caller should stop some other way.
    """
    if not _listening or _listening[-1].requested:
        return False
    _listening[-1].requested = True
    return True


# -- writing files -----------------------------------------------------------------------
def resolve_target(path: PathLike) -> str:
    """The file a write to ``path`` should change: a symbolic link's target, not the link.

    Renaming a new file over a link would replace the link itself and leave
    the file it points at stale; writing to the real path keeps the link.
    """
    return os.path.realpath(os.fspath(path))


def check_writable(path: PathLike) -> None:
    """Raise OSError now if ``atomic_write(path)`` could not write ``path``.

    Tried, not guessed: a temporary file is made beside the target and
    removed again, which is what a save needs (a read-only or missing
    directory, ``/proc``, no permission). An empty path or a directory in
    the target's place is refused as well, and so is anything else that is
    not a regular file (a FIFO, a device). A command calls this before a
    long run so that a typo does not cost the run.
    """
    raw = os.fspath(path)
    if not raw:
        raise FileNotFoundError(errno.ENOENT, "an empty path names no file", raw)
    target = resolve_target(raw)
    if os.path.isdir(target) or raw.endswith(("/", os.sep)):
        raise IsADirectoryError(errno.EISDIR, "it is a directory; expected a file name", raw)
    _refuse_special(target, raw)
    directory, name = os.path.split(target)
    if not os.path.isdir(directory):
        if os.path.exists(directory):
            raise NotADirectoryError(errno.ENOTDIR, f"{directory!r} is not a directory", raw)
        raise FileNotFoundError(errno.ENOENT, f"the directory {directory!r} does not exist", raw)
    tmp, fd = _create_temporary(directory, name, 0o600)
    os.close(fd)
    os.unlink(tmp)


@contextmanager
def atomic_write(path: PathLike, encoding: str | None = None) -> Iterator[IO[Any]]:
    """Write the file at ``path`` all at once or not at all.

    The block writes to a new temporary file beside the target (text in
    ``encoding`` if given, else bytes). When the block ends, the file is
    flushed, fsynced and renamed over the target in one step (``os.replace``,
    atomic on POSIX and Windows), so a reader sees the old file or the new
    one, never half of one. On any exception, KeyboardInterrupt included,
    the temporary file is removed and the target is untouched.

    Only a regular file is replaced: a FIFO or a device (/dev/null, or a
    link to it) is refused with an OSError, where renaming over it would
    destroy it. A symbolic link is kept: its target is written. A file that
    exists keeps its permission bits (and, where allowed, its owner); a new
    one gets 0o666 less the umask, as ``open()`` would give it.

    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> with atomic_write(path, encoding="utf-8") as f:
    ...     _ = f.write("hello")
    >>> open(path).read()
    'hello'
    """
    target = resolve_target(path)
    directory, name = os.path.split(target)
    try:
        old: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        old = None
    if old is not None:
        _refuse_special(target, os.fspath(path), old.st_mode)
    # An existing file's contents may be private: the temporary starts as
    # 0o600 and only then takes the old file's mode, so no byte of the new
    # contents is ever readable more widely than the file it replaces.
    tmp, fd = _create_temporary(directory, name, 0o666 if old is None else 0o600)
    try:
        if old is not None:
            _copy_owner_and_mode(fd, old)
        with os.fdopen(fd, "wb" if encoding is None else "w", encoding=encoding) as f:
            fd = -1  # the file object owns it now and closes it
            yield f
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, target)
    except BaseException:  # KeyboardInterrupt too: never leave the temporary behind
        if fd >= 0:
            os.close(fd)
        _remove(tmp)
        raise
    _fsync_directory(directory)


def _refuse_special(target: str, raw: str, mode: int | None = None) -> None:
    """Raise OSError if ``target`` (links followed; ``mode`` if known) exists and is not a
    regular file: renaming a new file over a FIFO or a device would destroy it."""
    kind = special_target(target) if mode is None else not_a_regular_file(mode)
    if kind is not None:
        raise OSError(
            errno.EINVAL,
            f"{kind}, not a regular file; expected a regular file to replace or a new name",
            raw,
        )


def _longest_name(directory: str) -> int:
    """The most bytes a file name may have in ``directory`` (255 where it cannot be asked)."""
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # Windows has no pathconf
        return 255


def _temporary_name(name: str, longest: int) -> str:
    """A hidden, random name for the temporary beside ``name``, at most ``longest`` bytes.

    The target's own name may already be as long as allowed: then it is cut
    short in the temporary's (a character at a time, never inside one), which
    is still unique by its random part and still tells whose it is.
    """
    suffix = f".{secrets.token_hex(4)}.tmp"
    stem = f".{name}"
    while len(os.fsencode(stem + suffix)) > longest and len(stem) > 1:
        stem = stem[:-1]
    return stem + suffix


def _create_temporary(directory: str, name: str, mode: int) -> tuple[str, int]:
    """A new, exclusively created file beside the target: (path, descriptor)."""
    longest = _longest_name(directory)
    while True:
        tmp = os.path.join(directory, _temporary_name(name, longest))
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue
        except BaseException:
            # An interrupt can land after the file was made but before its name
            # reached the caller: remove it here (ours, since O_EXCL succeeded or
            # nothing was made).
            _remove(tmp)
            raise


def _copy_owner_and_mode(fd: int, old: os.stat_result) -> None:
    if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.fchown(fd, old.st_uid, old.st_gid)
        except OSError:
            pass  # only the superuser may give a file away; the mode still follows
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(old.st_mode))


def _remove(path: str) -> None:
    """Remove a temporary file if it is there; cleaning up never hides the first error."""
    try:
        os.unlink(path)
    except OSError:
        pass


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) on Windows.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def finite_number(x: object, where: str) -> float:
    """``x`` as a float if it is a finite real number (not a bool), else a ValueError naming
    ``where``: what a weight read from a list, a file or a state dict must be."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{where}: expected a finite number, got {describe(x)}")
    try:
        value = float(x)
    except OverflowError:  # an int (or Fraction) past the largest float, ~1.8e308
        raise ValueError(
            f"{where}: expected a finite number, got {describe(x)}, too large for a float"
        ) from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number, got {describe(x)}")
    return value
