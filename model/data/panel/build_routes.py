"""Build model/data/panel/routes.csv (export routes, dated projects, capacities, pipeline gas flows).

Provenance script, run by hand only: `python build_routes.py` from this folder.
Needs: pandas and openpyxl; the git mirrors listed in BP_FILES under /work/.mirror/ (fetched with the
session's `fetch` tool); network is not used. Two parts:
1. gas_exports_pipeline: BP / Energy Institute Statistical Review workbooks, sheet "Natural Gas: Trade movements
   <year> by pipeline" (one year per workbook), exporters KAZ, TKM, UZB, AZE, partners CHN, RUS, TUR, EU, OTHER, ALL.
2. dated projects (route_open_*, route_agreement_*, pipeline_capacity_*, rail_capacity_*, *_throughput_*,
   corridor_teu_*): typed in PROJECTS / POINTS below from the stored pages cited in each row.
"""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parent / "routes.csv"
MIRROR = Path("/work/.mirror")
YEARS = range(1992, 2023)
COLS = ["series", "state", "partner", "year", "value", "unit", "basis", "source", "vintage", "note"]

# data year -> (repo, commit, path, sheet, vintage, edition)
BP_FILES = {
    2013: ("kiln/carbonmap.org", "c726ef9d5407b4a19f51b6c8d66500c48134ffb4",
           "data/Raw/BP/BP-Statistical_Review_of_world_energy_2014_workbook.xlsx", "Gas - Trade - pipeline", "2014-06",
           "BP Statistical Review 2014"),
    2014: ("petermott/egypt-energy", "912c4cd3bee64bc38c41b7feddb7cd61a3fe927d",
           "bp-statistical-review-of-world-energy-2015-workbook.xlsx", "Gas - Trade - pipeline", "2015-06",
           "BP Statistical Review 2015"),
    2016: ("kyiwin/oil-price-production", "78ad6aeddedb2d21dbb47fc99b415c5d44be11d0",
           "bp-statistical-review-of-world-energy-2017-underpinning-data.xlsx", "Gas - Trade - pipeline", "2017-06",
           "BP Statistical Review 2017"),
    2017: ("mattjcan/energy_data", "e1cd1b65af03c8cfa1e49ea60e389b266dd1e9cd",
           "data/bp-stats-review-2018-all-data.xlsx", "Gas - Trade - pipeline", "2018-06", "BP Statistical Review 2018"),
    2018: ("tzeghnoun/BP_stats", "beaa7faa8f2c145206ad41bad5fb2a7982406663",
           "data/bp-stats-review-2019-all-data.xlsx", "Gas - Trade movts - pipeline", "2019-06",
           "BP Statistical Review 2019"),
    2019: ("martavp/pv-is-ready", "c68c3aa7c23f13cfc63fe87095eb7b2f4116d48b",
           "data/bp-stats-review-2020-all-data.xlsx", "Gas - Trade movts - pipeline", "2020-06",
           "BP Statistical Review 2020"),
    2020: ("DyingDown/Wind-Energy-Visualization", "b2080436739a6da100345c310068a2116f1bbdea",
           "bp-stats-review-2021-all-data.xlsx", "Gas - Trade movts - pipeline", "2021-07", "BP Statistical Review 2021"),
    2021: ("nfcd/energyPlots", "fc3c4a7730bf7cdf0ce0e7059bf2b52490539ccb",
           "data/bp-stats-review-2022-all-data.xlsx", "Gas - Trade movts - pipeline", "2022-06",
           "BP Statistical Review 2022"),
    2022: ("nfcd/energyPlots", "d510c19bace68dfa4feb94b7adc4ff204c445b7b",
           "data/Statistical Review of World Energy Data.xlsx", "Gas - Trade movts - pipeline", "2023-06",
           "Energy Institute Statistical Review 2023"),
}
EXPORTERS = {"Kazakhstan": "KAZ", "Turkmenistan": "TKM", "Uzbekistan": "UZB", "Azerbaijan": "AZE"}
EU27_ROWS = {"Austria", "Belgium", "Czech Republic", "Finland", "France", "Germany", "Greece", "Hungary", "Ireland",
             "Italy", "Netherlands", "Poland", "Slovakia", "Spain", "Other EU", "European Union", "EU"}
