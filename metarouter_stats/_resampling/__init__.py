"""One resampling and interval layer: draws, bands, the small-sample rule, the PPI++ tuner, folds.

A helper package outside the stage order (like ``_results`` and ``_checks``): every stage may
use it, it imports no stage. Each statistical idea the package uses in several places is
written here once:

* :mod:`.draws` -- seeded bootstrap draws (rows within strata, whole queries, Exp(1)
  multipliers, replicate seeds) and the one bootstrap loop; same numbers for any chunk size
  or ``n_jobs``;
* :mod:`.bands` -- the one band type (:class:`Band`), pointwise and sup-t critical values;
* :mod:`.small_sample` -- SE inflation and Satterthwaite degrees of freedom for estimates
  resting on few effective gold rows;
* :mod:`.ppi` -- the one PPI++ power tuner;
* :mod:`.splits` -- the one cross-fitting splitter;
* :mod:`.overlap` -- the overlap rule's constants.
"""

from .bands import KINDS, Band, critical_value, make_band, sup_t
from .draws import (
    CHUNK, RowSampler, UnitSampler, bootstrap, exp_weights, index_draws, multiplier_draws, replicate_seeds,
    run_replicates, subsample,
)
from .overlap import MIN_GOLD_ESS_SHARE, OVERLAP_BAND, POOR_OVERLAP_SHARE
from .ppi import tune_power
from .small_sample import prefer_gold_only, small_sample_rule, t_quantile, uniform_t_critical
from .splits import ShuffledGroupKFold, cross_fit_splitter

__all__ = [
    "CHUNK", "KINDS", "MIN_GOLD_ESS_SHARE", "OVERLAP_BAND", "POOR_OVERLAP_SHARE", "Band", "RowSampler",
    "ShuffledGroupKFold", "UnitSampler", "bootstrap", "critical_value", "cross_fit_splitter", "exp_weights",
    "index_draws", "make_band", "multiplier_draws", "prefer_gold_only", "replicate_seeds", "run_replicates",
    "small_sample_rule", "subsample", "sup_t", "t_quantile", "tune_power", "uniform_t_critical",
]
