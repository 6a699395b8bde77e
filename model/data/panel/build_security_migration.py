"""Build model/data/panel/security_migration.csv (arms transfers, remittances, migrant stocks, military presence).

Provenance only: run by hand, not part of the package. It needs three repository snapshots brought to this
machine with the `fetch` tool (read with `git show COMMIT:path`, nothing is downloaded here):

- /work/.mirror/360-info+report-arms-trade/repo (commit e00d2d3; SIPRI TIV export tables generated 28 July 2022,
  data/trademap-raw/TIV-Export-*-1950-2021.csv, unchanged since they were added in b850d1e);
- /work/.mirror/datasets+world-development-indicators/repo (commit 4ebec5a; WDI indicators BX.TRF.PWKR.CD.DT and
  NY.GDP.MKTP.CD);
- /work/.mirror/X80110+migration-visualization/repo (commit cb840bd; json/stock.json, UN DESA International Migrant
  Stock 2020 as an origin x destination matrix).

The scattered remittance figures by sending country and the dated military presence are typed in below from the
stored pages named in each row. Usage: python build_security_migration.py  (writes the CSV next to this file).
"""

import csv
import io
import json
import subprocess
from pathlib import Path

OUT = Path(__file__).with_name("security_migration.csv")
COLUMNS = ["series", "state", "partner", "year", "value", "unit", "basis", "source", "vintage", "note"]

STATES = {
    "KAZ": "Kazakhstan",
    "KGZ": "Kyrgyzstan",
    "TJK": "Tajikistan",
    "TKM": "Turkmenistan",
    "UZB": "Uzbekistan",
    "ARM": "Armenia",
    "AZE": "Azerbaijan",
    "BLR": "Belarus",
    "GEO": "Georgia",
    "MDA": "Moldova",
    "UKR": "Ukraine",
}

SIPRI_DIR = "/work/.mirror/360-info+report-arms-trade/repo"
SIPRI_COMMIT = "e00d2d3"
WDI_DIR = "/work/.mirror/datasets+world-development-indicators/repo"
WDI_COMMIT = "4ebec5a"
IMS_DIR = "/work/.mirror/X80110+migration-visualization/repo"
IMS_COMMIT = "cb840bd"

# SIPRI supplier table codes of the 27 current EU members (SIPRI's own three-letter codes in the file names).
EU27_SIPRI = {
    "AST": "Austria",
    "BEL": "Belgium",
    "BUL": "Bulgaria",
    "CRO": "Croatia",
    "CYP": "Cyprus",
    "CZR": "Czechia",
    "DEN": "Denmark",
    "EST": "Estonia",
    "FIN": "Finland",
    "FRA": "France",
    "FRG": "Germany",
    "GRE": "Greece",
    "HUN": "Hungary",
    "IRE": "Ireland",
    "ITA": "Italy",
    "LAT": "Latvia",
    "LIT": "Lithuania",
    "LUX": "Luxembourg",
    "MTA": "Malta",
    "NET": "Netherlands",
    "POL": "Poland",
    "POR": "Portugal",
    "ROM": "Romania",
    "SLK": "Slovakia",
    "SLO": "Slovenia",
    "SPA": "Spain",
    "SWE": "Sweden",
}
SIPRI_POWERS = {"RUS": "RUS", "CHI": "CHN", "USA": "USA", "TUR": "TUR"}

# UN DESA names as spelled in json/stock.json.
EU27_UN = [
    "Austria",
    "Belgium",
    "Bulgaria",
    "Croatia",
    "Cyprus",
    "Czechia",
    "Denmark",
    "Estonia",
    "Finland",
    "France",
    "Germany",
    "Greece",
    "Hungary",
    "Ireland",
    "Italy",
    "Latvia",
    "Lithuania",
    "Luxembourg",
    "Malta",
    "Netherlands",
    "Poland",
    "Portugal",
    "Romania",
    "Slovakia",
    "Slovenia",
    "Spain",
    "Sweden",
]
IMS_DEST = {"RUS": "Russia", "USA": "United States", "TUR": "Turkey", "KAZ": "Kazakhstan"}


