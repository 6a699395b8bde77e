"""Build model/data/panel/record.csv: the record as dated spells, pooled (issue 17 item 1).

Run by hand from the repository root: `python model/data/panel/build_record.py`. Needs only the standard library
and `model/data/status_history.csv` (the checked spells, copied verbatim or split at a documented date). Every
other spell is written here from a stored page found with the project's `search` tool; the URL is in `source`.

Date rule (record.md): a day D of year Y is Y + doy(D) / days_in_year(Y), rounded to 2 decimals; a date known
only to the month uses the 15th; a date known only to the year uses 1 July (Y.50).
"""

# ruff: noqa: E501  (source URLs are longer than a line)
from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "record.csv"
COLUMNS = ["state", "lineage", "kind", "level", "start", "end", "end_is_choice", "source", "lineage_kind_note"]

SA, EU, RO, SF = "security_alliance", "economic_union", "regional_organisation", "summit_format"


def dec(iso: str) -> float:
    """Decimal year of an ISO date (YYYY-MM-DD), by the rule in the module docstring."""
    d = dt.date.fromisoformat(iso)
    days = 366 if (d.year % 4 == 0 and (d.year % 100 != 0 or d.year % 400 == 0)) else 365
    return round(d.year + d.timetuple().tm_yday / days, 2)


# --- sources -------------------------------------------------------------------------------------------------
S = {
    "tass_csto": "http://tass.com/archive/678014",
    "by_csto": "https://mfa.gov.by/en/mulateral/organization/list/cddd96a3f70190b1.html",
    "kremlin_csto": "https://www.alliansfriheten.se/telephone-conversation-with-president-of-belarus-alexander-lukashenko-en-kremlin-ru/"
    " (kremlin.ru reference note on the CSTO)",
    "wiki2006_csto": "https://amansaja.com/index.php?q=Mfv0Kfa6bO9BLE53MqTXKgrCMqiSL3dZb3KRMq5CnpGSKgFQx3vXJgPBxszRLgPBo3vXJArHs2rDJpdXJfBHrfdBopv5p09On2hSMpXFJgBRLEnFLpm7L2PCMqw9zts1zNoNzNe%3D"
    " (Wikipedia revision of 28 May 2006)",
    "jt_shrinks": "https://jamestown.org/program/collective-security-treaty-shrinks-guam-set-to-grow",
    "pan_cis": "https://www.panarmenian.net/eng/world/news/27321/",
    "civil_cis": "https://civil.ge/archives/119287",
    "aze_cis": "http://www.country-data.com/cgi-bin/query/r-996.html",
    "aze_1993": "https://lib.aliyevheritage.org/print.php?lang=en&page=828425",
    "mda_cis": "http://www.country-data.com/cgi-bin/query/r-8858.html",
    "mda_1994": "https://www.nrc.nl/nieuws/1994/04/09/nieuw-parlement-moldavie-stemt-voor-aansluiting-bij-7220471-a431243",
    "ukr_cis": "http://tass.com/world/1005227",
    "cu_1995": "https://evrazes.com/docs/view/148",
    "cu_kaz": "http://evrazes.com/docs/view/118",
    "cu_1999": "https://cis-legislation.com/document.fwx?rgn=3978",
    "tass_eurasec": "https://tass.com/economy/753661/amp",
    "ereport": "https://www.ereport.ru/en/articles/ecunions/eurazes.htm",
    "vedomosti": "https://www.vedomosti.ru/library/news/2008/11/12/uzbekistan-priostanovil-chlenstvo-v-evrazjes",
    "arm_2003": "https://newpan.vk.am/ru/news/822",
    "kremlin_cu": "http://en.special.kremlin.ru/catalog/glossary/41",
    "by_end": "https://president.gov.by/en/events/sessions-of-eurasec-interstate-council-and-supreme-eurasian-economic-council-9981",
    "arm_eaeu": "https://www.commonspace.eu/commentary/armenia-becomes-4th-member-eeu-which-came-being-1-january-2015",
    "kgz_eaeu": "https://tass.com/economy/812859",
    "kgz_acc": "https://news.tj/en/news/issue-tajikistan-s-entry-eaeu-submitted-consideration-government",
    "eec_obs": "https://eec.eaeunion.org/en/comission/department/dep_razv_integr/mezhdunarodnoe-sotrudnichestvo/o-statuse-gosudarstva-nablyudatelya.php",
    "riac_mda": "https://russiancouncil.ru/en/blogs/GreaterEurasiaEnglish/moldova-received-eaeu-observer-status-what-next/",
    "sco_ufa": "https://massispost.com/2015/07/armenia-joins-shanghai-cooperation-organization-as-partner-in-dialogue/",
    "sco_arm": "https://www.gazeta.uz/ru/2016/04/16/sco/",
    "sco_aze": "https://report.az/en/foreign-politics/azerbaijan-officially-granted-status-of-sco-dialogue-partner",
    "sco_blr10": "http://belarus.kz/print/aktueller/8-1/89/560",
    "sco_blr": "https://tass.com/world/1642375/amp",
    "sco_blr15": "https://belarus.by/en/press-center/speeches-and-interviews/lukashenko-belarus-is-ready-to-be-a-field-player-in-sco_i_0000041908.html",
    "sco_blr22": "https://news.az/news/belarus-officially-becomes-sco-member",
    "sco_china": "http://english.china.org.cn/english/features/38183.htm",
    "ots_aze": "http://www.mfa.gov.az/en/content/948",
    "guam": "https://guam-organization.org/en/about-the-organization-for-democracy-and-economic-development-guam/",
}


