"""Offline front-end files. Solara's page loads its JavaScript and CSS through the server's CDN proxy
(`/_solara/cdn/...`), which fetches them from a CDN on first use and keeps them in the folder
`SOLARA_ASSETS_PROXY_CACHE_DIR` (default `<python prefix>/share/solara/cdn`). `python3 -m greatgame.dashboard.assets` fills
that folder from the npm registry with `npm pack`, so the page never needs the CDN: run it once after installing
the `[viz]` extra (and again with the same SOLARA_ASSETS_PROXY_CACHE_DIR if you set one)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# npm packages the page loads, at the exact versions solara names: its page template (the first three) and
# `solara.Markdown`, which loads mermaid (diagrams) and KaTeX (math, with its auto-render extension) on every mount.
# Found by recording the page's requests under /_solara/cdn/ in Chromium; tests/test_dashboard_browser.py fails on
# any page error, so a file missing here shows there.
PACKAGES = (
    "@widgetti/solara-vuetify-app@10.1.1",
    "requirejs@2.3.6",
    "font-awesome@4.5.0",
    "mermaid@10.8.0",
    "katex@0.16.9",
)


def cache_dir() -> Path:
    """Solara's CDN proxy cache folder (SOLARA_ASSETS_PROXY_CACHE_DIR, else its default)."""
    import solara.server.settings as settings

    return Path(settings.assets.proxy_cache_dir)


def missing(folder: Path, packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """The packages not yet unpacked in `folder`."""
    return [p for p in packages if not (folder / p / "package.json").is_file()]


def fill(folder: Path, packages: tuple[str, ...] = PACKAGES, npm: str = "npm") -> list[str]:
    """Download each missing package with `npm pack` and unpack it as folder/NAME@VERSION/ (the layout of the CDN
    URLs). Returns the packages added. Raises RuntimeError when npm is missing or fails."""
    exe = shutil.which(npm)
    if exe is None:
        raise RuntimeError("npm not found: install Node.js (Debian: apt-get install -y npm)")
    added = []
    folder.mkdir(parents=True, exist_ok=True)
    for spec in missing(folder, packages):
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([exe, "pack", spec, "--silent", "--pack-destination", tmp], capture_output=True,
                                 text=True, timeout=300)
            tarballs = list(Path(tmp).glob("*.tgz"))
            if out.returncode != 0 or not tarballs:
                raise RuntimeError(f"npm pack {spec} failed: {out.stderr.strip() or out.stdout.strip()}")
            target = folder / spec
            staging = Path(tempfile.mkdtemp(prefix=".assets-", dir=folder))
            try:
                with tarfile.open(tarballs[0]) as tar:
                    tar.extractall(staging, filter="data")
                shutil.rmtree(target, ignore_errors=True)
                target.parent.mkdir(parents=True, exist_ok=True)
                (staging / "package").rename(target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        added.append(spec)
    return added


def main(argv: list[str] | None = None) -> int:
    """Command line: fill the cache (default: solara's own cache folder) and say where."""
    parser = argparse.ArgumentParser(prog="python3 -m greatgame.dashboard.assets", description=__doc__)
    parser.add_argument("--dir", type=Path, help="cache folder (default: SOLARA_ASSETS_PROXY_CACHE_DIR or solara's)")
    args = parser.parse_args(argv)
    folder = args.dir or cache_dir()
    try:
        added = fill(folder)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"dashboard.assets: {exc}", file=sys.stderr)
        return 1
    print(f"front-end files in {folder}: " + (f"added {', '.join(added)}" if added else "already complete"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
