"""Serving the dashboards with Voila: localhost, a token, bounded kernels, clean shutdown.

``serve`` starts Voila on the ``dashboards/`` folder (five notebooks) on 127.0.0.1 with
token authentication. The run folder reaches the notebooks through ``$CXKIT_RUN_DIR``, set
by the server process, so nothing a browser sends can choose a path or run code (Voila
forwards only widget ``comm`` messages from the browser to a kernel, never execute requests).

Kernel policy: Voila keeps a pool of one pre-heated kernel per dashboard (``preheat_kernel``,
``pool_size=1``: the notebook has already run when a page is asked for); each page view
takes that kernel and the pool starts a new one. Jupyter Server's idle culling, applied by
Voila's kernel manager, shuts down a kernel with **no open browser connection** that has
been idle for ``cull_idle_timeout`` seconds (default 60), checked every ``cull_interval``
seconds (default 10); pooled kernels are never culled, a kernel whose tab is still open is
kept (``cull_connected=False``). So the server holds 5 pooled kernels + the open tabs' +
those of views closed in the last minute.

Shutdown: Voila runs in its own process group. SIGTERM or Ctrl-C to ``cxkit dashboard``
asks Voila to stop (it shuts its kernels down), then kills whatever of that tree is still
alive after ``grace`` seconds: Voila and every kernel (kernels run in sessions of their own,
so they are found by walking the process tree, recorded while Voila runs).

The page loads nothing from the internet: the ``cxkit`` Voila template (in this package)
is Voila's ``lab`` template without its Font Awesome stylesheet links to jsDelivr; the icon
fonts ship inside Voila's own bundle.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from cxkit.dashboards.run import HOW_TO_CREATE, RUN_DIR_ENV

#: Folder with ``voila/templates/cxkit`` (added to ``$JUPYTER_PATH`` for Voila).
TEMPLATE_ROOT = Path(__file__).resolve().parent / "jupyter"
CULL_IDLE_TIMEOUT = 60
CULL_INTERVAL = 10


def dashboards_dir() -> Path:
    """``dashboards/`` of the project (anchored on the package)."""
    from cxkit.config import DASHBOARDS_DIR

    return DASHBOARDS_DIR


def _is_loopback(ip: str) -> bool:
    if ip == "localhost":
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def check_port(port: int, ip: str = "127.0.0.1") -> str | None:
    """None if ``ip:port`` can be bound now, else one line saying why and what to do.

    Examples
    --------
    >>> check_port(0) is None
    True
    >>> check_port(70000)
    'port 70000 is not a valid TCP port (1-65535): pass --port with a number in that range.'
    """
    try:
        port = int(port)
    except (TypeError, ValueError):
        return f"port {port!r} is not a number: pass --port with a number in 1-65535."
    if not 0 <= port < 65536:
        return (f"port {port} is not a valid TCP port (1-65535): pass --port with a number in "
                f"that range.")
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((ip, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f"port {port} on {ip} is already in use (another dashboard or "
                        f"program): stop it or pass --port with a free port.")
            if exc.errno == errno.EACCES:
                return (f"port {port} on {ip} needs privileges this user lacks: pass --port "
                        f"with a number above 1023.")
            return f"cannot listen on {ip}:{port} ({exc.strerror}): pass another --port."
    return None


def voila_command(notebook_dir: str | Path, *, port: int, ip: str = "127.0.0.1",
                  allow_remote: bool = False, cull_idle_timeout: int = CULL_IDLE_TIMEOUT,
                  cull_interval: int = CULL_INTERVAL, preheat: bool = True) -> list[str]:
    """The Voila command line ``serve`` runs (the token travels in the environment).

    ``--Voila.auto_token=True`` makes Voila require a token and read it from
    ``$JUPYTER_TOKEN`` (see :func:`voila_env`), not from the command line where ``ps`` would
    show it. ``port_retries=0`` so Voila fails rather than moving to another port.
    """
    if not _is_loopback(ip) and not allow_remote:
        raise ValueError(f"refusing to serve the dashboard on non-loopback address {ip!r}: "
                         f"anyone who can reach it could try the token. Use 127.0.0.1 and an "
                         f"SSH tunnel, or pass allow_remote=True if you really mean it.")
    if not 0 < int(port) < 65536:
        raise ValueError(f"port must be in 1..65535, got {port}")
    return [sys.executable, "-m", "cxkit.dashboards._voila", str(notebook_dir), "--no-browser",
            f"--port={int(port)}", "--Voila.port_retries=0", f"--Voila.ip={ip}",
            "--Voila.auto_token=True", "--strip_sources=True", "--show_tracebacks=False",
            "--template=cxkit", "--theme=light",
            f"--MappingKernelManager.cull_idle_timeout={int(cull_idle_timeout)}",
            f"--MappingKernelManager.cull_interval={int(cull_interval)}",
            "--MappingKernelManager.cull_connected=False",
            # kernels talk to Voila over Unix sockets: no TCP ports for other local users,
            # and no "running over TCP without encryption" warning per page view
            "--KernelManager.transport=ipc",
            # one line per request at INFO is noise; warnings and errors still show
            "--Voila.log_level=WARN"] + (
            # one kernel per dashboard runs the notebook before anyone asks, so a page view
            # gets a finished page (first figure in ~1-3 s instead of a kernel start plus
            # imports); Voila never culls pooled kernels and refills the pool after a view
            ["--preheat_kernel=True", "--pool_size=1"] if preheat else [])


def voila_env(run_dir: str | Path, token: str, base: dict[str, str] | None = None
              ) -> dict[str, str]:
    """Environment for the Voila process: the token, the run folder for the notebooks, the
    template folder, and a kernel that renders plots headless."""
    if not token or not token.strip():
        raise ValueError("the dashboard token must not be empty: an empty token turns "
                         "Voila's authentication off. Pass token=None for a random one.")
    env = dict(os.environ if base is None else base)
    env["JUPYTER_TOKEN"] = token
    env[RUN_DIR_ENV] = str(Path(run_dir).absolute())
    env["JUPYTER_PATH"] = os.pathsep.join(
        [str(TEMPLATE_ROOT)] + [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p])
    env.setdefault("MPLBACKEND", "Agg")
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
    return env


def process_tree(pid: int) -> list[int]:
    """``pid`` and every descendant alive now (kernels included)."""
    import psutil

    try:
        parent = psutil.Process(pid)
        return [pid] + [p.pid for p in parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def stop_tree(proc: subprocess.Popen, known: set[int], grace: float = 10.0) -> None:
    """SIGTERM Voila (it shuts its kernels down), then SIGKILL whatever of ``known`` plus the
    current tree still runs after ``grace`` seconds."""
    import psutil

    known = set(known) | set(process_tree(proc.pid))
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 2
    for pid in sorted(known):
        try:
            p = psutil.Process(pid)
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                p.terminate() if time.monotonic() < deadline else p.kill()
        except psutil.NoSuchProcess:
            continue
    gone, alive = psutil.wait_procs([psutil.Process(p) for p in known if psutil.pid_exists(p)],
                                    timeout=3)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=5)


def serve(run_dir: str | Path, port: int = 8866, token: str | None = None,
          notebook: str | Path | None = None, *, ip: str = "127.0.0.1",
          allow_remote: bool = False) -> int:
    """Serve the five dashboards with Voila on ``ip:port`` behind a token; blocks until
    Voila exits, Ctrl-C or SIGTERM (then Voila and every kernel are stopped).

    Parameters
    ----------
    run_dir : path
        Run folder to show first (``reports/latest``); the page's run picker offers the
        other finished runs next to it.
    port : int
        TCP port; checked before starting: a bad or busy port is one line and exit code 2.
    token : str, optional
        Access token; a random one when None. The URLs with the token are printed.
    notebook : path, optional
        A dashboards folder or one notebook; default ``dashboards/``.

    Returns
    -------
    int
        0 after Ctrl-C/SIGTERM or a clean exit, Voila's status otherwise, 2 for bad input.
    """
    run_dir = Path(run_dir)
    target = Path(notebook) if notebook else dashboards_dir()
    if not run_dir.is_dir():
        print(f"error: run folder {run_dir} not found; {HOW_TO_CREATE}.", file=sys.stderr)
        return 2
    if not target.exists():
        print(f"error: dashboards {target} not found; pass --notebook or restore "
              f"dashboards/.", file=sys.stderr)
        return 2
    try:
        cmd = voila_command(target, port=port, ip=ip, allow_remote=allow_remote)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problem = check_port(port, ip)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    token = token or secrets.token_urlsafe(24)
    env = voila_env(run_dir, token)
    host = f"[{ip}]" if ":" in ip else ip
    base = f"http://{host}:{port}"
    if target.is_dir():
        pages = sorted(p.name for p in target.glob("*.ipynb"))
        print(f"Dashboards for {run_dir}:", flush=True)
        for name in pages:
            print(f"  {base}/voila/render/{name}?token={token}", flush=True)
    else:
        print(f"Dashboard for {run_dir}: {base}/?token={token}", flush=True)
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    known: set[int] = set()

    def on_term(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        while proc.poll() is None:
            known |= set(process_tree(proc.pid))
            time.sleep(1.0)
        return proc.returncode
    except KeyboardInterrupt:
        print("Stopping the dashboards and their kernels ...", flush=True)
        stop_tree(proc, known)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            stop_tree(proc, known)