def git_show(repo: str, commit: str, path: str) -> str:
    """Return the text of one file of a fetched snapshot."""
    return subprocess.run(["git", "-C", repo, "show", f"{commit}:{path}"], check=True, capture_output=True, text=True).stdout


def git_ls(repo: str, commit: str, path: str) -> list[str]:
    """Return the file names under one folder of a fetched snapshot."""
    out = subprocess.run(
        ["git", "-C", repo, "ls-tree", "--name-only", f"{commit}:{path}"], check=True, capture_output=True, text=True
    ).stdout
    return out.split()


def row(series, state, partner, year, value, unit, basis, source, vintage, note=""):
    """One output row as a dict."""
    return dict(zip(COLUMNS, [series, state, partner, year, value, unit, basis, source, vintage, note], strict=True))


# ---------------------------------------------------------------- SIPRI arms transfers (TIV)
def read_sipri() -> tuple[dict, dict]:
    """Return {supplier_code: {recipient: {year: int}}} for all supplier tables, and {code: supplier name}."""
    tables, names = {}, {}
    for fname in git_ls(SIPRI_DIR, SIPRI_COMMIT, "data/trademap-raw/"):
        code = fname.replace("TIV-Export-", "").replace("-1950-2021.csv", "")
        text = git_show(SIPRI_DIR, SIPRI_COMMIT, f"data/trademap-raw/{fname}")
        lines = list(csv.reader(io.StringIO(text)))
        assert "Generated: 28 July 2022" in text, fname
        names[code] = lines[0][0].replace("TIV of arms exports from ", "").replace(", 1950-2021", "")
        header = lines[10]
        years = {i: int(h) for i, h in enumerate(header) if h.isdigit()}
        recs = {}
        for line in lines[11:]:
            if not line or not line[0] or line[0] == "Total":
                continue
            recs[line[0]] = {years[i]: int(v) for i, v in enumerate(line) if i in years and v != ""}
        tables[code] = recs
    return tables, names


def sipri_rows() -> list[dict]:
    """Yearly TIV delivered to each state by RUS, CHN, USA, TUR, EU27 (member sum) and ALL suppliers, 1992-2021."""
    tables, names = read_sipri()
    src_file = "github.com/360-info/report-arms-trade (commit e00d2d3) data/trademap-raw/TIV-Export-{}-1950-2021.csv"
    src_all = "SIPRI Arms Transfers Database via " + src_file.format("*") + f" ({len(tables)} supplier tables)"
    out = []
    for iso, name in STATES.items():
        for year in range(1992, 2022):
            for scode, partner in SIPRI_POWERS.items():
                cell = tables[scode].get(name, {}).get(year)
                note = "SIPRI '0': delivery below 0.5 TIV mn" if cell == 0 else ""
                if cell is None:
                    note = "zero by rule: no delivery listed in the supplier's full export table for this year"
                out.append(
                    row(
                        "arms_tiv",
                        iso,
                        partner,
                        year,
                        cell or 0,
                        "tiv_mn",
                        "sipri",
                        "SIPRI Arms Transfers Database via " + src_file.format(scode),
                        "2022-07",
                        note,
                    )
                )
            eu_parts = {c: tables[c].get(name, {}).get(year) for c in EU27_SIPRI}
            eu_parts = {c: v for c, v in eu_parts.items() if v is not None}
            eu_note = "sum of the 27 current EU members' export tables (rounded cells summed)"
            if eu_parts:
                eu_note += "; delivering: " + " ".join(f"{EU27_SIPRI[c]} {v}" for c, v in sorted(eu_parts.items()))
            else:
                eu_note += "; zero by rule: no member table lists a delivery"
            out.append(
                row(
                    "arms_tiv",
                    iso,
                    "EU",
                    year,
                    sum(eu_parts.values()),
                    "tiv_mn",
                    "sipri",
                    "SIPRI Arms Transfers Database via " + src_file.format("<27 EU members>"),
                    "2022-07",
                    eu_note,
                )
            )
            all_parts = {c: t.get(name, {}).get(year) for c, t in tables.items()}
            all_parts = {c: v for c, v in all_parts.items() if v is not None}
            all_note = "sum over all supplier tables in the snapshot (rounded cells summed)"
            if all_parts:
                all_note += "; " + " ".join(f"{names[c]} {v}" for c, v in sorted(all_parts.items()))
            else:
                all_note += "; zero by rule: no supplier table lists a delivery"
            out.append(
                row("arms_tiv", iso, "ALL", year, sum(all_parts.values()), "tiv_mn", "sipri", src_all, "2022-07", all_note)
            )
    return out


