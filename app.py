"""The greatgame dashboard: `solara run app.py` (install with `pip install -e '.[viz]'`; offline front-end files:
`python3 -m dashboard.assets`). The page is `dashboard.page.Page`; each browser session builds its own model."""

from dashboard.page import Page
from dashboard.serve import announce

announce()

__all__ = ["Page"]
