"""Facts the report states about its method, each taken from the data or from the code that
uses it, never written down twice."""
from __future__ import annotations

PARITY = (0.98, 1.02)   # a gender parity score in this range counts as parity (ITU's rule)
