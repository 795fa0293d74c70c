"""Cross-fitting without copies of the features: EconML sees row numbers, the models see rows.

EconML's cross-fitting copies the features several times per fold: ``np.hstack(X, W)`` once
for the splitter, ``X[train]`` and ``X[test]`` per fold, ``hstack([X, W])`` for the
nuisance models and ``hstack([X, W, T])`` for the DR outcome model. At a million rows and
sentence-embedding width (d = 384, 2.9 GB of float64 features) that is about 9.5 times the
data (``docs/benchmarks.md``, "Scale"). EconML offers no hook for index-based folds, so the
learners here hand EconML a one-column ``X`` of row numbers instead: every copy EconML makes is
then of one column, and each nuisance model, wrapped in :class:`RowIndexed`, builds the design
EconML would have built, ``[X[rows], W, T]``, once, directly into one array (and in blocks of
:func:`block_rows` rows when predicting). The models see exactly the numbers they saw before, so
the fits are unchanged (``tests/cate/test_rows.py`` checks it against the plain EconML path).

After the fit, :func:`release` replaces each fitted wrapper inside the EconML estimator by the
model it wraps, switches any wrapper left (the unfitted templates in EconML's parameters) to
*direct* mode (features in, as the model it wraps; no training matrix held), and the
estimator's recorded width is set to the real one: ``estimator_.effect(X)``, its fitted
nuisance models and EconML's own ``refit_final`` then work on features as after a plain fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

__all__ = ["BLOCK", "BLOCK_BYTES", "RowIndexed", "SharedRows", "block_rows", "release", "row_numbers", "unwrap"]

#: Most rows per block when a wrapper builds or predicts on a design.
BLOCK = 1 << 16
#: Most bytes per block of a temporary design (64 MiB): at d = 384 a block is 21,845 rows.
BLOCK_BYTES = 1 << 26


def block_rows(width: int, itemsize: int = 8) -> int:
    """Rows per block of a temporary design ``width`` columns wide: at most BLOCK and BLOCK_BYTES.

    Blocks bound memory only: every model here predicts row by row, so the numbers do not
    depend on the block size.

    Examples
    --------
    >>> from metarouter_stats.cate.rows import block_rows
    >>> block_rows(50), block_rows(384)
    (65536, 21845)
    """
    return int(min(BLOCK, max(1, BLOCK_BYTES // (itemsize * max(1, width)))))


class SharedRows:
    """The training features of one fit, shared by every model wrapper of that fit.

    ``copy.deepcopy`` and scikit-learn's ``clone`` (which EconML applies to every nuisance
    model per fold) return this same object instead of copying the matrix; :func:`release`
    drops the matrix and switches all the fit's wrappers to direct mode at once.
    """

    def __init__(self, X: np.ndarray) -> None:
        self.X: np.ndarray | None = X
        self.n_features = int(X.shape[1])  # kept after release

    @property
    def indexed(self) -> bool:
        """Whether the wrappers still take row numbers (until :func:`release` drops the matrix)."""
        return self.X is not None

    def __deepcopy__(self, memo: dict) -> SharedRows:
        return self

    def __repr__(self) -> str:
        shape = None if self.X is None else self.X.shape
        return f"SharedRows(shape={shape}, indexed={self.indexed})"

    def design(self, Z: np.ndarray) -> np.ndarray:
        """``[X[rows], rest]`` for ``Z = [rows, rest]``: one new C-ordered array (temporaries of one block)."""
        if self.X is None:
            raise RuntimeError("These rows were released after the fit; the wrapper takes features now.")
        Z = np.asarray(Z)
        rows = Z[:, 0].astype(np.intp)
        rest = Z[:, 1:]
        d = self.X.shape[1]
        if rest.shape[1] == 0 and rows.size == self.X.shape[0] and np.array_equal(rows, np.arange(rows.size)):
            return self.X  # every row in order (the final stage): the matrix itself, read only by the models
        out = np.empty((rows.size, d + rest.shape[1]), dtype=np.result_type(self.X.dtype, rest.dtype))
        # by blocks of rows: ``np.take(..., out=out)`` buffers the whole result first (its default
        # mode="raise"), which doubled the design at its peak (2.3 GB more at a million rows, d = 384)
        step = block_rows(d + rest.shape[1])
        for a in range(0, rows.size, step):
            b = min(a + step, rows.size)
            out[a:b, :d] = self.X[rows[a:b]]
        if rest.shape[1]:
            out[:, d:] = rest
        return out


def row_numbers(n: int) -> np.ndarray:
    """The one-column ``X`` handed to EconML: row numbers as floats (exact below 2**53)."""
    return np.arange(n, dtype=float)[:, None]


class RowIndexed(BaseEstimator):
    """A model fitted on ``[X[rows], rest]`` where its input is ``[rows, rest]``.

    Parameters
    ----------
    estimator : estimator
        The nuisance or final model (cloned at fit).
    rows : SharedRows
        The fit's features.

    After :func:`release`, ``predict`` and ``predict_proba`` take features (the layout
    ``estimator`` takes) and pass them on unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from metarouter_stats.cate.rows import RowIndexed, SharedRows, release, row_numbers
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> rows = SharedRows(X)
    >>> m = RowIndexed(LinearRegression(), rows).fit(row_numbers(4)[[0, 2, 3]], [1.0, 5.0, 7.0])
    >>> m.predict(row_numbers(4)[[1]])
    array([3.])
    >>> release(rows); m.predict(np.array([[10.0]]))
    array([21.])
    """

    def __init__(self, estimator: Any, rows: SharedRows) -> None:
        self.estimator = estimator
        self.rows = rows

    def fit(self, Z: Any, y: Any, **kwargs: Any) -> RowIndexed:
        """Fit ``estimator`` on the rows named in the first column of ``Z`` (other columns appended).

        Keyword arguments (``sample_weight``) go to ``estimator.fit`` as EconML would pass them.
        After :func:`release`, ``Z`` is features, passed on unchanged.
        """
        self.estimator_ = clone(self.estimator)
        if not self.rows.indexed:
            self.estimator_.fit(Z, y, **kwargs)
        else:
            # the design is this wrapper's own array: standardisation may overwrite it instead of copying it
            # (0.8 times the data less at the propensity model's peak); later calls copy again
            design = self.rows.design(Z)
            owned = design is not self.rows.X  # all rows in order is the shared matrix itself: never written
            if owned:
                _scaler_copy(self.estimator_, False)
            self.estimator_.fit(design, y, **kwargs)
            if owned:
                _scaler_copy(self.estimator_, True)
        if hasattr(self.estimator_, "classes_"):
            self.classes_ = self.estimator_.classes_
        return self

    @property
    def cv(self) -> Any:
        """The wrapped model's ``cv``, where it has one: EconML sets it to group-aware splits on grouped data."""
        return self.estimator.cv

    @cv.setter
    def cv(self, value: Any) -> None:
        self.estimator.cv = value

    def _blocks(self, method: str, Z: Any) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        call = getattr(self.estimator_, method)
        if not self.rows.indexed:
            return call(Z)
        Z = np.asarray(Z)
        step = block_rows(self.rows.n_features + Z.shape[1])
        parts = [call(self.rows.design(Z[a:a + step])) for a in range(0, Z.shape[0], step)]
        return np.concatenate(parts, axis=0) if parts else call(self.rows.design(Z))

    def predict(self, Z: Any) -> np.ndarray:
        """Predictions at the named rows (indexed mode) or at features (after release)."""
        return self._blocks("predict", Z)

    @available_if(lambda self: hasattr(self.estimator, "predict_proba"))
    def predict_proba(self, Z: Any) -> np.ndarray:
        """Class probabilities at the named rows (indexed mode) or at features (after release)."""
        return self._blocks("predict_proba", Z)

    def __getattr__(self, name: str) -> Any:
        # fitted attributes of the wrapped model (alpha_, coef_, ...) read through, as on the model itself
        if name.endswith("_") and not name.startswith("_") and "estimator_" in self.__dict__:
            return getattr(self.__dict__["estimator_"], name)
        raise AttributeError(name)