# ---------------------------------------------------------------- WDI remittances
def wdi(indicator: str) -> dict:
    """Return {(iso3, year): value} for the 11 states from one WDI indicator file."""
    text = git_show(WDI_DIR, WDI_COMMIT, f"indicators/{indicator}/data.csv")
    vals = {}
    for r in csv.DictReader(io.StringIO(text)):
        if r["Country Code"] in STATES and r["Value"]:
            vals[(r["Country Code"], int(r["Year"]))] = float(r["Value"])
    return vals


def wdi_rows() -> list[dict]:
    """Personal remittances received (US$ mn) and as % of GDP (computed with WDI GDP of the same snapshot)."""
    rem, gdp = wdi("bx.trf.pwkr.cd.dt"), wdi("ny.gdp.mktp.cd")
    src = (
        "World Bank WDI BX.TRF.PWKR.CD.DT via github.com/datasets/world-development-indicators (commit 4ebec5a) "
        "indicators/bx.trf.pwkr.cd.dt/data.csv"
    )
    src_gdp = src + " ; NY.GDP.MKTP.CD, same commit, indicators/ny.gdp.mktp.cd/data.csv"
    out = []
    for (iso, year), v in sorted(rem.items()):
        if not 1992 <= year <= 2022:
            continue
        out.append(
            row(
                "remittances_inflow",
                iso,
                "ALL",
                year,
                round(v / 1e6, 4),
                "usd_mn",
                "wdi",
                src,
                "2026-07",
                "personal remittances received (BoP: personal transfers + compensation of employees)",
            )
        )
        if (iso, year) in gdp:
            out.append(
                row(
                    "remittances_pct_gdp",
                    iso,
                    "ALL",
                    year,
                    round(100 * v / gdp[(iso, year)], 3),
                    "pct",
                    "wdi",
                    src_gdp,
                    "2026-07",
                    "computed here: BX.TRF.PWKR.CD.DT / NY.GDP.MKTP.CD x 100 (BX.TRF.PWKR.DT.GD.ZS is not in the repository)",
                )
            )
    return out


# ---------------------------------------------------------------- remittances by sending country (scattered)
NEWS_TJ = "news.tj / Asia-Plus 17 Apr 2018 citing Central Bank of Russia: http://www.news.tj/ru/node/253415"
UZDAILY = "UzDaily citing Central Bank of Russia report: https://www.uzdaily.com/articles-id-18126.htm"
EADAILY = "EADaily 18 Apr 2018 citing Central Bank of Russia: https://eadaily.com/ru/ampnews/2018/04/18/perevody-iz-rossii-v-uzbekistan-sostavili-okolo-treti-perevodov-po-sng"  # noqa: E501
ASIAPLUS = "Asia-Plus Jan 2023 citing RBC and the recipients' central banks: https://asiaplus.news/?p=381860"
MTS = "money-transfer-system transfers from Russia (gross, not BoP personal remittances)"
SENDER_ROWS = [
    ("TJK", 2013, 4155.0, "central_bank", NEWS_TJ, "2018-04", MTS + "; Bank of Russia"),
    ("TJK", 2014, 3831.0, "central_bank", NEWS_TJ, "2018-04", MTS + "; Bank of Russia"),
    ("TJK", 2015, 1278.0, "central_bank", NEWS_TJ, "2018-04", MTS + "; Bank of Russia"),
    ("TJK", 2016, 1929.0, "central_bank", NEWS_TJ, "2018-04", MTS + "; Bank of Russia"),
    (
        "TJK",
        2017,
        2536.0,
        "central_bank",
        NEWS_TJ,
        "2018-04",
        MTS + "; Bank of Russia; exceeds WDI total inflow 2017 (different concepts)",
    ),
    ("UZB", 2017, 3902.0, "central_bank", NEWS_TJ, "2018-04", MTS + "; Bank of Russia"),
    ("KGZ", 2017, 2211.0, "central_bank", NEWS_TJ, "2018-04", MTS + "; Bank of Russia"),
    ("TKM", 2017, 2.0, "central_bank", EADAILY, "2018-04", MTS + "; Bank of Russia; 'US$2 mn'"),
    ("UZB", 2010, 2845.0, "central_bank", UZDAILY, "2012", MTS + "; Bank of Russia"),
    ("UZB", 2011, 4262.0, "central_bank", UZDAILY, "2012", MTS + "; Bank of Russia"),
    ("UZB", 2022, 14500.0, "central_bank", ASIAPLUS, "2023-01", MTS + "; Central Bank of Uzbekistan; 2.6x 2021"),
    ("KAZ", 2022, 775.4, "central_bank", ASIAPLUS, "2023-01", MTS + "; National Bank of Kazakhstan; 6.8x 2021"),
    ("GEO", 2021, 411.3, "central_bank", ASIAPLUS, "2023-01", MTS + "; National Bank of Georgia"),
    (
        "GEO",
        2022,
        2000.0,
        "central_bank",
        ASIAPLUS,
        "2023-01",
        MTS + "; National Bank of Georgia; 'about 2 billion', almost 5x 2021",
    ),
]


