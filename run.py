#!/usr/bin/env python3
"""The greatgame command line from a checkout: `python3 run.py COMMAND ...` is `greatgame COMMAND ...`
(greatgame/cli.py; `python3 run.py --help` lists the commands)."""

from greatgame.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    from greatgame.cli import console

    console()
