"""Charts, tables and a report page built from a published ict.duckdb.

    from reporting import build_report, publish_artifacts
    paths = build_report(Path("data/curated/ict.duckdb"), Path("data/curated"))
"""
from reporting.build import build_report, publish_artifacts

__all__ = ["build_report", "publish_artifacts"]
