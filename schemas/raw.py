"""pandera schemas of the raw source layouts: the columns each format must have, as text.

Adapters check a file against its layout before reading values (`sources.validate.check_layout`):
a missing or renamed key column makes the file unusable, with one line naming the column.
Column order is free and other columns may stand beside the key ones (`strict=False`); the
column names themselves are in `schemas.layouts`, which the header checks before a run use too.
What a usable value is (a number, a known economy, a plausible year, a unit's range) is checked
once, on the canonical table (`schemas.observations`) and the classification tables
(`schemas.classifications`), whatever the layout it came from. The ITU print-layout XLS (a
two-row header) and the DataHub JSON shapes are recognised by their structure in sources/itu.py.
"""
from __future__ import annotations

import pandera.pandas as pa

from schemas import layouts


def layout(*columns: str) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({c: pa.Column(str, nullable=True) for c in columns}, strict=False)


WB_BULK = layout(*layouts.WB_BULK)
WB_EXCERPT = layout(*layouts.WB_EXCERPT)
WB_LONG = layout(*layouts.WB_LONG)
WB_DATABANK = layout(*layouts.WB_DATABANK)
WB_METADATA = layout(*layouts.WB_METADATA)
WB_CLASS_ECONOMIES = layout(*layouts.WB_CLASS_ECONOMIES)
WB_CLASS_GROUPS = layout(*layouts.WB_CLASS_GROUPS)
WB_OGHIST_LONG = layout(*layouts.WB_OGHIST_LONG)
SDG_DDF = layout(*layouts.SDG_DDF)
SDG_API = layout(*layouts.SDG_API)
OWID_GRAPHER = layout(*layouts.OWID_GRAPHER)
WPP_2019 = layout(*layouts.WPP_2019)
WPP_SINGLE_AGE = layout(*layouts.WPP_SINGLE_AGE)
COUNTRY_CODES = layout(*layouts.COUNTRY_CODES)
ODW_CODES = layout(*layouts.ODW_CODES)
