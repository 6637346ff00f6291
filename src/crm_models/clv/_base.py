"""Maximum-likelihood template shared by the CLV models.

A model declares its parameter names, a vectorized log-likelihood with gradient on the log scale of
its parameters, and a few starting points; this module does the rest:

* input checks against the customer-summary contract (:func:`check_summary_arrays`);
* grouping of identical ``(frequency, recency, T)`` rows into weighted sufficient statistics
  (:func:`group_rows`), so the cost of a likelihood evaluation grows with the number of *distinct*
  customer histories, not with the number of customers;
* optimization with L-BFGS-B from several starting points (parameters on the log scale, so they stay
  positive without bounds); the first start that converges wins, the others are fall-backs;
* standard errors from the observed information (Hessian by central differences of the analytic
  gradient), reported on the natural scale by the delta method, with 95% intervals computed on the
  log scale (so they never cross zero);
* ``log_likelihood_``, ``aic_``, ``bic_`` and a ``summary`` DataFrame;
* identification checks: a parameter that runs to a boundary of its domain (towards 0 or infinity) or a
  Hessian that is singular (the observed information does not determine every parameter) is named in a
  :class:`~crm_models.exceptions.ConvergenceWarning` and listed in ``fit_warnings_``; predictions that come
  out NaN raise :class:`~crm_models.exceptions.ConvergenceError` naming that cause instead of being returned.

The design follows the scikit-learn estimator contract: settings in ``__init__`` only, data in
``fit``, learned values end in ``_``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize
from sklearn.base import BaseEstimator

from crm_models.exceptions import ConvergenceError, ConvergenceWarning, DataContractError, NotFittedError

#: two-sided 95% normal quantile, used for the intervals in ``summary``
Z_95 = 1.959963984540054

#: a parameter outside [1 / BOUNDARY_RATIO, BOUNDARY_RATIO] counts as sitting at a boundary of its domain
#: (shape parameters of these models are O(0.1-10) and scale parameters O(1-1000) in weeks or days)
BOUNDARY_RATIO = 1e5

#: the Hessian counts as singular when its smallest eigenvalue is below this share of its largest
SINGULAR_RTOL = 1e-10


# --------------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------------
def _as_float_array(values: Any, name: str) -> np.ndarray:
    if isinstance(values, pd.DataFrame):
        raise DataContractError(
            f"{name} must be one column (array or Series), got a DataFrame", column=name, rule="one-dimensional"
        )
    try:
        if isinstance(values, pd.Series | pd.Index):  # nullable dtypes: pd.NA becomes NaN, caught below
            arr = values.to_numpy(dtype=float, na_value=np.nan)
        else:
            arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataContractError(f"{name} must be numeric", column=name, rule="numeric values") from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise DataContractError(f"{name} must be one-dimensional", column=name, rule="one-dimensional")
    return arr


def _offending(mask: np.ndarray, **columns: np.ndarray) -> pd.DataFrame:
    rows = np.flatnonzero(mask)[:5]
    return pd.DataFrame({k: v[rows] for k, v in columns.items()}, index=pd.Index(rows, name="row"))


def check_summary_arrays(
    frequency: Any,
    recency: Any,
    T: Any,
    weights: Any = None,
    *,
    require_repeaters: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate and convert ``(frequency, recency, T[, weights])`` to float arrays.

    Rules (each broken rule raises :class:`~crm_models.exceptions.DataContractError` naming it):

    * all three have the same length, are finite and numeric;
    * ``frequency`` (repeat purchases) is a non-negative integer;
    * ``recency`` (time of the last repeat purchase, measured from the first) is ``>= 0``;
    * ``recency <= T`` (``T`` is the customer's age at the end of the calibration period);
    * ``recency == 0`` when ``frequency == 0``;
    * at least one customer has ``frequency > 0`` (otherwise no purchase rate can be learned),
      unless ``require_repeaters=False``;
    * ``weights``, when given, are finite and non-negative with a positive sum.
    """
    x = _as_float_array(frequency, "frequency")
    tx = _as_float_array(recency, "recency")
    big_t = _as_float_array(T, "T")
    if not (len(x) == len(tx) == len(big_t)):
        raise DataContractError(
            f"frequency, recency and T must have the same length (got {len(x)}, {len(tx)}, {len(big_t)})",
            rule="equal lengths",
        )
    if len(x) == 0:
        raise DataContractError("no customers given", column="frequency", rule="at least one customer")
    cols = {"frequency": x, "recency": tx, "T": big_t}
    for name, arr in cols.items():
        bad = ~np.isfinite(arr)
        if bad.any():
            raise DataContractError(
                f"{name} has {int(bad.sum())} missing or infinite values",
                column=name,
                rule="finite values",
                examples=_offending(bad, **cols),
            )
    bad = x < 0
    if bad.any():
        raise DataContractError(
            "frequency (number of repeat purchases) must be >= 0",
            column="frequency",
            rule="frequency >= 0",
            examples=_offending(bad, **cols),
        )
    bad = x != np.round(x)
    if bad.any():
        raise DataContractError(
            "frequency counts repeat purchases and must be a whole number",
            column="frequency",
            rule="frequency is an integer",
            examples=_offending(bad, **cols),
        )
    bad = tx < 0
    if bad.any():
        raise DataContractError(
            "recency (time from first to last purchase) must be >= 0",
            column="recency",
            rule="recency >= 0",
            examples=_offending(bad, **cols),
        )
    # a tiny tolerance for values that went through a unit conversion
    bad = tx > big_t * (1 + 1e-9) + 1e-12
    if bad.any():
        raise DataContractError(
            "recency cannot exceed T (the customer's age at the end of the calibration period)",
            column="recency",
            rule="recency <= T",
            examples=_offending(bad, **cols),
        )
    bad = (x == 0) & (tx != 0)
    if bad.any():
        raise DataContractError(
            "customers without repeat purchases must have recency 0",
            column="recency",
            rule="recency == 0 when frequency == 0",
            examples=_offending(bad, **cols),
        )
    if weights is None:
        w = np.ones_like(x)
    else:
        w = _as_float_array(weights, "weights")
        if len(w) != len(x):
            raise DataContractError("weights must have one value per customer", column="weights", rule="equal lengths")
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            raise DataContractError(
                "weights must be finite and >= 0",
                column="weights",
                rule="weights >= 0",
                examples=_offending(bad, weights=w, **cols),
            )
        if w.sum() <= 0:
            raise DataContractError("weights sum to zero", column="weights", rule="sum of weights > 0")
    if require_repeaters and not (x[w > 0] > 0).any():
        raise DataContractError(
            "every customer has frequency 0: with no repeat purchases the purchase rate cannot be estimated",
            column="frequency",
            rule="at least one customer with frequency > 0",
        )
    return x, np.minimum(tx, big_t), big_t, w


