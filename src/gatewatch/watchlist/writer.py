"""Writing a watchlist: atomic, with a .bak, the file's mode kept, and no lost edits.

Why each step: the temporary file lives in the same folder so the final rename is atomic
(a crash leaves either the old file or the new one, never half of each); fsync before the
rename so the new name never points at unwritten blocks, and of the folder after it so
the rename itself survives a power cut; ``.bak`` is the undo for a bad edit; the mode is
kept because the file may name tokens and proxy credentials (new files get 0o600).
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import stat
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from gatewatch.watchlist.document import Watchlist
from gatewatch.watchlist.errors import WatchlistConflict, WatchlistError
from gatewatch.watchlist.reader import digest, parse_text

_NEW_FILE_MODE = 0o600  # a watchlist may name tokens (env: refs) and proxy credentials
#: A table too long to be inlined, appended to [[endpoint]] while rendering (see render()).
_LAYOUT_SENTINEL = {"gatewatch-layout-sentinel": "x" * 100}


#: Digest of the last bytes this process wrote to each file, so that a watchlist derived
#: from an older save (wl → save → wl.with_endpoint → save) is not mistaken for a conflict.
_LAST_WRITTEN: dict[str, str] = {}
_SAVE_LOCK = threading.Lock()


def default_path() -> Path:
    """``$GATEWATCH_WATCHLIST``, else ``watchlist.toml`` in the user's config folder."""
    override = os.environ.get("GATEWATCH_WATCHLIST")
    if override:
        return Path(os.path.expanduser(override))
    return Path(platformdirs.user_config_dir("gatewatch", appauthor=False)) / "watchlist.toml"


def render(document: Mapping[str, Any]) -> str:
    """``document`` as TOML text, with endpoints always written as ``[[endpoint]]`` tables.

    Why not plain ``tomli_w.dumps``: it writes an array of tables inline
    (``endpoint = [{ name = "a", … }]``) whenever every table fits on a line, so adding
    one long endpoint would reformat the whole file. A sentinel table that never fits
    makes tomli-w choose ``[[endpoint]]``; its chunk is then cut out. tomli-w writes no
    raw newline inside strings, so the chunk can only match the sentinel itself, and
    save() re-reads the result anyway.
    """
    tables = document.get("endpoint")
    if not (isinstance(tables, list) and tables and all(isinstance(t, dict) for t in tables)):
        return tomli_w.dumps(document)
    text = tomli_w.dumps({**document, "endpoint": [*tables, _LAYOUT_SENTINEL]})
    chunk = "\n[[endpoint]]\n" + tomli_w.dumps(_LAYOUT_SENTINEL)
    if text.count(chunk) != 1:  # pragma: no cover - a tomli-w that lays tables out anew
        return tomli_w.dumps(document)
    return text.replace(chunk, "")


def save(
    watchlist: Watchlist, path: str | os.PathLike[str] | None = None, *, force: bool = False
) -> Watchlist:
    """Write ``watchlist`` to ``path`` (default: ``watchlist.path``) atomically.

    The new text is first checked to load back to the same document. Then: a temporary
    file in the same folder is written, flushed and fsynced; the current file (if any)
    becomes ``<name>.bak``; the temporary file is renamed over it; the folder is fsynced.
    The file keeps its mode (a new one gets 0o600) and a symlink keeps pointing at it.
    If anything fails, the old file is untouched and the temporary file removed.

    Saving back to the file it was loaded from raises WatchlistConflict if the file was
    changed on disk since (by an editor, or another gatewatch) and ``force`` is false, so
    those edits are not silently replaced. Returns the saved watchlist: keep using that
    one (it knows what is on disk now).
    """
    if path is not None:
        label = os.fspath(path)
        target = Path(os.path.expanduser(label))
    elif watchlist.path is not None:
        label, target = watchlist._label, watchlist.path
    else:
        raise ValueError("this watchlist has no file: pass save(watchlist, path)")
    try:
        text = render(watchlist._document)
    except (TypeError, ValueError) as exc:
        raise WatchlistError(f"can't be written as TOML: {exc}", path=label) from None
    saved = parse_text(text, label=label, path=target)
    if render(saved._document) != text:  # pragma: no cover - a tomli-w/tomllib bug
        raise WatchlistError("would not read back the same; nothing was written", path=label)
    data = text.encode("utf-8")
    real = Path(os.path.realpath(target))
    same_file = watchlist.path is not None and real == Path(os.path.realpath(watchlist.path))
    with _SAVE_LOCK:
        if not force and same_file and watchlist._disk_known:
            _refuse_if_changed(real, watchlist._digest, label)
        _write_atomic(real, data)
        _LAST_WRITTEN[str(real)] = digest(data)
    saved._disk_known, saved._digest = True, digest(data)
    return saved


