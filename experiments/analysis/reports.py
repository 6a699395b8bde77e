"""What a report writer returns: the files it wrote (`compare`, `levers_report`, `responsiveness`,
`sensitivity_report`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType


@dataclass(frozen=True)
class ReportFiles:
    """The files one report writer wrote: the Markdown report, its main table and figure, every other file by
    name, and the failed runs it dropped (their outcomes are never imputed)."""

    report: Path  # the Markdown report
    table: Path  # the main table (CSV)
    figure: Path | None = None  # the main figure (PNG); None when figures were not drawn
    other: Mapping[str, Path] = field(default_factory=lambda: MappingProxyType({}))  # further files, by name
    failed: int | None = None  # failed runs dropped from the report (runs); None when the writer does not count them

    def paths(self) -> list[Path]:
        """Every file written: the report, the table, the figure (if any) and the others."""
        return [self.report, self.table, *([self.figure] if self.figure is not None else []), *self.other.values()]