def factorize_rows(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label identical rows of ``columns``: returns ``codes`` (row -> group) and one row index per group.

    Each column is hashed to integer codes (``pd.factorize``, linear time), the codes are combined into
    one int64 key and hashed again: much faster than sorting or grouping on float columns or tuples.
    """
    n = len(columns[0])
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for col in columns:
        codes, uniques = pd.factorize(np.asarray(col))
        if span * len(uniques) >= 2**62:  # would overflow: fall back to pandas on the columns
            codes, _ = pd.MultiIndex.from_arrays(list(columns)).factorize()
            codes = np.asarray(codes, dtype=np.int64)
            first = np.full(codes.max() + 1, n, dtype=np.int64)
            np.minimum.at(first, codes, np.arange(n))
            return codes, first
        key = key * len(uniques) + codes
        span *= len(uniques)
    codes, uniques = pd.factorize(key)
    codes = np.asarray(codes, dtype=np.int64)
    first = np.empty(len(uniques), dtype=np.int64)
    first[codes[::-1]] = np.arange(n - 1, -1, -1)
    return codes, first


def group_rows(*columns: np.ndarray, weights: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Group identical rows of ``columns`` and sum their ``weights`` (sufficient statistics).

    Returns the distinct rows (one array per column) and the summed weights; rows with zero weight
    are dropped.
    """
    keep = weights > 0
    if not keep.all():
        columns = tuple(c[keep] for c in columns)
        weights = weights[keep]
    codes, first = factorize_rows(*columns)
    summed = np.bincount(codes, weights=weights, minlength=len(first))
    return [np.asarray(c, dtype=float)[first] for c in columns], summed


# --------------------------------------------------------------------------------------------------
# small numerical helpers
# --------------------------------------------------------------------------------------------------
def log1mexp(x: np.ndarray) -> np.ndarray:
    """``log(1 - exp(x))`` for ``x <= 0``, accurate near 0 and for very negative ``x``."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):  # np.where evaluates both branches: log1p(-1) for x near 0 is discarded
        return np.where(x > -0.6931471805599453, np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def expm1_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(1 - exp(-a * b)) / a`` with its limit ``b`` at ``a == 0`` (used for ``s == 1`` limits)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    small = np.abs(a * b) < 1e-10
    safe_a = np.where(small, 1.0, a)
    return np.where(small, b * (1 - a * b / 2), -np.expm1(-safe_a * b) / safe_a)


@dataclass(frozen=True)
class FitData:
    """Grouped data handed to a model's log-likelihood: columns and weights."""

    columns: dict[str, np.ndarray]
    weights: np.ndarray
    n_obs: float

    def __getitem__(self, key: str) -> np.ndarray:
        return self.columns[key]

    def distinct(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Distinct values of a column and the index of each row's value (cached).

        Terms that depend on one column only (``gammaln(r + x)``, ``betaln(a, b + x)``, ...) are computed
        on the few distinct values and gathered, which makes special functions nearly free.
        """
        cache_key = f"_distinct_{key}"
        if cache_key not in self.columns:
            values, inverse = np.unique(self.columns[key], return_inverse=True)
            self.columns[cache_key] = (values, inverse)
        return self.columns[cache_key]

    def pairs(self, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Distinct ``(x, key)`` pairs: their x values, key values, the distinct-x index of each pair,
        and the pair index of each row (cached)."""
        cache_key = f"_pairs_{key}"
        if cache_key not in self.columns:
            ux, inv = self.distinct("x")
            codes, first = factorize_rows(inv, self.columns[key])
            x_index = inv[first]
            self.columns[cache_key] = (ux[x_index], self.columns[key][first], x_index, codes)
        return self.columns[cache_key]

    def x_weights(self) -> np.ndarray:
        """Total weight per distinct x value (cached)."""
        if "_x_weights" not in self.columns:
            ux, inv = self.distinct("x")
            self.columns["_x_weights"] = np.bincount(inv, weights=self.weights, minlength=len(ux))
        return self.columns["_x_weights"]


# --------------------------------------------------------------------------------------------------
# the template
# --------------------------------------------------------------------------------------------------
class MLEModel(BaseEstimator):
    """Base class of the CLV maximum-likelihood models.

    Subclasses set ``_param_names`` and implement ``_loglik(log_params, data, need_grad)`` which
    returns per-row log-likelihoods (shape ``(n,)``) and, when ``need_grad``, the gradient of the
    *weighted total* log-likelihood with respect to the *log* parameters (shape ``(k,)``); models
    whose likelihood splits into terms of ``(x, T)`` and ``(x, t_x)`` accumulate it on those pairs. ``_starting_points(data)`` yields candidate
    log-parameter vectors.

    Parameters
    ----------
    penalizer : float
        L2 penalty on the log-parameters (0 = plain maximum likelihood). A small value (0.001-0.01)
        helps when the data barely identify a parameter (e.g. very few repeat buyers).
    tol : float
        Convergence tolerance on the gradient of the mean log-likelihood.
    max_iter : int
        Maximum optimizer iterations per starting point.
    initial_params : dict or None
        Optional starting values on the natural scale, tried first.
    """

    _param_names: tuple[str, ...] = ()

    #: human label of the method (reports name it from here, never from a hard-coded string)
    method_name: str = ""
    #: the paper that defines it, as "Authors (year)"
    method_reference: str = ""
    #: one plain-language sentence with ``{name}`` and ``{reference}`` placeholders
    _description: str = "The data follow the {name} model ({reference})."
    #: the parameter whose collapse to 0 means "no customer drops out" (purchase models), if any
    _dropout_param: str | None = None

    def __init__(
        self,
        penalizer: float = 0.0,
        tol: float = 1e-7,
        max_iter: int = 500,
        initial_params: dict[str, float] | None = None,
    ) -> None:
        self.penalizer = penalizer
        self.tol = tol
        self.max_iter = max_iter
        self.initial_params = initial_params

    # ---- to be provided by subclasses ------------------------------------------------------------
    def _loglik(
        self, log_params: np.ndarray, data: FitData, need_grad: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _starting_points(self, data: FitData) -> list[np.ndarray]:  # pragma: no cover - abstract
        return [np.zeros(len(self._param_names))]

    # ---- objective -------------------------------------------------------------------------------
    def _objective(self, log_params: np.ndarray, data: FitData) -> tuple[float, np.ndarray]:
        """Mean negative log-likelihood (plus penalty) and its gradient, on the log scale."""
        ll, grad = self._loglik(log_params, data, True)
        w = data.weights
        total = float(np.dot(w, ll))
        g = grad
        value = -total / data.n_obs + self.penalizer * float(log_params @ log_params)
        gradient = -g / data.n_obs + 2 * self.penalizer * log_params
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            return np.inf, np.zeros_like(log_params)
        return value, gradient

    def _total_loglik(self, log_params: np.ndarray, data: FitData) -> float:
        ll, _ = self._loglik(log_params, data, False)
        return float(np.dot(data.weights, ll))

    #: above this many distinct rows, the optimizer starts from a fit on a subsample of them
    _warm_start_rows = 40_000

    def _subsample(self, data: FitData, size: int) -> FitData:
        """A fixed-seed uniform subsample of the distinct rows, weights rescaled to the full total."""
        rng = np.random.default_rng(0)
        pick = np.sort(rng.choice(len(data.weights), size=size, replace=False))
        cols = {k: v[pick] for k, v in data.columns.items() if not k.startswith("_")}
        w = data.weights[pick]
        return FitData(cols, w * (data.n_obs / w.sum()), data.n_obs)

    def _run_optimizer(self, data: FitData) -> np.ndarray:
        starts: list[np.ndarray] = []
        if self.initial_params is not None:
            missing = set(self._param_names) - set(self.initial_params)
            if missing:
                raise ValueError(f"initial_params misses {sorted(missing)}")
            starts.append(np.log([float(self.initial_params[p]) for p in self._param_names]))
        default_starts = self._starting_points(data)
        if self.initial_params is None and len(data.weights) > self._warm_start_rows:
            # Large data: fit a subsample of the distinct rows, then take Newton steps on the full data
            # with the subsample's Hessian (about the full one, rescaled): each step costs one gradient
            # evaluation and the error shrinks by the (small) sampling error of that Hessian.
            polished = self._newton_polish(data, default_starts)
            if polished is not None:
                return polished
        starts.extend(default_starts)
        return self._optimize_from(starts, data)

    def _newton_polish(self, data: FitData, default_starts: list[np.ndarray]) -> np.ndarray | None:
        try:
            sub = self._subsample(data, self._warm_start_rows // 2)
            theta = self._optimize_from(default_starts, sub, loose=False)
            hess = self._hessian(theta, sub) / data.n_obs
            np.linalg.cholesky(hess)  # must be positive definite
        except (ConvergenceError, np.linalg.LinAlgError):
            return None
        value, grad = self._objective(theta, data)
        for _ in range(25):
            if not np.isfinite(value):
                return None
            if np.max(np.abs(grad)) < self.tol:
                return theta
            step = -np.linalg.solve(hess, grad)
            new_value, new_grad = self._objective(theta + step, data)
            if not new_value <= value + 1e-4 * float(grad @ step):
                return self._optimize_from([theta], data)  # let L-BFGS take over from here
            theta, value, grad = theta + step, new_value, new_grad
        return self._optimize_from([theta], data)

    def _optimize_from(self, starts: list[np.ndarray], data: FitData, loose: bool = False) -> np.ndarray:
        best: optimize.OptimizeResult | None = None
        failures: list[str] = []
        for start in starts:
            value, _ = self._objective(start, data)
            if not np.isfinite(value):
                failures.append(f"start {np.round(np.exp(start), 4).tolist()}: likelihood not finite")
                continue
            res = optimize.minimize(
                self._objective,
                start,
                args=(data,),
                jac=True,
                method="L-BFGS-B",
                bounds=[(-30.0, 30.0)] * len(start),
                options={"maxiter": self.max_iter, "gtol": 1e-4 if loose else self.tol, "ftol": 1e-10 if loose else 1e-15,
                         "maxcor": 20},
            )
            grad_ok = np.all(np.isfinite(res.jac)) and np.max(np.abs(res.jac)) < max(1e-4, 100 * self.tol)
            if not (res.success or grad_ok) or not np.isfinite(res.fun):
                failures.append(f"start {np.round(np.exp(start), 4).tolist()}: {res.message}")
                continue
            # the first start that converges wins; the others are fall-backs for hard data
            best = res
            break
        if best is None:
            raise ConvergenceError(
                f"{type(self).__name__} did not converge from any starting point "
                f"({'; '.join(failures)}). Try: check that the time unit is sensible (weeks or days, so that "
                "T is roughly 1-1000), pass initial_params close to the expected values, raise max_iter, "
                "or set a small penalizer (e.g. 0.001)."
            )
        if np.any(np.abs(best.x) >= 29.9):
            at_bound = [p for p, v in zip(self._param_names, best.x, strict=True) if abs(v) >= 29.9]
            raise ConvergenceError(
                f"{type(self).__name__}: parameter(s) {at_bound} ran off to 0 or infinity, so the data do not "
                "identify the model (too few repeat purchases, or a history that the model cannot describe). "
                "Try a small penalizer (e.g. 0.01), a longer calibration period, or a simpler model."
            )
        return best.x

    def _hessian(self, log_params: np.ndarray, data: FitData) -> np.ndarray:
        """Hessian of the total negative log-likelihood on the log scale: forward differences of the
        analytic gradient (k extra gradient evaluations), symmetrized."""
        k = len(log_params)
        hess = np.empty((k, k))
        _, g0 = self._loglik(log_params, data, True)
        for j in range(k):
            h = 1e-5 * max(1.0, abs(log_params[j]))
            e = np.zeros(k)
            e[j] = h
            _, gp = self._loglik(log_params + e, data, True)
            hess[:, j] = -(gp - g0) / h
        hess = (hess + hess.T) / 2
        if self.penalizer:
            hess += 2 * self.penalizer * data.n_obs * np.eye(k)
        return hess

    def _finish_fit(self, data: FitData) -> None:
        """Optimize, store the learned attributes and the covariance of the log-parameters.

        BLAS runs single-threaded meanwhile: the optimizer's vectors have 2-4 entries and the
        likelihood's reductions are memory-bound, so extra BLAS threads only add wake-up latency
        (tens of milliseconds per call on a busy machine).
        """
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            self._fit_in_thread_limits(data)

    def _fit_in_thread_limits(self, data: FitData) -> None:
        log_params = self._run_optimizer(data)
        self._set_log_params(log_params)
        self.log_likelihood_ = self._total_loglik(log_params, data)
        self.n_obs_ = float(data.n_obs)
        k = len(log_params)
        self.aic_ = 2 * k - 2 * self.log_likelihood_
        self.bic_ = k * np.log(data.n_obs) - 2 * self.log_likelihood_
        hess = self._hessian(log_params, data)
        singular = _singular_reason(hess)
        cov = np.full((k, k), np.nan)
        if singular is None:
            try:
                cov = np.linalg.inv(hess)
                if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) < 0):
                    raise np.linalg.LinAlgError
            except np.linalg.LinAlgError:
                cov = np.full((k, k), np.nan)
                singular = "its inverse is not a valid covariance"
        self.covariance_log_ = pd.DataFrame(cov, index=list(self._param_names), columns=list(self._param_names))
        limit = np.log(BOUNDARY_RATIO)
        self.at_boundary_ = {p: ("0" if v < 0 else "infinity")
                             for p, v in zip(self._param_names, log_params, strict=True) if abs(v) > limit}
        self.singular_hessian_ = singular is not None
        self.fit_warnings_ = self._identification_problems(log_params, singular)
        for problem in self.fit_warnings_:
            warnings.warn(problem, ConvergenceWarning, stacklevel=4)

    def _identification_problems(self, log_params: np.ndarray, singular: str | None) -> list[str]:
        """Messages naming each identification problem of a fit (empty when the fit is identified).

        A parameter far outside its usual range means the likelihood kept improving towards a boundary of
        the parameter space (e.g. BG/NBD's ``r`` and ``alpha`` growing together on 1-2 customers, or the
        dropout parameter going to 0 when the data show no dropout); a singular Hessian means some
        direction of the parameters is not determined by the data, so standard errors are undefined.
        """
        name = type(self).__name__
        problems: list[str] = []
        limit = np.log(BOUNDARY_RATIO)
        low = [p for p, v in zip(self._param_names, log_params, strict=True) if v < -limit]
        high = [p for p, v in zip(self._param_names, log_params, strict=True) if v > limit]
        if low or high:
            where = "; ".join(
                part for part in (
                    f"{low} went to 0" if low else "",
                    f"{high} grew without bound" if high else "",
                ) if part
            )
            values = ", ".join(f"{p}={float(np.exp(v)):.3g}" for p, v in zip(self._param_names, log_params,
                                                                                 strict=True))
            problems.append(
                f"{name}: parameter at a boundary of its domain ({where}; {values}), so the data do not identify "
                "the model there: estimates and their standard errors are unreliable. Usual causes: very few "
                "customers or repeat purchases, or no sign of the process the parameter describes (e.g. no "
                "dropout). Try more data, a longer calibration period, a small penalizer (e.g. 0.01) or a simpler "
                "model."
            )
        if singular is not None:
            problems.append(
                f"{name}: the Hessian of the log-likelihood at the estimate is singular ({singular}), so the data "
                "do not determine every parameter and standard errors are undefined (NaN). Try more data, a "
                "small penalizer (e.g. 0.01) or a simpler model."
            )
        return problems

    def identification_note(self) -> str | None:
        """A plain-language caution for a report when the fit is not identified; None when it is (or when
        the model was not fitted to data)."""
        self._check_fitted()
        boundary = getattr(self, "at_boundary_", {})
        if self._dropout_param is not None and boundary.get(self._dropout_param) == "0":
            return ("the estimated dropout is close to zero: on this data the model sees almost no customers "
                    "leaving, so nearly everyone counts as active and value rests on purchase rates alone.")
        if boundary:
            return (f"parameter(s) {', '.join(boundary)} ran to the edge of their range: the data do not pin the "
                    "model down, so treat its values with caution.")
        if getattr(self, "singular_hessian_", False):
            return ("the data do not pin down every parameter, so standard errors and intervals are not "
                    "available; treat the values with caution.")
        return None

    def _output(self, values: Any, like: Any, name: str) -> np.ndarray | pd.Series:
        """:func:`as_output`, refusing NaN: a NaN prediction means the fitted parameters cannot produce it."""
        arr = np.asarray(values, dtype=float)
        bad = np.isnan(arr)
        if bad.any():
            causes = " ".join(getattr(self, "fit_warnings_", []))
            values_text = ", ".join(f"{p}={v:.3g}" for p, v in self.params_.items())
            raise ConvergenceError(
                f"{type(self).__name__}.{name} is NaN for {int(bad.sum())} of {arr.size} value(s) at the fitted "
                f"parameters ({values_text}). "
                + (causes if causes else "The inputs or the parameters are outside the range where the formula "
                   "can be evaluated.")
            )
        return as_output(values, like, name)

    def _set_log_params(self, log_params: np.ndarray) -> None:
        self.params_ = pd.Series(np.exp(log_params), index=list(self._param_names), name="estimate")

    # ---- results ---------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(...) first")

    @property
    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors (delta method from the log scale) and 95% intervals."""
        self._check_fitted()
        est = self.params_.to_numpy()
        cov = getattr(self, "covariance_log_", None)
        se_log = (
            np.sqrt(np.diag(cov.to_numpy())) if cov is not None else np.full(len(est), np.nan)
        )
        return pd.DataFrame(
            {
                "estimate": est,
                "se": est * se_log,
                "lower_95": est * np.exp(-Z_95 * se_log),
                "upper_95": est * np.exp(Z_95 * se_log),
            },
            index=pd.Index(list(self._param_names), name="parameter"),
        )

    def describe(self) -> str:
        """The report sentence that names this model and what it assumes, from the fitted object itself.

        Reports call this rather than writing the method's name, so the text always matches the model that
        produced the numbers (a Pareto/NBD suite never reads "BG/NBD").
        """
        self._check_fitted()
        return self._description.format(name=self.method_name, reference=self.method_reference)

    def _p(self) -> tuple[float, ...]:
        self._check_fitted()
        return tuple(float(self.params_[p]) for p in self._param_names)

    def with_params(self, **params: float) -> MLEModel:
        """A fitted copy of this model with the given parameter values (for simulation or what-if)."""
        missing = set(self._param_names) - set(params)
        if missing:
            raise ValueError(f"missing parameters {sorted(missing)}")
        new = type(self)(**self.get_params())
        new._set_log_params(np.log([float(params[p]) for p in self._param_names]))
        return new

    def sample_params(self, n_draws: int, seed: int | np.random.Generator | None = None) -> pd.DataFrame:
        """Draw parameter vectors from the asymptotic normal distribution of the log-parameters."""
        self._check_fitted()
        cov = self.covariance_log_.to_numpy()
        if not np.all(np.isfinite(cov)):
            raise ConvergenceError(
                "the covariance of the estimates is not available (singular Hessian); "
                "parameter uncertainty cannot be sampled. Try a longer calibration period or a penalizer."
            )
        rng = np.random.default_rng(seed)
        draws = rng.multivariate_normal(np.log(self.params_.to_numpy()), cov, size=n_draws, method="eigh")
        return pd.DataFrame(np.exp(draws), columns=list(self._param_names))


def _singular_reason(hess: np.ndarray) -> str | None:
    """Why ``hess`` (Hessian of the negative log-likelihood) is singular, or None when it is not."""
    if not np.all(np.isfinite(hess)):
        return "it has non-finite entries"
    eig = np.linalg.eigvalsh(hess)
    if eig[-1] <= 0 or eig[0] <= SINGULAR_RTOL * eig[-1]:
        return f"eigenvalues from {eig[0]:.3g} to {eig[-1]:.3g}"
    return None


class PurchaseModel(MLEModel):
    """Common fitting front-end of the non-contractual purchase models (BG/NBD, MBG/NBD, Pareto/NBD)."""

    def fit(self, frequency: Any, recency: Any, T: Any, weights: Any = None) -> PurchaseModel:
        """Fit to per-customer repeat ``frequency``, ``recency`` (time of last repeat purchase) and ``T`` (age).

        ``weights`` (optional) counts how many customers share each row. Identical rows are grouped
        before fitting, so a million customers with daily time stamps usually reduce to tens of
        thousands of distinct rows.
        """
        x, tx, big_t, w = check_summary_arrays(frequency, recency, T, weights)
        (gx, gtx, gT), gw = group_rows(x, tx, big_t, weights=w)
        data = FitData({"x": gx, "tx": gtx, "T": gT}, gw, float(gw.sum()))
        self.n_distinct_rows_ = len(gw)
        self._finish_fit(data)
        return self

    def fit_from_summary(
        self,
        summary: pd.DataFrame,
        *,
        frequency: str = "frequency",
        recency: str = "recency",
        T: str = "T",
        weights: str | None = None,
    ) -> PurchaseModel:
        """Fit from a customer-summary DataFrame (the output of ``crm_models.summary.customer_summary``)."""
        _require_columns(summary, [frequency, recency, T] + ([weights] if weights else []))
        return self.fit(
            summary[frequency], summary[recency], summary[T], None if weights is None else summary[weights]
        )

    def _loglik_rows(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        x, tx, big_t, _ = check_summary_arrays(frequency, recency, T, require_repeaters=False)
        data = FitData({"x": x, "tx": tx, "T": big_t}, np.ones_like(x), float(len(x)))
        ll, _ = self._loglik(np.log(self.params_.to_numpy()), data, False)
        return ll

    def score(self, frequency: Any, recency: Any, T: Any) -> float:
        """Mean log-likelihood per customer of new data under the fitted parameters."""
        self._check_fitted()
        return float(np.mean(self._loglik_rows(frequency, recency, T)))

    def _prepare(self, frequency: Any, recency: Any, T: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._check_fitted()
        x, tx, big_t, _ = check_summary_arrays(frequency, recency, T, require_repeaters=False)
        return x, tx, big_t


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataContractError(
            f"summary frame lacks column(s) {missing}; it has {list(frame.columns)[:12]}",
            column=missing[0],
            rule="required column present",
        )


def as_output(values: np.ndarray, like: Any, name: str) -> np.ndarray | pd.Series:
    """Return a Series with ``like``'s index when ``like`` is a Series, else an array (scalar for scalars)."""
    if isinstance(like, pd.Series):
        return pd.Series(values, index=like.index, name=name)
    if np.ndim(like) == 0 and np.size(values) == 1:
        return float(np.asarray(values).reshape(-1)[0])  # type: ignore[return-value]
    return values


Objective = Callable[[np.ndarray, FitData], tuple[float, np.ndarray]]