def _scaler_copy(model: Any, copy: bool, depth: int = 6) -> None:
    """Set ``copy`` on every StandardScaler in ``model`` (parameters and fitted parts, a few levels down)."""
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415

    if depth < 0:
        return
    if isinstance(model, StandardScaler):
        model.copy = copy
        return
    if isinstance(model, (list, tuple)):
        for v in model:
            _scaler_copy(v, copy, depth - 1)
        return
    if isinstance(model, BaseEstimator):
        parts = list(model.get_params(deep=False).values())
        parts += [v for k, v in vars(model).items() if k.endswith("_") and isinstance(v, (BaseEstimator, list))]
        for v in parts:
            _scaler_copy(v, copy, depth - 1)


def unwrap(model: Any) -> Any:
    """The fitted model inside a fitted :class:`RowIndexed` wrapper (anything else unchanged)."""
    return model.__dict__["estimator_"] if isinstance(model, RowIndexed) and "estimator_" in model.__dict__ else model


def release(rows: SharedRows, *fitted: Any) -> None:
    """Switch every wrapper sharing ``rows`` to direct mode, drop the training matrix, unwrap ``fitted``.

    ``fitted``: containers of fitted models (EconML's nuisance and final-stage objects, lists of
    them); every :class:`RowIndexed` found in them, up to a few levels down, is replaced by the
    model it wraps, so that they hold the very models a plain fit would have held.
    """
    rows.X = None
    for obj in fitted:
        _unwrap_in(obj, depth=4)


def _unwrap_in(obj: Any, depth: int) -> None:
    if depth < 0:
        return
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            if isinstance(v, RowIndexed):
                obj[i] = unwrap(v)
            else:
                _unwrap_in(v, depth - 1)
        return
    if isinstance(obj, tuple) or not type(obj).__module__.startswith("econml"):
        for v in obj if isinstance(obj, tuple) else ():
            _unwrap_in(v, depth - 1)
        return
    for k, v in vars(obj).items():
        if isinstance(v, RowIndexed):
            setattr(obj, k, unwrap(v))
        else:
            _unwrap_in(v, depth - 1)