def row(state, lineage, kind, level, start, end, choice, source, note=""):
    """One row of record.csv from its fields (start/end as decimal years, choice 1/0/blank)."""
    return {
        "state": state,
        "lineage": lineage,
        "kind": kind,
        "level": level,
        "start": start if isinstance(start, (int, float)) else dec(start),
        "end": "" if end == "" else (end if isinstance(end, (int, float)) else dec(end)),
        "end_is_choice": choice,
        "source": source,
        "lineage_kind_note": note,
    }


def existing() -> dict[tuple[str, str], list[dict]]:
    """The checked spells, keyed by (state, lineage), values as written in status_history.csv."""
    path = HERE.parent / "status_history.csv"
    out: dict[tuple[str, str], list[dict]] = {}
    for r in csv.DictReader(open(path, encoding="utf-8")):
        out.setdefault((r["state"], r["lineage"]), []).append(r)
    return out


def copied(r: dict, kind: str, note: str = "", **override) -> dict:
    """A spell of status_history.csv copied as it is, with its kind and a note; `override` replaces fields."""
    d = {k: r[k] for k in ("state", "lineage", "level", "start", "end", "end_is_choice", "source")}
    d.update(override)
    d["kind"] = kind
    d["lineage_kind_note"] = ("[copied from status_history.csv] " + note).strip()
    return d