MIXED_EUROPE = {"Other Europe"}  # EU and non-EU mixed (2013-2016 editions)


def read_sheet(repo: str, commit: str, path: str, sheet: str) -> pd.DataFrame:
    """One sheet of a workbook stored in a fetched repository (git show of the blob), without a header row."""
    gitdir = MIRROR / repo.replace("/", "+") / "repo"
    blob = subprocess.run(["git", "-C", str(gitdir), "show", f"{commit}:{path}"], capture_output=True, check=True).stdout
    return pd.read_excel(io.BytesIO(blob), sheet_name=sheet, header=None)


def num(v) -> float:
    """A matrix cell as a number: blanks, dashes and the less-than-0.05 dagger count as zero."""
    if isinstance(v, (int, float)) and v == v:
        return float(v)
    return 0.0  # '†' (less than 0.05), blanks and '-' count as zero in the matrix


def gas_rows() -> list[dict]:
    """Pipeline gas exports by exporter and destination from each stored Statistical Review edition."""
    rows = []
    for year, (repo, commit, path, sheet, vintage, edition) in BP_FILES.items():
        df = read_sheet(repo, commit, path, sheet)
        header = [str(h).strip() for h in df.iloc[2].tolist()]
        labels = {}
        for j, h in enumerate(header):
            labels[j] = h
        fix = ""
        if year == 2014:
            # stored copy: the exporter header row lacks one label, so from column 10 on every label sits one column
            # to the left of its data; column 10 holds Azerbaijan (sum check against the 'Gas - Trade 2013-2014' sheet
            # of the 2015 edition: 7.73 + 11.44 + 41.57 + 8.52 = 69.26 = 'Other Former Soviet Union' pipeline exports)
            labels = {j: (header[j - 1] if j >= 11 else h) for j, h in enumerate(header)}
            labels[10] = "Azerbaijan"
            fix = "; header of the stored 2014 sheet is shifted by one column from column 10: realigned (see doc)"
        importers = {str(df.iloc[i, 0]).strip(): i for i in range(3, len(df))}
        for j, lab in labels.items():
            if lab not in EXPORTERS:
                continue
            st = EXPORTERS[lab]
            col = {imp: num(df.iloc[i, j]) for imp, i in importers.items()}
            src = f"{edition}, sheet '{sheet}', github.com/{repo} commit {commit[:7]} file {path}"
            base = dict(series="gas_exports_pipeline", state=st, year=year, unit="bcm", basis="bp", source=src,
                        vintage=vintage)
            tot = col.get("Total exports", 0.0)
            rows.append(dict(base, partner="ALL", value=round(tot, 3),
                             note="BP 'Total exports' by pipeline (LNG excluded; Central Asian states export no LNG)"
                             + fix))
            rows.append(dict(base, partner="CHN", value=round(col.get("China", 0.0), 3), note="importer row 'China'" + fix))
            rows.append(dict(base, partner="RUS", value=round(col.get("Russian Federation", 0.0), 3),
                             note="importer row 'Russian Federation' (gas bought at the border or processed in Russia,"
                             " e.g. Karachaganak gas to Orenburg, counts here)" + fix))
            if "Turkey" in col:
                rows.append(dict(base, partner="TUR", value=round(col["Turkey"], 3), note="importer row 'Turkey'" + fix))
            elif col.get("Europe", 0.0) == 0.0:
                rows.append(dict(base, partner="TUR", value=0.0,
                                 note="Turkey not listed separately (inside 'Rest of Europe'); 0 because the exporter"
                                 " sends nothing to Europe" + fix))
            mixed = sum(col.get(m, 0.0) for m in MIXED_EUROPE)
            if mixed == 0.0:
                present = sorted(r for r in EU27_ROWS if r in col)
                rows.append(dict(base, partner="EU", value=round(sum(col[r] for r in present), 3),
                                 note="EU27 = sum of importer rows " + "+".join(present) + fix))
            if "Iran" in col:
                rows.append(dict(base, partner="OTHER", value=round(col["Iran"], 3), note="Iran (importer row 'Iran')" + fix))
            elif "Other Middle East" in col:
                rows.append(dict(base, partner="OTHER", value=round(col["Other Middle East"], 3),
                                 note="Iran: importer row 'Other Middle East'; judgement that Iran is the only Middle East"
                                 " country these exporters' pipelines reach" + fix))
    return rows


