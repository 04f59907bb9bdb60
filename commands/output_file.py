"""The files Between writes where ``-o`` says: a regular file written whole, or one-line refusal.

Every command that writes a file the user names (``report -o``, ``export fhir -o``) goes
through here, so they all follow one rule (docs/reports.md, docs/fhir.md):

* ``-o FILE`` writes a regular file: a new one, or a new version of an existing regular file.
  Anything else at FILE is refused before any work is done, and left as it is: a folder, a
  device (``/dev/full``), a FIFO, a socket, and a symbolic link — Between never writes through
  a link nor replaces one (it never makes links itself).
* ``-o FOLDER/`` (a trailing ``/``) writes the command's own file name inside that folder, which
  must exist; ``-o`` with an empty value is refused; ``-o -`` is standard output.
* The file is written to a temporary file in the same folder (readable by its owner only: it
  holds health information), then renamed over FILE, which is checked again just before: a
  reader never sees half a file, and on any failure the temporary file is removed and FILE is
  as it was. Nothing outside FILE and that temporary file is touched.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO

from between.engine.errors import BetweenError, InvalidInput

#: ``-o -``: standard output.
STDOUT = "-"


def shown(path: Path | str) -> str:
    """A path as a message shows it: as it is, or quoted when it holds unprintable characters
    (a newline in a file name must not break an error's one line)."""
    text = str(path)
    return text if text.isprintable() else repr(text)


def output_target(given: str, default_name: str, option: str = "-o") -> Path:
    """The file ``-o GIVEN`` names: GIVEN itself, or ``default_name`` inside GIVEN when GIVEN
    ends in ``/`` (an existing folder). ``InvalidInput``, in one line, for anything that is not
    (or cannot become) a regular file."""
    _usable(given, option)
    target = output_folder(given, option) / default_name if names_folder(given) else Path(given)
    check_writable(target, option, default_name)
    return target


def output_folder(given: str, option: str = "-o") -> Path:
    """The existing folder ``-o GIVEN/`` names, or ``InvalidInput`` naming it."""
    _usable(given, option)
    folder = Path(given)
    try:
        is_folder = folder.is_dir()  # the folder itself may be reached through links
    except OSError as e:
        raise InvalidInput(
            "%(option)s %(path)s: %(reason)s", option=option, path=shown(given), reason=_why(e)
        ) from None
    if not is_folder:
        named = {"option": option, "path": shown(given), "folder": shown(given.rstrip(os.sep))}
        if not _exists(folder):
            raise InvalidInput(
                "%(option)s %(path)s: there is no folder %(folder)s; create it first, "
                "or leave out the trailing / to name a file",
                **named,
            )
        raise InvalidInput(
            "%(option)s %(path)s: there is no folder %(folder)s (it is not a folder); "
            "name a file or a folder",
            **named,
        )
    return folder


def _usable(given: str, option: str) -> None:
    if given == "":
        raise InvalidInput(
            "%(option)s needs a file name (or - for standard output), not an empty value",
            option=option,
        )
    if "\x00" in given:
        raise InvalidInput(
            "%(option)s %(path)s is not a usable path (it holds a NUL)",
            option=option,
            path=shown(given),
        )


def names_folder(given: str) -> bool:
    """Whether ``-o GIVEN`` names a folder to write the default file in (``-o DIR/``)."""
    return given.endswith(os.sep) or os.path.basename(given) in ("", ".", "..")


def check_writable(target: Path, option: str = "-o", default_name: str | None = None) -> None:
    """Refuse, in one line, unless ``target`` is a regular file or nothing, in a folder."""
    folder = target.parent
    try:
        if not folder.is_dir():
            named = {"path": shown(target), "folder": shown(folder)}
            if not _exists(folder):
                raise InvalidInput(
                    "cannot write %(path)s: the folder %(folder)s does not exist; create it first",
                    **named,
                )
            raise InvalidInput(
                "cannot write %(path)s: the folder %(folder)s does not exist (it is not a folder)",
                **named,
            )
        found = os.lstat(target)
    except FileNotFoundError:
        return
    except OSError as e:
        raise InvalidInput(
            "cannot write %(path)s: %(reason)s", path=shown(target), reason=_why(e)
        ) from None
    refusal = _not_regular(target, found.st_mode, option, default_name)
    if refusal:
        raise refusal


def _not_regular(
    target: Path, mode: int, option: str, default_name: str | None
) -> InvalidInput | None:
    """The refusal of ``target`` (of this ``lstat`` mode) when it is not a file Between may
    write, or None."""
    named = {"option": option, "path": shown(target)}
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        try:
            to = shown(os.readlink(target))
        except OSError:
            return InvalidInput(
                "%(option)s %(path)s is a symbolic link; Between neither writes through nor "
                "replaces a link: name the file itself, or another path",
                **named,
            )
        return InvalidInput(
            "%(option)s %(path)s is a symbolic link (to %(to)s); Between neither writes "
            "through nor replaces a link: name the file itself, or another path",
            to=to,
            **named,
        )
    if stat.S_ISDIR(mode):
        if default_name:
            return InvalidInput(
                "%(option)s %(path)s is a folder; end it with / to write %(name)s inside it, "
                "or name a file",
                name=default_name,
                **named,
            )
        return InvalidInput(
            "%(option)s %(path)s is a folder; end it with /, or name a file", **named
        )
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return InvalidInput(
            "%(option)s %(path)s is a device, not a regular file; "
            "name a file, or - for standard output",
            **named,
        )
    if stat.S_ISFIFO(mode):
        return InvalidInput(
            "%(option)s %(path)s is a FIFO (named pipe), not a regular file; "
            "name a file, or - for standard output",
            **named,
        )
    if stat.S_ISSOCK(mode):
        return InvalidInput(
            "%(option)s %(path)s is a socket, not a regular file; "
            "name a file, or - for standard output",
            **named,
        )
    return InvalidInput(
        "%(option)s %(path)s is not a regular file; name a file, or - for standard output",
        **named,
    )


def _why(error: OSError) -> str:
    """What the operating system said went wrong."""
    return str(error.strerror or error)


def _exists(path: Path) -> bool:
    try:
        os.lstat(path)
    except (OSError, ValueError):
        return False
    return True


class OutputFile:
    """A new version of ``target``: written to a temporary file beside it, then renamed over
    it by ``commit`` (or removed by ``discard``). Use as a context manager to do either."""

    def __init__(self, target: Path, option: str = "-o") -> None:
        check_writable(target, option)
        self.target, self.option = target, option
        try:
            handle, name = tempfile.mkstemp(
                prefix=f".{target.name[:100]}.", suffix=".tmp", dir=target.parent
            )  # mkstemp's file is its owner's alone; its name fits wherever the target's does
        except OSError as e:
            raise InvalidInput(
                "cannot write %(path)s: %(reason)s (in %(folder)s)",
                path=shown(target),
                reason=_why(e),
                folder=shown(target.parent),
            ) from None
        self.temporary = Path(name)
        self.file: IO[str] = os.fdopen(handle, "w", encoding="utf-8")

    def commit(self) -> None:
        """Flush the file to disk and rename it over ``target`` (checked again first)."""
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            check_writable(self.target, self.option)  # it may have changed since the start
            os.replace(self.temporary, self.target)  # renames over a file; never follows a link
        except InvalidInput:
            self.discard()
            raise
        except OSError as e:
            self.discard()
            raise BetweenError(
                "cannot write %(path)s: %(reason)s; it was left as it was",
                path=shown(self.target),
                reason=_why(e),
            ) from None

    def discard(self) -> None:
        """Remove the temporary file; ``target`` stays as it was."""
        try:
            if not self.file.closed:
                self.file.close()
        except OSError:
            pass  # a failed flush (a full disk): the file is going anyway
        self.temporary.unlink(missing_ok=True)

    def __enter__(self) -> IO[str]:
        return self.file

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self.commit()
            return
        self.discard()
        if isinstance(error, OSError):
            raise BetweenError(
                "cannot write %(path)s: %(reason)s; it was left as it was",
                path=shown(self.target),
                reason=_why(error),
            ) from None


def write_output(target: Path, text: str, option: str = "-o") -> None:
    """Write ``text`` to ``target`` whole, or leave it as it was (see ``OutputFile``)."""
    with OutputFile(target, option) as out:
        out.write(text)