def sender_rows() -> list[dict]:
    """Scattered official figures on transfers from Russia, with their page."""
    return [
        row("remittances_from_partner_mts", iso, "RUS", y, v, "usd_mn", b, s, vint, n) for iso, y, v, b, s, vint, n in SENDER_ROWS
    ]


# ---------------------------------------------------------------- UN DESA migrant stocks
def ims_rows() -> list[dict]:
    """Migrants born in each state living in RUS, USA, TUR, KAZ, the EU27 (sum) and everywhere (ALL)."""
    d = json.loads(git_show(IMS_DIR, IMS_COMMIT, "json/stock.json"))
    names, regions = d["names"], set(d["regions"])
    ix = {n: i for i, n in enumerate(names)}
    src = (
        "UN DESA International Migrant Stock 2020 (POP/DB/MIG/Stock/Rev.2020), origin x destination matrix via "
        "github.com/X80110/migration-visualization (commit cb840bd) json/stock.json"
    )
    out = []
    for iso, name in STATES.items():
        o = ix[name]
        for year, mat in sorted(d["matrix"].items()):
            r = mat[o]
            for partner, dest in IMS_DEST.items():
                if dest == name:
                    continue
                out.append(
                    row(
                        "migrant_stock_abroad",
                        iso,
                        partner,
                        int(year),
                        r[ix[dest]],
                        "persons",
                        "un_desa",
                        src,
                        "2021-01",
                        "stock at mid-year of persons born in the state living in the partner",
                    )
                )
            out.append(
                row(
                    "migrant_stock_abroad",
                    iso,
                    "EU",
                    int(year),
                    sum(r[ix[c]] for c in EU27_UN),
                    "persons",
                    "un_desa",
                    src,
                    "2021-01",
                    "sum over the 27 current EU members as destinations",
                )
            )
            total = sum(v for j, v in enumerate(r) if j not in regions)
            out.append(
                row(
                    "migrant_stock_abroad",
                    iso,
                    "ALL",
                    int(year),
                    total,
                    "persons",
                    "un_desa",
                    src,
                    "2021-01",
                    "sum over all 232 destination countries/areas (regional aggregate columns excluded)",
                )
            )
    return out