# ---- dated projects ------------------------------------------------------------------------------------------
# (series suffix, states, partner, opening year or None if not open by 2022, source, note)
PROJECTS = [
    ("cac", ["TKM", "UZB", "KAZ"], "RUS", 1974,
     "RIA Novosti 22 Nov 2007 (the 1974 Central Asia-Center gas pipeline) https://sputniknews.com/20071122/89063513.html",
     "Central Asia-Center gas system (Soviet-era, built 1974 per source), open in every panel year; Gazprom bought no"
     " Turkmen gas Jan 2016-Apr 2019 (RFE/RL, ties.csv) but the route stayed physically open"),
    ("bukhara_ural", ["UZB"], "RUS", 1963,
     "Kun.uz 27 Feb 2023 (first branch Gazli-Chelyabinsk 1963, second 1966) https://m.kun.uz/en/news/2023/02/27/"
     "kazakhstan-plans-to-start-constructing-third-branch-of-bukhara-ural-gas-pipeline-in-march",
     "Bukhara-Ural gas pipeline Uzbekistan-Kazakhstan-Russia; reversed in autumn 2014 to carry Russian gas to southern"
     " Kazakhstan (same source)"),
    ("cagp_a", ["TKM", "UZB", "KAZ"], "CHN", 2009,
     "Oil&Gas Eurasia / People's Daily 16 Jun 2014 (Line A launched Dec 2009, Line B Oct 2010) "
     "https://www.oilandgaseurasia.com/en/news/china-central-asian-countries-open-3rd-gas-line/",
     "Central Asia-China gas pipeline Line A (Turkmenistan-Uzbekistan-Kazakhstan-Xinjiang), opened 14-15 Dec 2009"),
    ("cagp_b", ["TKM", "UZB", "KAZ"], "CHN", 2010,
     "Oil&Gas Eurasia / People's Daily 16 Jun 2014 https://www.oilandgaseurasia.com/en/news/"
     "china-central-asian-countries-open-3rd-gas-line/", "Line B, October 2010"),
    ("cagp_c", ["TKM", "UZB", "KAZ"], "CHN", 2014,
     "RFE/RL 2014 (Line C gas flowing from 31 May 2014) https://rferl.org/a/third-line-of-central-asia-china-gas-"
     "pipeline-launched/25407101.html", "Line C, gas from 31 May 2014, full 25 bcm design by end-2015"),
    ("cagp_d", ["TKM", "UZB", "TJK", "KGZ"], "CHN", None,
     "Asia-Plus 7 Mar 2017 (Line D put on hold, Uzbek section postponed indefinitely) https://asiaplustj.info/en/news/"
     "centralasia/20170307/237363 ; The Diplomat May 2016 https://thediplomat.com/2016/05/line-d-of-the-central-asia-"
     "china-gas-pipeline-delayed/", "Line D (Turkmenistan-Uzbekistan-Tajikistan-Kyrgyzstan-China, 30 bcm design): Tajik"
     " section groundbreaking 13 Sep 2014, suspended 2016-2017; not built by 2022"),
    ("kkk", ["TKM"], "OTHER", 1997,
     "Turkish News World (opened December 1997) https://de.turkishnewsworld.com/turkmenistan-will-erdgaslieferungen-an-"
     "den-iran-entlang-der-route-korpeje-kurtkui-erhoehen ; AP 12 Jul 2009 http://ilgerek.blogspot.com/2009/07/"
     "turkmenistan-plans-gas-pipeline-to.html", "Korpeje-Kurt Kui gas pipeline to Iran (partner OTHER = Iran)"),
    ("dsk", ["TKM"], "OTHER", 2010,
     "CCTV / AP 7 Jan 2010 (inaugurated 6 Jan 2010) http://english.cctv.com/program/worldwidewatch/20100107/101867.shtml",
     "Dauletabad-Sarakhs-Khangiran gas pipeline to Iran (partner OTHER = Iran)"),
    ("tanap", ["AZE"], "TUR", 2018,
     "Reuters 12 Jun 2018 https://www.reuters.com/article/energy-turkey-tanap-idAFL8N1TE5BE",
     "Trans-Anatolian gas pipeline (Shah Deniz II gas to Turkey, 6 bcm, and onward to Europe, 10 bcm); commercial"
     " deliveries to Turkey from 30 Jun 2018"),
    ("cpc", ["KAZ"], "RUS", 2001,
     "UK Hansard written answer 10 Dec 2001 (Tengiz-Novorossiysk officially opened 27 Nov 2001) https://api.parliament.uk/"
     "historic-hansard/written_answers/2001/dec/10/caspian-oil-pipelines",
     "Caspian Pipeline Consortium oil pipeline Tengiz-Novorossiysk; partner RUS = transit and carrier (buyers are"
     " mostly European: judgement)"),
    ("atyrau_samara", ["KAZ"], "RUS", 1970,
     "UK Hansard 10 Dec 2001 (existing Atyrau-Samara line) https://api.parliament.uk/historic-hansard/written_answers/"
     "2001/dec/10/caspian-oil-pipelines ; Uzen-Guriev-Kuibyshev line built in the 1966-1970 plan http://geum.ru/doc/work/"
     "3792/20000.php", "Soviet-era oil pipeline (Uzen-)Atyrau-Samara into the Transneft system; opening year 1970 is"
     " the end of the 1966-1970 plan period named by the source (judgement), open in every panel year"),
    ("kcop_atasu", ["KAZ"], "CHN", 2006,
     "RFE/RL 2006 (first crude across the Alataw pass 11 Jul 2006) https://staging.rferl.org/a/1069776.html",
     "Kazakhstan-China oil pipeline, Atasu-Alashankou section (line-fill from Dec 2005, first oil into China July 2006)"),
    ("kcop_kenkiyak_kumkol", ["KAZ"], "CHN", 2009,
     "Tauekel gas pipeline (Kenkiyak-Kumkol completed Sep 2009) https://tauekelgaspipeline.kz/project1.php",
     "Kazakhstan-China oil pipeline second stage, links western Kazakh fields to Atasu-Alashankou"),
    ("btc", ["AZE"], "EU", 2006,
     "RFE/RL 13 Jul 2006 (BTC inaugurated at Ceyhan) https://rferl.org/amp/1069835.html ; first oil at Ceyhan 28 May 2006"
     " https://en.portnews.ru/news/10152", "Baku-Tbilisi-Ceyhan oil pipeline; partner EU = the market reached via Georgia"
     " and Turkey (brief's convention; Turkey and Georgia are the transit states)"),
    ("btc", ["KAZ"], "EU", 2008,
     "The Messenger 6 Nov 2008 (Kazakh Tengiz oil transit via BTC has begun, tankers Aktau-Baku) http://www.messenger.com."
     "ge/issues/1727_november_6_2008/1727_econ_two.html ; EnergyAsia 26 Dec 2008 http://energyasia.com/kazakhstan-btc-"
     "pipeline-exporting-crude-oil-from-kazakh-tengiz-field/", "Kazakh oil by tanker Aktau-Baku then BTC; small volumes"
     " (0.3 Mt planned for end-2008); partner EU as for AZE"),
    ("rail_dostyk_alashankou", ["KAZ"], "CHN", 1991,
     "UIC eNews 327, 8 Jan 2013 (Dostyk-Alashankou operating since 1991) https://www.uic.org/com/enews/nr/327/article/"
     "kazakhstan-a-movement-of-trains-on?page=modal_enews", "first China-Kazakhstan rail crossing"),
    ("rail_khorgos", ["KAZ"], "CHN", 2012,
     "Xinhua via Railly News 22 Dec 2012 http://www.raillynews.com/2012/china-opens-second-cross-border-railway-to-"
     "kazakhstan/ ; UIC eNews 327 https://www.uic.org/com/enews/nr/327/article/kazakhstan-a-movement-of-trains-on?"
     "page=modal_enews", "second China-Kazakhstan crossing Altynkol-Khorgos (Zhetygen-Khorgos line), opened 22 Dec 2012"),
    ("rail_uzen_gorgan", ["KAZ", "TKM"], "OTHER", 2014,
     "TASS 3 Dec 2014 https://tass.com/world/764933", "Kazakhstan-Turkmenistan-Iran railway (Uzen-Bereket-Etrek-Gorgan),"
     " inaugurated 3 Dec 2014; partner OTHER = Iran and the Gulf; the Kazakh-Turkmen link opened May 2013 (routes.csv)"),
    ("rail_btk", ["AZE", "GEO"], "TUR", 2017,
     "Trend via xebersaati 30 Oct 2017 http://www.xebersaati.com/news/142061-baku-tbilisi-kars-railway-officially-"
     "launched-in-baku/ ; Tabula 30 Oct 2017 http://www.tabula.ge/ge/node/125979", "Baku-Tbilisi-Kars railway opened"
     " 30 Oct 2017 (regular operation from 2018 per Tabula)"),
    ("rail_angren_pap", ["UZB"], "ALL", 2016,
     "Railly News June 2016 https://www.raillynews.com/2016/06/angren-pap-railway/ ; Asia-Plus 25 Feb 2016 https://old."
     "asiaplustj.info/en/news/centralasia/20160225/uzbekistan-builds-rail-link-ferghana-valley-bypasses-tajikistan",
     "domestic Angren-Pap line with the Kamchik tunnel (opening ceremony 22 Jun 2016): Ferghana valley traffic in all"
     " directions no longer transits Tajikistan (partner ALL: judgement)"),
    ("rail_cku", ["KGZ", "UZB"], "CHN", None,
     "AzerNews/Trend 15 Sep 2022 https://www.azernews.az/region/199444.html", "China-Kyrgyzstan-Uzbekistan railway: only a"
     " feasibility-study cooperation agreement by 2022 (14 Sep 2022, Samarkand); not built by 2022"),
]
AGREEMENTS = [
    ("cagp_d", ["TKM", "UZB", "TJK", "KGZ"], "CHN", 2013,
     "Asia-Plus 11 Mar 2014 (inter-governmental agreements on Line D signed Sep 2013) https://old.asiaplustj.info/en/node/"
     "185085", "intergovernmental agreements with Uzbekistan, Tajikistan and Kyrgyzstan, September 2013"),
    ("rail_cku", ["KGZ", "UZB"], "CHN", 2022,
     "AzerNews/Trend 15 Sep 2022 https://www.azernews.az/region/199444.html ; UrduPoint/Sputnik 15 Sep 2022 "
     "https://www.urdupoint.com/en/world/kyrgyzstan-uzbekistan-china-sign-agreement-1563011.html",
     "agreement on the Kyrgyz section's feasibility study (NDRC and the two transport ministries), 14 Sep 2022"),
    ("titr", ["KAZ", "AZE", "GEO"], "EU", 2013,
     "Eurasia Magazine (TITR agreement signed in Astana in 2013; organisation operational since 2017) https://"
     "eurasiamagazine.com/the-significance-of-the-trans-caspian-international-transport-route",
     "Trans-Caspian International Transport Route (Middle Corridor) founding agreement of the railway and port"
     " companies; partner EU = the European market it serves via Turkey or the Black Sea (judgement)"),
]
# point values: (series, state, partner, year, value, unit, source, vintage, note)
POINTS = [
    ("pipeline_capacity_cac", "TKM", "RUS", 2007, 50, "bcm_yr",
     "China Daily / Xinhua 20 Dec 2007 https://www.chinadaily.com.cn/china/2007-12/20/content_6337371_5.htm", "2007-12",
     "source: annual capacity 'nearly 50 bcm'; shared by Turkmen, Uzbek and Kazakh exports to Russia"),
    ("pipeline_capacity_cagp", "TKM", "CHN", 2010, 30, "bcm_yr",
     "Oreanda 10 Jun 2014 https://www.oreanda-news.com/en/promyshlennost/article827377/", "2014-06",
     "Lines A+B design capacity 30 bcm/yr"),
    ("pipeline_capacity_cagp", "TKM", "CHN", 2014, 37, "bcm_yr",
     "Oil&Gas Eurasia / People's Daily 16 Jun 2014 https://www.oilandgaseurasia.com/en/news/china-central-asian-countries-"
     "open-3rd-gas-line/", "2014-06", "derived: Lines A+B 30 plus Line C's capacity 'currently' 7 bcm/yr at its opening"),
    ("pipeline_capacity_cagp", "TKM", "CHN", 2021, 55, "bcm_yr",
     "Turkmennebit 23 Mar 2022 (lines A-C capacity 55 bcm/yr) https://turkmennebit.gov.tm/en/articles/403", "2022-03",
     "Lines A-C; Line C quotas 10 TKM, 10 UZB, 5 KAZ (RFE/RL 2014)"),
    ("pipeline_capacity_kkk", "TKM", "OTHER", 1997, 8, "bcm_yr",
     "AP 12 Jul 2009 http://ilgerek.blogspot.com/2009/07/turkmenistan-plans-gas-pipeline-to.html ; Mehr News 2009 "
     "https://en.mehrnews.com/amp/36662", "2009-12", "design capacity 8 bcm/yr since 1997; actual never above 6.5 bcm"
     " to 2009 (Vremya via Mehr)"),
    ("pipeline_capacity_dsk", "TKM", "OTHER", 2010, 6, "bcm_yr",
     "Everychina / AFP 20 May 2011 (cross-border line 6 bcm/yr, expected to double to 12) https://news.everychina.com/"
     "wz40116f/middle_east_iran_turkmenistan_open_sarakhs_tehran_pipeline.html", "2011-05",
     "initial capacity; Messenger 8 Jan 2010 gives 'up to 20 bcm' as the eventual figure"),
    ("pipeline_capacity_tanap", "AZE", "TUR", 2018, 16, "bcm_yr",
     "Reuters 12 Jun 2018 https://www.reuters.com/article/energy-turkey-tanap-idAFL8N1TE5BE", "2018-06",
     "initial design 16 bcm/yr (6 Turkey, 10 Europe); expansion to 31 planned"),
    ("pipeline_capacity_cpc", "KAZ", "RUS", 2001, 28, "mt_yr",
     "Al Bawaba Nov 2000 (initial 28 Mt/yr, eventual 67) https://www.albawaba.me/business/caspian-consortium-lays-pipeline"
     " ; Nezavisimaya Gazeta 23 Nov 2000 https://ng.ru/events/2000-11-23/1_ktk.html", "2000-11",
     "initial capacity at opening; shared with Russian oil"),
    ("pipeline_capacity_cpc", "KAZ", "RUS", 2008, 33, "mt_yr",
     "Newsline.kz (Dec 2008 memorandum to expand from 33 to 67 Mt/yr) http://www.newsline.kz/article/590021/", "2009",
     "capacity before the 2011-2018 expansion"),
    ("pipeline_capacity_cpc", "KAZ", "RUS", 2020, 67, "mt_yr",
     "KazMunayGas Annual Report 2020, oil transportation https://ar2020.kmg.kz/en/strategic-report/operating/"
     "oil-transportation", "2021", "after the expansion (launched Jul 2011, Tengrinews); Daryo 28 May 2025 says"
     " capacity rose from 67 to 81.5 only in 2024"),
    ("pipeline_capacity_atyrau_samara", "KAZ", "RUS", 2020, 17.5, "mt_yr",
     "KazMunayGas Annual Report 2020 https://ar2020.kmg.kz/en/strategic-report/operating/oil-transportation", "2021",
     "Atyrau-Samara section"),
    ("pipeline_capacity_kcop_atasu", "KAZ", "CHN", 2006, 10, "mt_yr",
     "Jamestown EDM vol 3 issue 1, Jan 2006 https://jamestown.org/program/atasu-alashankou-pipeline-cements-strategic-"
     "alliance-between-beijing-and-astana/", "2006-01", "initial capacity; design 20 Mt/yr"),
    ("pipeline_capacity_kcop_atasu", "KAZ", "CHN", 2020, 20, "mt_yr",
     "KazMunayGas Annual Report 2020 https://ar2020.kmg.kz/en/strategic-report/operating/oil-transportation", "2021",
     "Kazakhstan-China Pipeline LLP (Atasu-Alashankou)"),
    ("pipeline_capacity_kcop_kenkiyak_kumkol", "KAZ", "CHN", 2009, 10, "mt_yr",
     "Tauekel https://tauekelgaspipeline.kz/project1.php", "n.d.", "initial stage; expandable to 20 Mt/yr"),
    ("rail_capacity_uzen_gorgan", "TKM", "OTHER", 2014, 12, "mt_yr",
     "Dawn / AFP 4 Dec 2014 https://www.dawn.com/news/1148675/cdnjs.cloudflare.com", "2014-12",
     "Turkmen railway ministry: up to 12 Mt of cargo a year"),
    ("rail_capacity_btk", "AZE", "TUR", 2017, 6.5, "mt_yr",
     "Trend via xebersaati 30 Oct 2017 http://www.xebersaati.com/news/142061-baku-tbilisi-kars-railway-officially-"
     "launched-in-baku/", "2017-10", "initial stage 6.5 Mt/yr; peak 17 Mt/yr"),
    ("oil_throughput_cpc", "KAZ", "RUS", 2010, 28.4, "mt",
     "Tengrinews 1 Jul 2011 (CPC 34.9 Mt in 2010 incl. 28.4 Mt Kazakh) https://en.tengrinews.kz/industry_infrastructure/"
     "Project-to-expand-Caspian-Pipeline-Consortium-pipeline-2923/", "2011-07", "Kazakh oil only"),
    ("oil_throughput_cpc", "KAZ", "RUS", 2022, 52.2, "mt",
     "Reuters via Zonebourse (CPC statement) https://ch.zonebourse.com/actualite-bourse/Le-Consortium-de-l-oleoduc-de-la-"
     "Caspienne-est-pret-a-augmenter-l-approvisionnement-en-petrole-e-42725532", "2023",
     "Kazakh oil in CPC's 58.7 Mt (as in ties.csv)"),
    ("oil_throughput_atyrau_samara", "KAZ", "RUS", 2022, 8, "mt",
     "LKY School 2024 https://lkyspp.nus.edu.sg/gia/article/diversifying-kazakhstan-s-oil-exports-from-russia", "2024",
     "as in ties.csv"),
    ("oil_throughput_kcop", "KAZ", "CHN", 2009, 7.7, "mt",
     "investkz.com journal 70 http://investkz.com/en/journals/70/577.html", "2010", "as in ties.csv (7.7 of 68.1 Mt)"),
    ("oil_throughput_kcop", "KAZ", "CHN", 2022, 1, "mt",
     "LKY School 2024 https://lkyspp.nus.edu.sg/gia/article/diversifying-kazakhstan-s-oil-exports-from-russia", "2024",
     "source: 'about 1 Mt' Kazakh oil (Russian transit oil to China excluded)"),
    ("corridor_teu_titr", "KAZ", "EU", 2021, 25200, "teu",
     "TITR Association (Ankara general meeting) https://middlecorridor.com/en/pressa/news/166-the-growing-importance-of-the-"
     "trans-caspian-international-transport-route-was-discussed-in-turkey", "2022",
     "containers on the whole route (all shippers incl. China-Europe transit), not Kazakh exports; state KAZ = entry"),
    ("corridor_teu_titr", "KAZ", "EU", 2020, 21000, "teu",
     "TITR Association https://middlecorridor.com/en/pressa/news/166-the-growing-importance-of-the-trans-caspian-"
     "international-transport-route-was-discussed-in-turkey", "2022",
     "derived: 2021 figure 25.2 thousand TEU was '20% more than in 2020', so 25200/1.2 = 21000 (rounded source)"),
    ("corridor_teu_titr", "KAZ", "EU", 2022, 33600, "teu",
     "TITR secretary general via Trend / Tajikistan News Gazette https://tajikistannewsgazette.com/over-30000-containers-"
     "transshipped-through-middle-corridor-in-2022/", "2023-06", "excluding the Turkmen direction"),
]
CARRY = [  # (series, state, partner, from, to, value, unit, sourced year, note): values carried by a stated rule
    ("pipeline_capacity_cagp", "TKM", "CHN", 2015, 2020, 55, "bcm_yr", 2021,
     "derived: Line C design 25 bcm reached by end-2015 (CNPC plan, Oil&Gas Eurasia 2014) giving 55, equal to the 2021"
     " figure (Turkmennebit); no intermediate figure found"),
    ("pipeline_capacity_cagp", "TKM", "CHN", 2022, 2022, 55, "bcm_yr", 2021,
     "carried from 2021 (Turkmennebit); no line added by 2022"),
    ("pipeline_capacity_cagp", "TKM", "CHN", 2011, 2013, 30, "bcm_yr", 2010, "carried from 2010 (Lines A+B); Line C opened 2014"),
    ("pipeline_capacity_kkk", "TKM", "OTHER", 1998, 2022, 8, "bcm_yr", 1997,
     "carried from 1997 design capacity; no expansion reported (flows stopped 2017-2021 by a price dispute)"),
    ("pipeline_capacity_cpc", "KAZ", "RUS", 2021, 2022, 67, "mt_yr", 2020,
     "carried from 2020 (KMG AR2020); Daryo 2025 dates the next increase to 2024"),
    ("pipeline_capacity_kcop_atasu", "KAZ", "CHN", 2021, 2022, 20, "mt_yr", 2020, "carried from 2020 (KMG AR2020)"),
]


