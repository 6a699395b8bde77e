"""The interactive dashboard (`solara run app.py`, extra `[viz]`): settings, safe file access and figures in
`dashboard.logic` and `dashboard.figures` (no solara needed), the page in `dashboard.page`, offline front-end
files in `dashboard.assets`."""
