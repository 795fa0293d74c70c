"""The overlap rule, stated once: where are gold queries too rare for a bias estimate to rest on data?

The density ratio of gold to preference queries at x (from a propensity model, or from the
probabilities known by design) is compared with ``OVERLAP_BAND``: outside it, one kind of
query is more than ten times rarer than the other, and an estimate of the bias there
extrapolates from elsewhere. Overlap is called **poor** when more than ``POOR_OVERLAP_SHARE``
of the preference rows fall outside the band, and **adequate** when, in addition, the gold
rows' effective sample size (Kish) is at least ``MIN_GOLD_ESS_SHARE`` of their number.
"""

from __future__ import annotations

__all__ = ["MIN_GOLD_ESS_SHARE", "OVERLAP_BAND", "POOR_OVERLAP_SHARE"]

OVERLAP_BAND: tuple[float, float] = (0.1, 10.0)  # density ratio gold / preference
POOR_OVERLAP_SHARE = 0.05  # share of preference rows outside the band above which overlap is poor
MIN_GOLD_ESS_SHARE = 0.25  # effective sample size of the gold rows, as a share of their number
