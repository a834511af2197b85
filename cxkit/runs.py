"""Run control for unattended runs: one lock per reports folder, unique run ids, stale
temporary folders, SIGTERM/SIGINT, and the run history (``cxkit runs``).

The runner (:func:`cxkit.runner.run`) uses these in this order: take the lock
(:func:`hold_lock`), clean what a killed run left (:func:`clean_stale`), pick a free run id
(:func:`free_run_id`), execute with :func:`stop_on_signals` installed, release the lock.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from cxkit.rundir import Run

#: Lock file of a reports folder (filelock); ``.cxkit.lock.json`` says who holds it.
LOCK_NAME = ".cxkit.lock"

#: Exit codes of ``cxkit`` (README "Exit codes").
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ALERTS = 0, 1, 2, 3


class RunBusyError(RuntimeError):
    """Another run holds the reports folder's lock and the caller chose not to wait."""


class RunStopped(KeyboardInterrupt):
    """Raised in the main thread when the run receives SIGTERM or SIGINT.

    A KeyboardInterrupt, so that Papermill / nbclient shut the notebook's kernel down on the
    way out exactly as they do for Ctrl-C.
    """

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- lock
@contextlib.contextmanager
def hold_lock(out_dir: Path, *, run_id: str | None = None, wait: bool = True,
              say: Callable[[str], None] = print, poll: float = 0.5) -> Iterator[Path]:
    """Hold the lock of ``out_dir`` for the duration of the ``with`` block.

    Parameters
    ----------
    out_dir : Path
        The reports folder (created if missing).
    run_id : str, optional
        Written next to the lock, so a waiting run can say whom it waits for.
    wait : bool
        True: print one message naming the holder, then wait. False: raise
        :class:`RunBusyError` at once (``cxkit run --no-wait``, exit code 2).
    say : callable
        Where the waiting message goes.

    Examples
    --------
    >>> with hold_lock(Path("reports"), run_id="demo"):  # doctest: +SKIP
    ...     pass
    """
    from filelock import FileLock, Timeout

    out_dir.mkdir(parents=True, exist_ok=True)
    lock_path = out_dir / LOCK_NAME
    info_path = out_dir / f"{LOCK_NAME}.json"
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = _read_json(info_path) or {}
        who = (f"run {holder.get('run_id') or '?'} (pid {holder.get('pid', '?')}, started "
               f"{holder.get('started_at', '?')})")
        if not wait:
            raise RunBusyError(
                f"{out_dir} is in use by {who}; wait for it to finish, drop --no-wait to "
                f"queue behind it, or use another run.out_dir.") from None
        say(f"cxkit run: {out_dir} is in use by {who}; waiting for it to finish ...")
        lock.acquire(poll_interval=poll)
    try:
        note_holder(out_dir, run_id)
        yield lock_path
    finally:
        with contextlib.suppress(OSError):
            info_path.unlink()
        lock.release()


def note_holder(out_dir: Path, run_id: str | None) -> None:
    """Write who holds the lock (``.cxkit.lock.json``), for a waiting run's message; call
    it again once the run id is known. A courtesy: a failed write is ignored."""
    with contextlib.suppress(OSError):
        (out_dir / f"{LOCK_NAME}.json").write_text(
            json.dumps({"run_id": run_id, "pid": os.getpid(), "started_at": now_iso()}),
            encoding="utf-8")


def free_run_id(out_dir: Path, base: str | None = None) -> str:
    """A run id not yet used in ``out_dir``: the UTC second, then ``-2``, ``-3``, ...

    Call it while holding the lock, so two runs started in the same second cannot both
    pick the same id.
    """
    base = base or datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    candidate, n = base, 1
    while any(p.exists() or p.is_symlink() for p in run_paths(out_dir, candidate)):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def run_paths(out_dir: Path, run_id: str) -> tuple[Path, Path, Path]:
    """``(final, failed, tmp)`` folders of a run."""
    return out_dir / run_id, out_dir / f"{run_id}.failed", out_dir / f".{run_id}.tmp"


