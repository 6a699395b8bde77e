"""The greatgame dashboard: `solara run app.py` (install with `pip install -e '.[viz]'`; offline front-end files:
`python3 -m greatgame.dashboard.assets`). The page is `greatgame.dashboard.page.Page`; each browser session builds
its own model."""

from greatgame.dashboard.page import Page
from greatgame.dashboard.serve import announce

announce()

__all__ = ["Page"]
