"""The one cross-fitting splitter: stratified by source, grouped by query id when given, seeded.

Every cross-fit of the package (propensity models, learner scoring, the paired learner's
nuisances, whole-router cross-fitting) takes its folds here. With query ids, the rows of a
query stay in one fold: on paired data a query carries both a gold and a preference label,
and a model fitted on one of them must not predict the other.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

__all__ = ["ShuffledGroupKFold", "cross_fit_splitter"]


class ShuffledGroupKFold:
    """``GroupKFold`` on the groups relabelled by a seeded random permutation (seeded group folds).

    ``GroupKFold`` assigns groups to folds deterministically by size; relabelling the groups
    first makes the assignment random, under the seed, while keeping the folds balanced.
    """

    def __init__(self, n_splits: int, random_state: int | None) -> None:
        self.n_splits = n_splits
        self.random_state = random_state

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
        uniq, inv = np.unique(np.asarray(groups), return_inverse=True)
        perm = np.random.default_rng(self.random_state).permutation(uniq.size)
        return GroupKFold(n_splits=self.n_splits).split(X, y, groups=perm[inv])

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.n_splits


def cross_fit_splitter(n_splits: int, random_state: int | None, *, stratify: bool = True,
                       grouped: bool = False) -> Any:
    """A shuffled, seeded K-fold splitter: stratified by the ``y`` passed to ``split`` (the source) and/or grouped.

    ``stratify=False`` where the strata are not meaningful (every row of one kind); ``grouped=True``
    when ``split`` will receive query ids.

    Examples
    --------
    >>> type(cross_fit_splitter(5, 0, grouped=True)).__name__
    'StratifiedGroupKFold'
    """
    if grouped:
        if stratify:
            return StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
        return ShuffledGroupKFold(n_splits, random_state)
    if stratify:
        return StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    return KFold(n_splits=n_splits, shuffle=True, random_state=random_state)