# --------------------------------------------------------------------------- stale runs
def clean_stale(out_dir: Path, *, found_by: str, say: Callable[[str], None] = print) -> list[Path]:
    """Turn every ``.<id>.tmp/`` left by a killed run into ``<id>.failed/``, and remove
    leftover ``.latest.*.tmp`` links. Only safe while holding the lock (no run is active).

    Returns the ``.failed`` folders written; each gets ``status: failed`` and a reason in
    its manifest, and one line is printed per folder.
    """
    moved = []
    for link in out_dir.glob(".latest.*.tmp"):
        with contextlib.suppress(OSError):
            link.unlink()
    for tmp in sorted(out_dir.glob(".*.tmp")):
        if not tmp.is_dir() or tmp.is_symlink():
            continue
        run_id = tmp.name[1:-len(".tmp")]
        failed = out_dir / f"{run_id}.failed"
        if failed.exists():
            failed = out_dir / f"{run_id}.stale-{int(time.time())}.failed"
        manifest = _read_json(Run(tmp).manifest_path) or {"run_id": run_id}
        reason = (f"stale: the run was killed before it finished (its temporary folder was "
                  f"found and cleaned by run {found_by})")
        manifest.update(status="failed", reason=reason,
                        finished_at=manifest.get("finished_at") or None)
        try:
            write_json(Run(tmp).manifest_path, manifest)  # partial ones too: no model
            os.replace(tmp, failed)
        except OSError as exc:
            say(f"cxkit run: stale folder {tmp} could not be cleaned ({exc.strerror}); "
                f"remove it by hand.")
            continue
        say(f"cxkit run: found {tmp.name} left by a killed run (status was "
            f"'running'); kept it as {failed}.")
        moved.append(failed)
    return moved