def spells() -> list[dict]:
    """Every spell: the five modelled states' checked spells, split where a lineage changes kind, then the pooled states'."""
    ex = existing()
    rows: list[dict] = []
    five = ["KAZ", "KGZ", "TJK", "UZB", "TKM"]

    # ---------------- CIS (regional organisation) ----------------
    for s in five:
        for r in ex[(s, "CIS")]:
            rows.append(copied(r, RO, "CIS"))
    rows.append(row("ARM", "CIS", RO, "member", 1992.0, "", "", "Alma-Ata 21 Dec 1991 (" + S["pan_cis"] + ")", "CIS"))
    rows.append(row("BLR", "CIS", RO, "member", 1992.0, "", "", "founder, Belavezha 8 Dec 1991 (" + S["pan_cis"] + ")", "CIS"))
    rows.append(
        row(
            "MDA",
            "CIS",
            RO,
            "member",
            1992.0,
            "",
            "",
            "Alma-Ata 21 Dec 1991; parliament refused ratification, approved membership Apr 1994 ("
            + S["mda_cis"]
            + " ; "
            + S["mda_1994"]
            + ")",
            "CIS; judgement: signatory pending ratification counted as member, as TKM and UKR (never ratified the "
            "Charter) are; date of the refusal not found; Moldova left CIS bodies after 2022 (not in panel)",
        )
    )
    rows.append(
        row(
            "AZE",
            "CIS",
            RO,
            "member",
            1992.0,
            "1992-10-15",
            "yes",
            "Alma-Ata 21 Dec 1991; legislature voted against ratification Oct 1992 (" + S["aze_cis"] + ")",
            "CIS; day of the Oct 1992 vote not found (15th used)",
        )
    )
    rows.append(
        row(
            "AZE",
            "CIS",
            RO,
            "partial",
            "1992-10-15",
            "1993-09-24",
            "yes",
            "observer status retained after the Oct 1992 vote (" + S["aze_cis"] + ")",
            "CIS observer",
        )
    )
    rows.append(
        row(
            "AZE",
            "CIS",
            RO,
            "member",
            "1993-09-24",
            "",
            "",
            "Supreme Soviet decision 20 Sep 1993; Aliyev signed the CIS documents and the CST in Moscow ("
            + S["aze_1993"]
            + "; CST date 24 Sep 1993: "
            + S["kremlin_csto"]
            + ")",
            "CIS",
        )
    )
    rows.append(
        row(
            "GEO",
            "CIS",
            RO,
            "none",
            1992.0,
            "1993-12-15",
            "yes",
            "refused to join in 1991; joined Dec 1993 (" + S["pan_cis"] + " ; " + S["civil_cis"] + ")",
            "CIS; day in Dec 1993 not pinned (15th used); accession announced 8 Oct 1993",
        )
    )
    rows.append(
        row(
            "GEO",
            "CIS",
            RO,
            "member",
            "1993-12-15",
            "2008-08-18",
            "yes",
            "parliament resolution 14 Aug 2008, notified 18 Aug 2008, in effect 18 Aug 2009 ("
            + S["pan_cis"]
            + " ; "
            + S["civil_cis"]
            + ")",
            "CIS; end = notification date (the choice); legal exit 2009.63",
        )
    )
    rows.append(row("GEO", "CIS", RO, "none", "2008-08-18", "", "", "left the CIS (" + S["civil_cis"] + ")", "CIS"))
    rows.append(
        row(
            "UKR",
            "CIS",
            RO,
            "member",
            1992.0,
            "2018-05-19",
            "yes",
            "founder; ratified the Creation Agreement, never the Charter; decree recalling representatives from all "
            "CIS statutory bodies 19 May 2018 (" + S["ukr_cis"] + ")",
            "CIS; judgement: founding participant counted as member (as TKM before 2005); participation minimal from 2014",
        )
    )
    rows.append(
        row("UKR", "CIS", RO, "none", "2018-05-19", "", "", "ended participation in CIS bodies (" + S["ukr_cis"] + ")", "CIS")
    )

    # ---------------- CSTO lineage (security alliance) ----------------
    for s in five:
        for r in ex[(s, "CSTO")]:
            rows.append(copied(r, SA, "Collective Security Treaty 1992; organisation from 2002"))
    cst = "Collective Security Treaty 1992 (in force 20 Apr 1994); CSTO from 7 Oct 2002"
    rows.append(
        row(
            "ARM",
            "CSTO",
            SA,
            "member",
            1992.37,
            "",
            "",
            "signed Tashkent 15 May 1992; protocol of 2 Apr 1999 signed (" + S["tass_csto"] + " ; " + S["by_csto"] + ")",
            cst + "; Armenia froze participation in 2024 (outside the panel)",
        )
    )
    rows.append(
        row(
            "BLR",
            "CSTO",
            SA,
            "none",
            1992.37,
            "1993-12-31",
            "yes",
            "did not sign in 1992; signed 31 Dec 1993 (" + S["kremlin_csto"] + " ; " + S["wiki2006_csto"] + ")",
            cst,
        )
    )
    rows.append(
        row(
            "BLR",
            "CSTO",
            SA,
            "member",
            "1993-12-31",
            "",
            "",
            "signed 31 Dec 1993; protocol of 2 Apr 1999 signed (" + S["by_csto"] + ")",
            cst,
        )
    )
    rows.append(
        row("AZE", "CSTO", SA, "none", 1992.37, "1993-09-24", "yes", "signed 24 Sep 1993 (" + S["kremlin_csto"] + ")", cst)
    )
    rows.append(
        row(
            "AZE",
            "CSTO",
            SA,
            "member",
            "1993-09-24",
            1999.30,
            "yes",
            "did not sign the extension protocol of 2 Apr 1999; out from the treaty's expiry 20 Apr 1999 ("
            + S["jt_shrinks"]
            + " ; "
            + S["by_csto"]
            + ")",
            cst,
        )
    )
    rows.append(
        row("AZE", "CSTO", SA, "none", 1999.30, "", "", "outside the treaty from 20 Apr 1999 (" + S["jt_shrinks"] + ")", cst)
    )
    rows.append(
        row(
            "GEO",
            "CSTO",
            SA,
            "none",
            1992.37,
            "1993-09-09",
            "yes",
            "signed 9 Sep 1993 per the kremlin.ru reference note ("
            + S["kremlin_csto"]
            + "); 9 Dec 1993 per Wikipedia 2006 ("
            + S["wiki2006_csto"]
            + ")",
            cst + "; SOURCES CONFLICT on the signing date (9 Sep vs 9 Dec 1993): official note used",
        )
    )
    rows.append(
        row(
            "GEO",
            "CSTO",
            SA,
            "member",
            "1993-09-09",
            1999.30,
            "yes",
            "did not sign the extension protocol of 2 Apr 1999; out from 20 Apr 1999 (" + S["jt_shrinks"] + ")",
            cst,
        )
    )
    rows.append(
        row("GEO", "CSTO", SA, "none", 1999.30, "", "", "outside the treaty from 20 Apr 1999 (" + S["jt_shrinks"] + ")", cst)
    )
    for s in ("MDA", "UKR"):
        rows.append(row(s, "CSTO", SA, "none", 1992.37, "", "", "never signed (" + S["jt_shrinks"] + ")", cst))

    # ---------------- Eurasian economic lineage (id EAEU, as in status_history.csv) ----------------
    cu95 = "customs union agreements of 1995 (RUS-BLR 6 Jan 1995, KAZ 20 Jan 1995, KGZ 1996, TJK 1999): no common external tariff in force"
    eurasec = "EurAsEC (treaty 10 Oct 2000, in force May 2001; terminated 1 Jan 2015): economic community, no common external tariff for this state"
    cu10 = "Customs Union of BLR, KAZ, RUS (common external tariff from 1 Jan 2010; treaty 6 Oct 2007), within EurAsEC"
    eaeu = "EAEU (treaty 29 May 2014, in force 1 Jan 2015): customs and economic union"
    src_cu = S["cu_1995"] + " ; " + S["tass_eurasec"]
    src_kaz = S["cu_kaz"] + " ; " + S["cu_1995"]
    # founders of the 1995 customs union
    rows.append(
        row(
            "BLR",
            "EAEU",
            RO,
            "member",
            "1995-01-06",
            2000.78,
            "no",
            "RUS-BLR customs union agreement 6 Jan 1995 (" + src_cu + ")",
            cu95,
        )
    )
    rows.append(
        row(
            "BLR",
            "EAEU",
            RO,
            "member",
            2000.78,
            2010.0,
            "no",
            "EurAsEC founder 10 Oct 2000 (" + S["ereport"] + ")",
            eurasec.replace(" for this state", " in force yet"),
        )
    )
    rows.append(
        row("BLR", "EAEU", EU, "member", 2010.0, 2015.0, "no", "Customs Union from 1 Jan 2010 (" + S["kremlin_cu"] + ")", cu10)
    )
    rows.append(
        row("BLR", "EAEU", EU, "member", 2015.0, "", "", "EAEU founder, in force 1 Jan 2015 (" + S["arm_eaeu"] + ")", eaeu)
    )
    kaz = ex[("KAZ", "EAEU")][0]
    rows.append(
        row(
            "KAZ",
            "EAEU",
            RO,
            "member",
            "1995-01-20",
            2000.78,
            "no",
            "Agreement on the Customs Union, Moscow 20 Jan 1995 (" + src_kaz + ")",
            cu95,
        )
    )
    rows.append(
        copied(
            kaz, RO, eurasec.replace(" for this state", " in force yet") + "; split at 2010.0", end="2010.0", end_is_choice="no"
        )
    )
    rows.append(
        copied(
            kaz,
            EU,
            cu10 + "; split from the row above",
            start="2010.0",
            end="2015.0",
            end_is_choice="no",
            source="Customs Union from 1 Jan 2010 (" + S["kremlin_cu"] + ")",
        )
    )
    rows.append(
        copied(
            kaz, EU, eaeu + "; split from the row above", start="2015.0", source="EAEU founder 1 Jan 2015 (" + S["arm_eaeu"] + ")"
        )
    )
    kgz = ex[("KGZ", "EAEU")][0]
    rows.append(row("KGZ", "EAEU", RO, "none", "1995-01-06", "1996-03-29", "yes", "not a 1995 party (" + src_cu + ")", cu95))
    rows.append(
        row(
            "KGZ",
            "EAEU",
            RO,
            "member",
            "1996-03-29",
            2000.78,
            "no",
            "accession to the customs union agreements, Moscow 29 Mar 1996 (" + S["cu_1995"] + ")",
            cu95,
        )
    )
    rows.append(copied(kgz, RO, eurasec + "; split at 2015.0 (EurAsEC ended)", end="2015.0", end_is_choice="no"))
    rows.append(
        copied(
            kgz,
            EU,
            eaeu + "; acceding state: accession treaty signed 23 Dec 2014, participated as acceding state from 1 Jan 2015",
            level="partial",
            start="2015.0",
            end=str(dec("2015-08-06")),
            end_is_choice="yes",
            source="acceding state from 1 Jan 2015 (" + S["kgz_acc"] + " ; " + S["kgz_eaeu"] + ")",
        )
    )
    rows.append(
        copied(
            kgz,
            EU,
            eaeu + "; split from the KGZ row",
            start=str(dec("2015-08-06")),
            source="EAEU accession in force 6 Aug 2015 (" + S["kgz_eaeu"] + ")",
        )
    )
    tjk = ex[("TJK", "EAEU")]
    rows.append(row("TJK", "EAEU", RO, "none", "1995-01-06", "1999-02-26", "yes", "not a 1995 party (" + src_cu + ")", cu95))
    rows.append(
        row(
            "TJK",
            "EAEU",
            RO,
            "member",
            "1999-02-26",
            2000.78,
            "no",
            "joined the customs union; Agreement on the Customs Union and Common Economic Space 26 Feb 1999 ("
            + S["cu_1999"]
            + " ; "
            + S["tass_eurasec"]
            + ")",
            cu95 + "; accession day taken from the 1999 agreement",
        )
    )
    rows.append(copied(tjk[0], RO, eurasec))
    rows.append(copied(tjk[1], EU, eaeu))
    uzb = ex[("UZB", "EAEU")]
    rows.append(
        row("UZB", "EAEU", RO, "none", "1995-01-06", 2000.78, "no", "not a party to the 1995 agreements (" + src_cu + ")", cu95)
    )
    rows.append(copied(uzb[0], RO, eurasec))
    rows.append(copied(uzb[1], RO, eurasec + "; joined 25 Jan 2006, suspended by note of 16-20 Oct 2008"))
    rows.append(copied(uzb[2], RO, eurasec + "; split at 2015.0", end="2015.0", end_is_choice="no"))
    rows.append(copied(uzb[2], EU, eaeu + "; split from the row above", start="2015.0"))
    rows.append(copied(uzb[3], EU, eaeu + "; observer"))
    tkm = ex[("TKM", "EAEU")][0]
    rows.append(
        row("TKM", "EAEU", RO, "none", "1995-01-06", 2000.78, "no", "not a party to the 1995 agreements (" + src_cu + ")", cu95)
    )
    rows.append(copied(tkm, RO, eurasec + "; split at 2015.0", end="2015.0", end_is_choice="no"))
    rows.append(copied(tkm, EU, eaeu + "; split from the row above", start="2015.0"))
    # pooled states outside the core
    rows.append(
        row("ARM", "EAEU", RO, "none", "1995-01-06", "2003-04-15", "yes", "not a party (" + src_cu + ")", cu95 + " / " + eurasec)
    )
    rows.append(
        row(
            "ARM",
            "EAEU",
            RO,
            "partial",
            "2003-04-15",
            "2015-01-02",
            "yes",
            "EurAsEC observer Apr 2003 (" + S["ereport"] + " ; " + S["arm_2003"] + " ; " + S["vedomosti"] + ")",
            eurasec + "; observer; day in Apr 2003 not pinned (15th used; decision expected at the 27 Apr Dushanbe summit); "
            "ends with Armenia's EAEU accession (signed 10 Oct 2014), EurAsEC itself ended 1 Jan 2015",
        )
    )
    rows.append(
        row("ARM", "EAEU", EU, "member", "2015-01-02", "", "", "EAEU member from 2 Jan 2015 (" + S["arm_eaeu"] + ")", eaeu)
    )
    for s in ("MDA", "UKR"):
        rows.append(
            row(s, "EAEU", RO, "none", "1995-01-06", "2002-05-15", "yes", "not a party (" + src_cu + ")", cu95 + " / " + eurasec)
        )
        rows.append(
            row(
                s,
                "EAEU",
                RO,
                "partial",
                "2002-05-15",
                2015.0,
                "no",
                "EurAsEC observer from May 2002 ("
                + S["ereport"]
                + " ; "
                + S["vedomosti"]
                + "); EurAsEC ended 1 Jan 2015 ("
                + S["by_end"]
                + ")",
                eurasec + "; observer; day in May 2002 not pinned (15th used); status lapsed with the organisation",
            )
        )
    rows.append(
        row(
            "MDA",
            "EAEU",
            EU,
            "none",
            2015.0,
            "2018-05-14",
            "yes",
            "not an EAEU member or observer (" + S["eec_obs"] + ")",
            eaeu + "; the 14 Apr 2017 Bishkek decision only welcomed the intention (" + S["riac_mda"] + ")",
        )
    )
    rows.append(
        row(
            "MDA",
            "EAEU",
            EU,
            "partial",
            "2018-05-14",
            "",
            "",
            "EAEU observer, Supreme Council Decision No. 8 of 14 May 2018 (" + S["eec_obs"] + ")",
            eaeu + "; observer",
        )
    )
    rows.append(row("UKR", "EAEU", EU, "none", 2015.0, "", "", "not an EAEU member or observer (" + S["eec_obs"] + ")", eaeu))
    for s in ("AZE", "GEO"):
        rows.append(
            row(
                s,
                "EAEU",
                RO,
                "none",
                "1995-01-06",
                2015.0,
                "no",
                "never a party, member or observer (" + src_cu + " ; " + S["ereport"] + ")",
                cu95 + " / " + eurasec,
            )
        )
        rows.append(row(s, "EAEU", EU, "none", 2015.0, "", "", "not an EAEU member or observer (" + S["eec_obs"] + ")", eaeu))

    # ---------------- SCO (regional organisation) ----------------
    for s in five:
        for r in ex[(s, "SCO")]:
            rows.append(copied(r, RO, "Shanghai Five 1996-2001 (border confidence-building summits), SCO from 15 Jun 2001"))
    sco = "SCO (founded 15 Jun 2001)"
    rows.append(row("BLR", "SCO", RO, "none", 2001.45, "2010-04-28", "yes", "not a founder (" + S["sco_china"] + ")", sco))
    rows.append(
        row(
            "BLR",
            "SCO",
            RO,
            "partial",
            "2010-04-28",
            "2015-07-10",
            "yes",
            "dialogue partner: decision Yekaterinburg summer 2009, memorandum signed at the Secretary-General's Minsk "
            "visit 28-29 Apr 2010 (" + S["sco_blr10"] + " ; " + S["sco_blr"] + ")",
            sco + "; dialogue partner; signing day from the announced visit",
        )
    )
    rows.append(
        row(
            "BLR",
            "SCO",
            RO,
            "partial",
            "2015-07-10",
            "2022-09-16",
            "yes",
            "observer from 2015 (" + S["sco_blr"] + " ; " + S["sco_blr15"] + "); the 2015 heads-of-state council met at "
            "Ufa 10 Jul 2015 (" + S["sco_ufa"] + ")",
            sco + "; observer; day inferred from the 2015 summit date",
        )
    )
    rows.append(
        row(
            "BLR",
            "SCO",
            RO,
            "partial",
            "2022-09-16",
            "",
            "",
            "Samarkand 16 Sep 2022: decision to start Belarus's accession (" + S["sco_blr22"] + ")",
            sco + "; observer, acceding; full member 4 Jul 2024 (outside the panel)",
        )
    )
    rows.append(row("AZE", "SCO", RO, "none", 2001.45, "2016-03-14", "yes", "not a member (" + S["sco_china"] + ")", sco))
    rows.append(
        row(
            "AZE",
            "SCO",
            RO,
            "partial",
            "2016-03-14",
            "",
            "",
            "dialogue partner: Ufa decision 10 Jul 2015, memorandum signed Beijing 14 Mar 2016 (" + S["sco_aze"] + ")",
            sco + "; dialogue partner (applied for observer status 2012)",
        )
    )
    rows.append(row("ARM", "SCO", RO, "none", 2001.45, "2016-04-16", "yes", "not a member (" + S["sco_china"] + ")", sco))
    rows.append(
        row(
            "ARM",
            "SCO",
            RO,
            "partial",
            "2016-04-16",
            "",
            "",
            "dialogue partner: Ufa decision 10 Jul 2015, memorandum in force on signature 16 Apr 2016 ("
            + S["sco_arm"]
            + " ; "
            + S["sco_ufa"]
            + ")",
            sco + "; dialogue partner",
        )
    )
    for s in ("GEO", "MDA", "UKR"):
        rows.append(
            row(
                s,
                "SCO",
                RO,
                "none",
                2001.45,
                "",
                "",
                "not a member, observer or dialogue partner (" + S["sco_arm"] + " lists all of them in 2016)",
                sco,
            )
        )

    # ---------------- OTS (regional organisation) ----------------
    for s in ("KAZ", "KGZ", "UZB", "TKM"):
        for r in ex[(s, "OTS")]:
            rows.append(copied(r, RO, "Turkic Council (Nakhchivan Agreement 3 Oct 2009), OTS from 12 Nov 2021"))
    rows.append(
        row(
            "AZE",
            "OTS",
            RO,
            "member",
            2009.75,
            "",
            "",
            "founder, Nakhchivan Agreement 3 Oct 2009 (" + S["ots_aze"] + ")",
            "Turkic Council, OTS from 12 Nov 2021; start written as the existing founders' 2009.75",
        )
    )

    # ---------------- GUAM (id GUUAM, as in status_history.csv) ----------------
    g_forum = "GUAM consultative forum (Strasbourg 10 Oct 1997)"
    g_org = (
        "GUAM association (Yalta Charter 7 Jun 2001), Organization for Democracy and Economic Development-GUAM from 23 May 2006"
    )
    yalta = dec("2001-06-07")
    for s in ("GEO", "UKR", "AZE", "MDA"):
        rows.append(row(s, "GUUAM", SF, "member", "1997-10-10", yalta, "no", "founder (" + S["guam"] + ")", g_forum))
        rows.append(
            row(
                s,
                "GUUAM",
                RO,
                "member",
                yalta,
                "",
                "",
                "Yalta Charter 7 Jun 2001; ODED-GUAM 23 May 2006 (" + S["guam"] + ")",
                g_org,
            )
        )
    u = ex[("UZB", "GUUAM")]
    rows.append(copied(u[0], SF, g_forum + "; start written 1997.8 in status_history.csv (rule gives 1997.78)"))
    rows.append(copied(u[1], SF, g_forum + "; split at the Yalta Charter", end=str(yalta), end_is_choice="no"))
    rows.append(copied(u[1], RO, g_org + "; split from the row above", start=str(yalta)))
    rows.append(copied(u[2], RO, g_org))
    rows.append(copied(u[3], RO, g_org))
    return rows