# ---------------------------------------------------------------- dated foreign military presence
P = {
    "tass201": "TASS 6 Feb 2014: http://tass.com/russia/717945",
    "atl": "Atlantic Sentinel Jul 2012: https://atlanticsentinel.com/2012/07/russian-tajikistan-base-deal-revealed-prematurely/",  # noqa: E501
    "rferl2004": "RFE/RL 16 Oct 2004: https://www.rferl.org/a/1055368.html",
    "kant": "Kremlin 23 Oct 2003: http://en.kremlin.ru/events/president/news/29600",
    "kant2032": "Air & Space Forces Magazine (Oct 2013): https://www.airandspaceforces.com/russia-plans-increased-presence-at-kyrgyz-base/",  # noqa: E501
    "baik": "SpaceDaily/AFP 9 Jan 2004: https://www.spacedaily.com/2004/040109151358.forhgci8.html",
    "baik2": "Moscow Times (Jan 2004): https://www.themoscowtimes.com/archive/cosmodrome-lease-extended-until-2050",
    "manas": "RFE/RL 3 Jun 2014: https://rferl.org/amp/us-handing-over-key-to-kyrgyz-base/25408141.html",
    "manas2": "Reuters 6 Mar 2014: https://www.reuters.com/article/us-kyrgyzstan-usa-base-idUSBREA251SA20140306",
    "k2": "Fox News / Washington Post (30 Jul 2005): https://www.foxnews.com/story/u-s-evicted-from-uzbek-base",
    "k2b": "Air & Space Forces Magazine (Nov 2005): https://www.airandspaceforces.com/1030bye/",
    "gyumri": "Caucasian Knot: https://www.eng.kavkaz-uzel.eu/articles/31233",
    "gyumri2": "PanARMENIAN.Net (2010): http://www.panarmenian.net/eng/world/news/65584/",
    "geo": "Reuters 13 Nov 2007: https://www.reuters.com/article/us-georgia-russia-bases/russia-closes-last-military-base-in-georgia-idUSL1387605220071113",  # noqa: E501
    "mda": "Wikipedia, Russian military presence in Transnistria: https://en.wikipedia.org/wiki/Russian_military_presence_in_Transnistria",  # noqa: E501
    "mda2": "M. Gribincea, moldova.org (Dec 2006): http://www.moldova.org/russian-troops-in-transnistria-a-threat-to-the-security-of-the-republic-of-moldova-20998-eng/",  # noqa: E501
    "blr": "TASS 5 Jun 2020: https://tass.com/defense/1164433",
    "blr2": "Interfax 16 Feb 2021: https://interfax.com/newsroom/top-stories/71109/",
    "gab": "Kremlin (2002 agreement): http://en.kremlin.ru/d/26938",
    "gab2": "MFA of Azerbaijan (Dec 2012): http://www.mfa.gov.az/en/news/879/1221",
    "bsf": "RIA Novosti/Sputnik 27 Apr 2010: https://sputnikglobe.com/20100427/158772181.html",
    "bsf2": "Wikipedia, Black Sea Fleet dispute: https://en.wikipedia.org/wiki/Black_Sea_Fleet_dispute",
    "chn": "Washington Post (G. Shih) 18 Feb 2019 via Boston Globe: https://www.bostonglobe.com/news/world/2019/02/18/chinese-troops-sit-afghanistan-doorstep/W2G7JWaKfnO7Lwvr3Cyi2M/story.html",  # noqa: E501
    "chn2": "Taipei Times 30 Oct 2021: https://www.taipeitimes.com/News/world/archives/2021/10/30/2003767032",
}
# (state, partner, vintage (date of the newest source), first year present, last year present (None = still present
#  in 2022), first year of rows, sources, note, basis)
PRESENCE = [
    (
        "TJK",
        "RUS",
        "2014-02",
        1992,
        None,
        1992,
        ["tass201", "atl", "rferl2004"],
        "201st Motor Rifle Division stationed since before 1992 (first agreement in force 25 May 1993); 201st military "
        "base formally opened Oct 2004; lease to 2042",
        "press",
    ),
    (
        "KGZ",
        "RUS",
        "2013-10",
        2003,
        None,
        1992,
        ["kant", "kant2032"],
        "Kant air base: agreement 22 Sep 2003, opened 23 Oct 2003; agreement to 2032. Other Russian facilities in "
        "Kyrgyzstan (naval communications, test sites) not coded",
        "press",
    ),
    (
        "KAZ",
        "RUS",
        "2004-01",
        1994,
        None,
        1994,
        ["baik", "baik2"],
        "Baikonur cosmodrome leased to Russia since 1994 (20-year lease, extended in Jan 2004 to 2050); a space-launch "
        "site, not a troop base; 1992-1993 left as a gap (pre-lease status not sourced)",
        "press",
    ),
    (
        "KGZ",
        "USA",
        "2014-06",
        2001,
        2014,
        1992,
        ["manas", "manas2"],
        "Manas air base / Transit Center: opened Dec 2001, handed back 3 Jun 2014 (years 2001 and 2014 partly present)",
        "press",
    ),
    (
        "UZB",
        "USA",
        "2005-11",
        2001,
        2005,
        1992,
        ["k2", "k2b"],
        "Karshi-Khanabad (K2): used from Oct 2001; eviction notice 29 Jul 2005, last US personnel left Nov 2005",
        "press",
    ),
    (
        "ARM",
        "RUS",
        "2011-06",
        1992,
        None,
        1992,
        ["gyumri", "gyumri2"],
        "102nd military base, Gyumri: founded 1 Sep 1994 from the Soviet 127th Motor Rifle Division stationed there; "
        "1995 treaty (25 years) extended in 2010 to 2044; 1992-1993 coded present (Soviet division remained in place)",
        "press",
    ),
    (
        "GEO",
        "RUS",
        "2007-11",
        1992,
        2007,
        1992,
        ["geo"],
        "Soviet-era Russian bases (Akhalkalaki vacated Jun 2007, Batumi handed over 13 Nov 2007). Russian forces in "
        "Abkhazia and South Ossetia (peacekeepers before 2008, bases after) are not coded",
        "press",
    ),
    (
        "MDA",
        "RUS",
        "2023",
        1992,
        None,
        1992,
        ["mda", "mda2"],
        "14th Army / Operational Group of Russian Forces (from 1995) in Transnistria, territory not controlled by "
        "Chisinau; Cobasna depot guard",
        "press",
    ),
    (
        "BLR",
        "RUS",
        "2021-02",
        1992,
        None,
        1992,
        ["blr", "blr2"],
        "43rd Navy communication centre, Vileyka (operating since 1964) and Baranovichi early-warning node (Volga "
        "radar, operational 2003); agreements of 6 Jan 1995, in force 7 Jun 1996 for 25 years, extension agreed 2021",
        "press",
    ),
    (
        "AZE",
        "RUS",
        "2012-12",
        1992,
        2012,
        1992,
        ["gab", "gab2"],
        "Gabala (Daryal) radar: used by Russia after 1991, 10-year lease signed 25 Jan 2002; operation ended 10 Dec 2012",
        "press",
    ),
    (
        "UKR",
        "RUS",
        "2010-04",
        1992,
        2013,
        1992,
        ["bsf", "bsf2"],
        "Black Sea Fleet in Sevastopol (1997 treaties, lease to 2017, extended in 2010 to 2042); coded to 2013: from "
        "2014 Crimea was annexed and the presence is no longer a base on territory Kyiv controls",
        "press",
    ),
    (
        "TJK",
        "CHN",
        "2019-02",
        2016,
        None,
        2016,
        ["chn", "chn2"],
        "LOW RELIABILITY: unacknowledged Chinese outpost near Shaymak (GBAO), 'at least three years' before Feb 2019 "
        "(Washington Post, satellite images, interviews); denied by the Tajik government; the Oct 2021 Chinese-funded "
        "police post (Ishkashim) is officially without Chinese personnel",
        "press_report",
    ),
]


def presence_rows() -> list[dict]:
    """Value 1 for each year present, 0 for documented years before opening or after closing, 1992-2022."""
    out = []
    for state, partner, vintage, first, last, start, srcs, note, basis in PRESENCE:
        end = last if last is not None else 2022
        for year in range(start, 2023):
            present = first <= year <= end
            rule = "" if present else "0: outside the sourced presence dates; "
            out.append(
                row(
                    "base_presence",
                    state,
                    partner,
                    year,
                    1 if present else 0,
                    "bool",
                    basis,
                    " ; ".join(P[s] for s in srcs),
                    vintage,
                    rule + note,
                )
            )
    return out


def main() -> None:
    """Write the CSV."""
    rows = sipri_rows() + wdi_rows() + sender_rows() + ims_rows() + presence_rows()
    keys = [(r["series"], r["state"], r["partner"], r["year"]) for r in rows]
    assert len(keys) == len(set(keys)), "duplicate (series, state, partner, year)"
    with OUT.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    print(len(rows), "rows ->", OUT)


if __name__ == "__main__":
    main()