# --------------------------------------------------------------------------- signals
@contextlib.contextmanager
def stop_on_signals(signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise :class:`RunStopped` in the main thread.

    Only the first signal raises: later ones are ignored until the block ends, so the
    runner can stop the kernel and keep ``<run_id>.failed/`` while systemd or a user sends
    the signal again. Outside the main thread (where Python cannot install handlers) the
    block runs as is.
    """
    fired: list[int] = []

    def handler(signum, frame):  # noqa: ARG001 - signal handler signature
        if fired:
            return
        fired.append(signum)
        raise RunStopped(signum)

    previous = {}
    try:
        for sig in signals:
            previous[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# --------------------------------------------------------------------------- kernels
KERNEL_LOG = "kernel.log"


def logged_kernel_manager(log_path: Path) -> type:
    """A Jupyter kernel manager class whose kernel writes its own stderr to ``log_path``.

    Pass it to ``papermill.execute_notebook(..., kernel_manager_class=...)``. The kernel
    process's stderr carries start-up warnings and, when a run is stopped, the kernel's
    traceback as it shuts down: useful in the run folder, noise on an operator's console.
    Notebook outputs and errors are unaffected (they travel as messages).
    """
    from jupyter_client.manager import AsyncKernelManager

    class LoggedKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw):  # kw reach subprocess.Popen (documented)
            log = open(log_path, "ab")  # noqa: SIM115 - the kernel process owns it
            try:
                kw.setdefault("stderr", log)
                return await super().start_kernel(**kw)
            finally:
                log.close()  # the child has its own descriptor now

    return LoggedKernelManager


# --------------------------------------------------------------------------- writing
def write_json(path: Path, data: dict) -> None:
    """Write JSON atomically (temporary file + ``os.replace``); a full disk leaves the old
    file in place and raises ``OSError``."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def describe_os_error(exc: OSError, out_dir: Path) -> str:
    """One line for a write that failed: what, where and what to do."""
    where = exc.filename or out_dir
    if exc.errno == errno.ENOSPC:
        fix = f"free space on the disk holding {out_dir} or set run.out_dir to another disk"
    elif exc.errno == errno.EEXIST:
        fix = "move it away and run again"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        fix = f"make {out_dir} writable for this user or set run.out_dir to a writable folder"
    else:
        fix = f"check the disk holding {out_dir}"
    return f"cannot write {where}: {exc.strerror or exc}; {fix}"


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# --------------------------------------------------------------------------- history
_NOT_DATA = (".yaml", ".yml", ".ipynb")
HISTORY_COLUMNS = ["run_id", "name", "status", "started_at", "seconds", "data_hash",
                   "gate_failed", "alerts", "reason", "folder"]


def history(out_dir: Path) -> pd.DataFrame:
    """Every run in a reports folder, oldest first: one row per ``manifest.json``.

    ``data_hash`` is the first 12 hex digits of a SHA-256 over the hashes of the data files
    the run read (YAMLs and notebooks left out): the same data gives the same hash, whatever
    the parameters; ``alerts`` the number of alerts fired; ``reason``
    why a run failed. A temporary folder is ``running`` while a run holds the lock, else
    ``stale`` (a killed run, which the next ``cxkit run`` keeps as ``.failed``).

    Examples
    --------
    >>> history(Path("reports"))[["run_id", "status"]]  # doctest: +SKIP
    """
    import hashlib

    rows = []
    busy = None
    if out_dir.is_dir():
        for folder in out_dir.iterdir():
            if folder.is_symlink() or not folder.is_dir():
                continue
            m = _read_json(Run(folder).manifest_path)  # lenient: killed runs too
            if m is None:
                continue
            data = [i for i in m.get("inputs", [])
                    if not str(i.get("path", "")).endswith(_NOT_DATA)]
            digest = hashlib.sha256("".join(sorted(i.get("sha256", "") for i in data)).encode())
            err = m.get("error") or {}
            status = m.get("status")
            if folder.name.startswith(".") and folder.name.endswith(".tmp"):
                busy = _locked(out_dir) if busy is None else busy
                if not busy:  # no run holds the folder: this one was killed
                    status = "stale"
                    m.setdefault("reason", "killed before it finished; the next run keeps "
                                           "it as .failed")
            reason = m.get("reason") or (
                f"{err.get('notebook')}: {err.get('ename', err.get('type'))}: "
                f"{err.get('evalue', '')}".strip() if err else "")
            rows.append({
                "run_id": m.get("run_id", folder.name), "name": m.get("name"),
                "status": status, "started_at": m.get("started_at"),
                "seconds": _seconds(m.get("started_at"), m.get("finished_at")),
                "data_hash": digest.hexdigest()[:12] if data else "",
                "gate_failed": bool(m.get("gate_failed")),
                "alerts": len((m.get("alerts") or {}).get("fired", [])),
                "reason": reason[:200], "folder": str(folder)})
    table = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    return table.sort_values(["started_at", "run_id"], kind="stable", ignore_index=True)


def _locked(out_dir: Path) -> bool:
    """Whether a run holds ``out_dir``'s lock right now."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(out_dir / LOCK_NAME))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    except OSError:  # cannot even create the lock file: nobody can hold it
        return False
    lock.release()
    return False


def previous_success(out_dir: Path, name: str, *, before: str | None = None) -> Path | None:
    """Folder of the newest successful run called ``name`` (started before ``before``).

    A run published with a failed convergence gate is a baseline only when no run of that
    name passed it (its intervals are not reliable).
    """
    runs = history(out_dir)
    ok = runs[(runs["status"] == "succeeded") & (runs["name"] == name)
              & ~runs["folder"].str.endswith(".tmp")]
    if before is not None:
        ok = ok[ok["started_at"] < before]
    passed = ok[~ok["gate_failed"]]
    pick = passed if len(passed) else ok
    return Path(pick["folder"].iloc[-1]) if len(pick) else None


def format_history(table: pd.DataFrame) -> str:
    """The ``cxkit runs`` text: one aligned line per run."""
    if table.empty:
        return "no runs yet"
    show = table.assign(
        seconds=table["seconds"].map(lambda s: "-" if pd.isna(s) else f"{s:.0f} s"),
        gate=table["gate_failed"].map({True: "FAILED", False: "ok"}),
        reason=table["reason"].fillna("").str.slice(0, 60))
    cols = ["run_id", "status", "started_at", "seconds", "data_hash", "gate", "alerts", "reason"]
    return show[cols].rename(columns={"seconds": "duration"}).to_string(index=False)


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return None