def project_rows() -> list[dict]:
    """Opening and agreement flags (and capacities) of the dated route projects, one row per year."""
    rows = []
    for suffix, states, partner, start, src, note in PROJECTS:
        for st in states:
            for y in YEARS:
                val = 1 if (start is not None and y >= start) else 0
                rows.append(dict(series=f"route_open_{suffix}", state=st, partner=partner, year=y, value=val, unit="flag",
                                 basis="project_date", source=src, vintage="", note=note))
    for suffix, states, partner, start, src, note in AGREEMENTS:
        for st in states:
            for y in YEARS:
                rows.append(dict(series=f"route_agreement_{suffix}", state=st, partner=partner, year=y,
                                 value=1 if y >= start else 0, unit="flag", basis="project_date", source=src, vintage="",
                                 note=note))
    src_of = {}
    for series, st, partner, y, val, unit, src, vint, note in POINTS:
        rows.append(dict(series=series, state=st, partner=partner, year=y, value=val, unit=unit, basis="project_report",
                         source=src, vintage=vint, note=note))
        src_of[(series, st, partner, y)] = (src, vint)
    for series, st, partner, y0, y1, val, unit, ysrc, note in CARRY:
        src, vint = src_of[(series, st, partner, ysrc)]
        for y in range(y0, y1 + 1):
            rows.append(dict(series=series, state=st, partner=partner, year=y, value=val, unit=unit, basis="rule",
                             source=src, vintage=vint, note=note))
    return rows


def main() -> None:
    """Write routes.csv: gas flows and route projects, with no repeated (series, state, partner, year)."""
    rows = gas_rows() + project_rows()
    keys = [(r["series"], r["state"], r["partner"], r["year"]) for r in rows]
    dup = {k for k in keys if keys.count(k) > 1}
    assert not dup, dup
    rows.sort(key=lambda r: (r["series"], r["state"], r["partner"], r["year"]))
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLS)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in COLS})
    print(len(rows), "rows ->", OUT)


if __name__ == "__main__":
    main()
