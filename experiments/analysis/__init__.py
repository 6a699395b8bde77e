"""Analysing runs: scenario comparison and its statistics (`compare`), fan charts (`figures`), Sobol indices
(`sensitivity`), scenario discovery (`discover`), the lever audit (`levers`) and the responsiveness table
(`responsiveness`)."""