# ---------------- summit formats: one row per state per meeting year ----------------
FIVE = ["KAZ", "KGZ", "TJK", "TKM", "UZB"]
MEET = {
    # lineage: list of (year, meetings text, source, {state: (level, note)} exceptions)
    "C5+1": [
        (
            2015,
            "FMs New York 26 Sep 2015; FMs Samarkand 1 Nov 2015 (all five FMs)",
            "https://en.inform.kz/amp/john-kerry-holds-new-format-meeting-with-central-asian-foreign-ministers_a2822269/ ; "
            "https://uz.sputniknews.ru/20151101/910231.html",
            {},
        ),
        (
            2016,
            "FMs Washington 3 Aug 2016 (all five FMs); FMs Hamburg (OSCE margins) Dec 2016 (four FMs)",
            "https://sputnikglobe.com/20160804/us-asia-donation-support-1043923941.html ; "
            "http://imperialvalleynews.com/index.php/news/latest-news/11509-secretary-kerry-meets-with-central-asian-foreign-ministers.html",
            {"TKM": ("partial", "absent from the Hamburg meeting (FM 'unable to make it'); attended Washington")},
        ),
        (
            2019,
            "Nur-Sultan 21 Aug 2019 (all five FMs; US at Under Secretary level)",
            "https://timesca.com/kazakhstan-hosts-c5-1-high-level-discussion-between-us-central-asia-states/",
            {},
        ),
        (
            2020,
            "FMs Tashkent 3 Feb 2020 (all five FMs)",
            "https://translations.state.gov/2020/02/03/secretary-pompeos-participation-in-the-tashkent-c51-ministerial/",
            {},
        ),
        (
            2021,
            "FMs virtual 22 Apr 2021 (all five); Tashkent 15 Jul 2021; FMs New York (hybrid) 22 Sep 2021 (all five)",
            "https://stl.news/secretary-blinkens-meeting-with-the-c51/444110/ ; "
            "https://astanatimes.com/2021/07/central-asian-foreign-ministers-u-s-senior-officials-attend-c51-meeting-in-tashkent/ ; "
            "https://www.urdupoint.com/en/world/c51-foreign-ministers-discuss-afghanistan-on-1357749.html",
            {"KGZ": ("partial", "represented by its ambassador to Uzbekistan at Tashkent 15 Jul 2021; FM at the other two")},
        ),
        (
            2022,
            "FMs New York 22 Sep 2022 ('foreign ministers and representatives')",
            "https://www.state.gov/joint-statement-on-the-c51-meeting-during-unga-77/",
            {s: ("member", "attended; rank of each delegation not stated by the source") for s in FIVE},
        ),
        (
            2023,
            "FMs Astana 28 Feb 2023; first leaders' summit New York 19 Sep 2023 (all five presidents)",
            "https://www.asiaplustj.info/en/news/tajikistan/politics/20230301/us-secretary-of-state-announces-us25-million-of-new-funding-to-support-economic-growth-in-central-asia ; "
            "https://martinherald.com/today-in-astana-the-us-secretary-of-state-will-confer-with-the-foreign-ministers-of-the-central-asian-nations/ ; "
            "https://ipeclub.co/president-biden-held-a-meeting-with-leaders-of-central-asian-countries/",
            {},
        ),
    ],
    "CA-China": [
        (
            2020,
            "1st FMs meeting, video, 16 Jul 2020 (all five FMs)",
            "https://www.mfa.gov.cn/eng/wjb/zzjg_663340/dozys_664276/xwlb_664278/202406/t20240606_11397566.html",
            {},
        ),
        (2021, "2nd FMs meeting, Xi'an 12 May 2021 (all five FMs)", "http://lr.china-embassy.org/eng/zgyw/t1875496.htm", {}),
        (
            2022,
            "virtual leaders' summit 25 Jan 2022 (all five presidents); 3rd FMs meeting Nur-Sultan 8 Jun 2022",
            "http://www.newscentralasia.net/2022/01/26/china-and-central-asia-towards-further-strengthening-strategic-ties/ ; "
            "https://theasiatoday.org/editorials/central-asia-china-foreign-ministers-meeting-main-results/",
            {"TJK": ("partial", "represented by its Minister of Transport at the 8 Jun 2022 FMs meeting")},
        ),
        (
            2023,
            "4th FMs meeting Xi'an 27 Apr 2023; first in-person summit Xi'an 18-19 May 2023 (all five presidents)",
            "https://www.newscentralasia.net/2023/04/25/chinese-foreign-ministry-announced-china-central-asia-foreign-ministers-meeting/ ; "
            "http://en.qstheory.cn/2023-05/18/c_887166.htm",
            {"TKM": ("partial", "First Deputy FM at the 27 Apr 2023 FMs meeting; president at the summit")},
        ),
    ],
    "CA-Russia": [
        (
            2022,
            "first summit, Astana 14 Oct 2022 (all five presidents)",
            "shared/seed/central-asia-russia-summit.txt (ANKASAM, Oct 2022) citing http://kremlin.ru/events/president/news/69598",
            {},
        ),
    ],
    "EU-CA": [
        (2017, "13th ministerial, Samarkand 10 Nov 2017 (all five FMs)", "https://www.eeas.europa.eu/node/35423_en", {}),
        (
            2018,
            "14th ministerial, Brussels 23 Nov 2018 (FMs of all five)",
            "https://eeas.europa.eu/headquarters/headquarters-homepage/54354/joint-communiqu%C3%A9-european-union-%E2%80%93-central-asia-foreign-ministers-meeting-brussels-23-november_en",
            {},
        ),
        (
            2019,
            "15th ministerial, Bishkek 7 Jul 2019 (all five FMs)",
            "https://www.asiaplustj.info/en/news/centralasia/20190708/central-asian-foreign-ministers-welcome-new-eu-strategy-for-central-asia",
            {},
        ),
        (
            2020,
            "16th ministerial, video, 17 Nov 2020",
            "https://www.asiaplustj.info/en/news/tajikistan/politics/20211115/dushanbe-expected-to-host-the-17th-eu-central-asia-ministerial-meeting-next-week",
            {s: ("member", "attended; rank of each delegation not stated by the source") for s in FIVE},
        ),
        (
            2021,
            "17th ministerial, Dushanbe 22 Nov 2021",
            "https://asiaplustj.info/en/news/tajikistan/politics/20211123/17th-eu-central-asia-ministerial-meeting-held-in-dushanbe-turning-challenges-into-opportunities",
            {"TKM": ("partial", "Deputy FM (the joint communique lists 'Foreign Ministers' of all five)")},
        ),
        (
            2022,
            "18th ministerial, Samarkand 17 Nov 2022 (also: first meeting of the five heads of state with the European Council "
            "President, Astana 27 Oct 2022)",
            "https://www.eeas.europa.eu/eeas/joint-communiqu%C3%A9-18th-eu-central-asia-ministerial-meeting_en",
            {"KGZ": ("partial", "Deputy FM"), "TKM": ("partial", "Deputy FM")},
        ),
        (
            2023,
            "19th ministerial, Luxembourg 23 Oct 2023 (all five FMs, with the 27 EU FMs)",
            "https://www.asiaplustj.info/en/news/tajikistan/politics/20231025/central-asian-nations-promise-eu-to-not-bypass-its-restrictions-on-russia",
            {},
        ),
    ],
}


def summits() -> list[dict]:
    """One attendance row per modelled state per summit-format meeting year."""
    rows = []
    for lineage, years in MEET.items():
        for year, text, src, exc in years:
            for s in FIVE:
                level, why = exc.get(s, ("member", "attended at the meeting's level"))
                rows.append(
                    {
                        "state": s,
                        "lineage": lineage,
                        "kind": SF,
                        "level": level,
                        "start": float(year),
                        "end": float(year + 1),
                        "end_is_choice": "",
                        "source": src,
                        "lineage_kind_note": f"attendance {year}: {text}; {why}",
                    }
                )
    return rows


def main() -> None:
    """Write record.csv: the spells, then the summit attendance."""
    rows = spells() + summits()
    with open(OUT, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in COLUMNS})
    print(len(rows), "rows;", Counter(r["kind"] for r in rows))


if __name__ == "__main__":
    main()
