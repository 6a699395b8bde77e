"""`greatgame estimate` (issue 17, PROTOCOL 4): the command writes the fitted rule's table, the full model does at
least as well as the restricted one it nests, and bad options end in one line with exit status 2."""

import pandas as pd
import pytest
from greatgame.model.yamlio import ScenarioError

from greatgame.cli import main


def test_estimate_writes_the_full_and_restricted_fits(tmp_path):
    out = tmp_path / "est"
    assert main(["estimate", "--upto", "2005.0", "--starts", "2", "--no-profile", "--quiet", "--out", str(out)]) == 0
    table = pd.read_csv(out / "estimate.csv")
    assert (table["model"] == "full").sum() == 19 and (table["model"] == "restricted").sum() == 8
    assert table["status"].eq("estimated").all()
    md = (out / "estimate.md").read_text()
    assert "In sample" in md and "weights.investment" in md and "cut at 2005.0" in md
    lines = [ln for ln in md.splitlines() if ln.startswith("| full |") or ln.startswith("| restricted (")]
    full, restricted = (float(ln.split("|")[3]) for ln in lines[:2])
    assert full >= restricted - 1e-6  # the restricted fit is one of the full model's starts: L-BFGS-B only climbs


@pytest.mark.parametrize(("args", "words"), [
    (["--upto", "1990"], ["--upto", "outside the record"]),
    (["--record", "no_such_record.csv"], ["--record", "is not a file"]),
    (["--starts", "5"], ["--starts", "must be 1, 2 or 3"]),
    (["--panel", "no_such_folder"], ["--panel", "is not a folder"]),
])
def test_estimate_bad_options_are_one_line(tmp_path, capsys, args, words):
    rc = main(["estimate", *args, "--quiet", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and all(w in err[0] for w in words)
    assert not (tmp_path / "x").exists()


def test_estimate_reads_a_user_panel_and_refuses_a_bad_row(tmp_path, capsys):
    """--panel: a folder of the panel's tables replaces the shipped one; a bad row stops the command with one line
    naming the file, the row and the column, before anything is written."""
    import shutil

    from greatgame.model import panel

    folder = tmp_path / "panel"
    folder.mkdir()
    for name in panel.TABLES:
        shutil.copy(panel.PANEL_DIR / f"{name}.csv", folder / f"{name}.csv")
    lines = (folder / "routes.csv").read_text().splitlines()
    cols = lines[0].split(",")
    row = lines[5].split(",")
    row[cols.index("year")] = "twenty"
    lines[5] = ",".join(row)
    (folder / "routes.csv").write_text("\n".join(lines) + "\n")
    try:
        rc = main(["estimate", "--panel", str(folder), "--quiet", "--out", str(tmp_path / "x")])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and "routes.csv: row 6: year: not a whole number: 'twenty'" in err[0], err
        assert not (tmp_path / "x").exists()
        with pytest.raises(ScenarioError, match="missing: a panel folder needs the tables"):
            panel.use_panel(tmp_path)  # a folder without the tables
        lines[5] = ",".join(r if i != cols.index("year") else "2001" for i, r in enumerate(row))
        (folder / "routes.csv").write_text("\n".join(lines) + "\n")
        assert panel.use_panel(folder) == folder
        edited = panel.load_panel(row[cols.index("series")])
        assert ((edited["state"] == row[cols.index("state")]) & (edited["year"] == 2001)).any()
    finally:
        panel.use_panel(None)
    assert panel.load_panel("gdp_current_usd", upto=2000)["year"].max() <= 2000
