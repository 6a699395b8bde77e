"""The shipped scenario files (package data of `greatgame.scenarios`); `greatgame.model.files.SCENARIOS` is
this folder, wherever the package is installed."""