def _refuse_if_changed(real: Path, loaded: str | None, label: str) -> None:
    try:
        current = digest(real.read_bytes())
    except FileNotFoundError:
        return  # deleted meanwhile: writing it again loses nothing
    if current in (loaded, _LAST_WRITTEN.get(str(real))):
        return
    raise WatchlistConflict(
        "the file changed on disk since it was loaded; reload it (or save with force=True "
        "to replace it, the current file is then kept as .bak)"
        if loaded is not None
        else "the file exists now (it did not when this watchlist was started); load it instead",
        path=label,
    )


def remove_leftovers(real: Path) -> list[str]:
    """Remove the temporary files of saves of ``real`` that were killed mid-way.

    A save holds an exclusive ``flock`` on its temporary file until the rename, and the
    kernel drops it when the process dies. So a ``.<name>.*.tmp`` that can be locked
    belongs to no living save: remove it. One that can't is another gatewatch saving right
    now: leave it. Returns the names removed.
    """
    removed = []
    for leftover in real.parent.glob(f".{glob.escape(real.name)}.*.tmp"):
        try:
            fd = os.open(leftover, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a save in progress
        else:
            with contextlib.suppress(OSError):
                if os.path.samestat(os.fstat(fd), os.lstat(leftover)):
                    os.unlink(leftover)
                    removed.append(leftover.name)
        finally:
            os.close(fd)  # releases the lock
    return removed


def _locked_temp(folder: Path, prefix: str) -> tuple[int, str]:
    """A new temporary file in ``folder``, open and flocked (see remove_leftovers).

    Between creating and locking it, another process's cleanup could lock and remove it;
    then the name no longer leads to our file, and we take a new one.
    """
    while True:
        fd, name = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".tmp")
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.path.samestat(os.fstat(fd), os.lstat(name)):
                return fd, name
        except FileNotFoundError:
            pass
        os.close(fd)


def _write_atomic(real: Path, data: bytes) -> None:
    folder = real.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(os.stat(real).st_mode)
    except FileNotFoundError:
        mode = None
    remove_leftovers(real)
    fd, tmp_name = _locked_temp(folder, f".{real.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:  # closing it (after the rename) drops the lock
            os.chmod(tmp_name, _NEW_FILE_MODE if mode is None else mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            if mode is not None:
                _backup(real)
            os.replace(tmp_name, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_folder(folder)


def _backup(real: Path) -> None:
    """Make ``<name>.bak`` the current file, atomically: a hard link to it when the file
    system allows (no copy, same mode), else a copy; then renamed over the old .bak.

    The link lives for microseconds and holds no lock, so another gatewatch's
    :func:`remove_leftovers` may take it away in between: then it is made again.
    """
    for attempt in range(3):
        try:
            _backup_once(real)
            return
        except FileNotFoundError:
            if attempt == 2 or not real.exists():
                raise


def _backup_once(real: Path) -> None:
    backup = real.with_name(real.name + ".bak")
    tmp = real.with_name(f".{real.name}.bak.{os.urandom(4).hex()}.tmp")
    try:
        try:
            os.link(real, tmp)
        except FileNotFoundError:
            raise
        except OSError:
            data = real.read_bytes()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _NEW_FILE_MODE)
            with os.fdopen(fd, "wb") as handle:
                os.chmod(tmp, stat.S_IMODE(os.stat(real).st_mode))
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, backup)
        # rename() between two links of one file does nothing and leaves the source (a
        # save killed after its .bak was made left .bak and the file as one inode).
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; not possible everywhere (Windows), so best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
