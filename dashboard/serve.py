"""What the server says when `solara run app.py` starts: where it listens, which folders the page may use, and
whether the front-end files are served from the local cache (offline)."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

from .logic import Folders

_announced = False


def is_loopback(host: str) -> bool:
    """True when `host` only accepts connections from this machine (127.0.0.0/8, ::1, localhost)."""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(a[4][0]).is_loopback for a in socket.getaddrinfo(host, None))
        except OSError:
            return False


def startup_message(environ: dict[str, str] | None = None) -> str:
    """The lines printed at start: address (solara sets SERVER_NAME and SERVER_PORT), folders, asset cache."""
    from .assets import cache_dir, missing

    env = os.environ if environ is None else environ
    host, port = env.get("SERVER_NAME", "localhost"), env.get("SERVER_PORT", "8765")
    shown = "127.0.0.1" if host == "localhost" else host
    if is_loopback(host):
        where = f"greatgame dashboard: listening on http://{shown}:{port} (this machine only; `--host ADDRESS` changes it)"
    else:
        where = (f"greatgame dashboard: WARNING listening on {host}:{port}, reachable from other machines, as asked "
                 "(--host, $HOST or $SOLARA_HOST); the page has no login")
    folders = Folders.from_env(dict(env))
    lines = [where, f"  reads and writes only {folders.scenarios} and {folders.results} "
                    "(set GREATGAME_SCENARIOS / GREATGAME_RESULTS at start to change)"]
    gaps = missing(cache_dir())
    lines.append(f"  front-end files: {cache_dir()}" + (" (complete: works offline)" if not gaps else
                 f" is missing {len(gaps)} package(s); run `python3 -m greatgame.dashboard.assets` once to work offline"))
    return "\n".join(lines)


def announce() -> None:
    """Print the start-up message once per server process."""
    global _announced
    if not _announced:
        _announced = True
        print(startup_message(), file=sys.stderr, flush=True)
