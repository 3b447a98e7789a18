"""The WPP 2024 single-age reader (the official download) on a small file made here in the
official layout: sums by age band and sex, thousands to persons, regions skipped."""
from __future__ import annotations

import gzip
import shutil

import pytest

from sources.read import read_all

HEADER = ("SortOrder,LocID,Notes,ISO3_code,ISO2_code,SDMX_code,LocTypeID,LocTypeName,ParentID,"
          "Location,VarID,Variant,Time,MidPeriod,AgeGrp,AgeGrpStart,AgeGrpSpan,PopMale,"
          "PopFemale,PopTotal")


def row(iso3, year, age, male, female, loc_type="Country/Area"):
    return (f"1,4,,{iso3},XX,XX,4,{loc_type},5501,Somewhere,2,Medium,{year},{year}.5,{age},"
            f"{age},1,{male},{female},{male + female}")


def write_gz(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join([HEADER, *rows]) + "\n")


@pytest.fixture
def source_dir(snapshot, tmp_path):
    for rel in ["classifications/country-codes.csv",
                "world-bank/Metadata_Country_API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(snapshot / rel, tmp_path / rel)
    return tmp_path


def read_wpp(directory):
    result = next(r for r in read_all(directory) if r.entry.id == "wpp2024")
    return result


def test_single_age_sums_by_band_and_sex(source_dir):
    rows = [row("AFG", 2024, age, 1.0, 2.0) for age in range(20)]
    rows += [row("", 2024, age, 100.0, 100.0, "Region") for age in range(20)]  # a region
    write_gz(source_dir / "un-wpp/WPP2024_Population1JanuaryBySingleAgeSex_Medium_2024-2100.csv.gz",
             rows)
    result = read_wpp(source_dir)
    assert result.error is None
    obs = result.extract.tables["observations"].set_index(["indicator", "sex"])["value"]
    assert obs["WPP.POP.TOTL", "total"] == pytest.approx(20 * 3000)
    assert obs["WPP.POP.TOTL", "female"] == pytest.approx(20 * 2000)
    assert obs["WPP.POP.10UP", "male"] == pytest.approx(10 * 1000)
    assert obs["WPP.POP.15UP", "female"] == pytest.approx(5 * 2000)
    assert ("WPP.POP.15UP", "total") not in obs.index
    statuses = set(result.extract.tables["observations"]["status"])
    assert statuses == {"publisher_estimate"}  # 2024 is a projection year of WPP 2024
    assert set(result.extract.tables["observations"]["iso3"]) == {"AFG"}


def test_text_in_a_population_cell_is_quarantined(source_dir):
    rows = [row("AFG", 2020, age, 1.0, 2.0) for age in range(3)]
    rows.append(row("AFG", 2020, 3, 1.0, 2.0).replace(",3.0", ",n/a"))
    write_gz(source_dir / "un-wpp/WPP2024_Population1JanuaryBySingleAgeSex_Medium_1950-2023.csv.gz",
             rows)
    result = read_wpp(source_dir)
    quarantine = result.extract.quarantine
    assert list(quarantine["row"]) == [5]
    obs = result.extract.tables["observations"].set_index(["indicator", "sex"])["value"]
    assert obs["WPP.POP.TOTL", "total"] == pytest.approx(3 * 3000)  # the bad row left out


def test_not_gzip_is_a_clear_error(source_dir):
    path = source_dir / "un-wpp/WPP2024_Population1JanuaryBySingleAgeSex_Medium_1950-2023.csv.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"<html>not found</html>")
    result = read_wpp(source_dir)
    assert result.error is not None
    assert path.name in str(result.error)
