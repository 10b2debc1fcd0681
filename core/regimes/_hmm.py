"""``RegimeHMM``: a Gaussian hidden Markov model of return features, fitted by Baum–Welch.

The fit uses hmmlearn's ``GaussianHMM`` on standardised features (so its variance
floor ``min_covar`` means the same for daily and intraday returns), from several
seeded starts, and keeps the start with the best log-likelihood. Results are
reported in the units of the features, states ordered by the mean of the first
feature (lowest first) so two fits of the same data number their states alike.

Decoding is done here in numpy, not by hmmlearn: the forward filter
(:func:`forward_filter`) reads row ``t`` of the emissions only when it computes the
probabilities of bar ``t``, so it is causal by construction; :meth:`RegimeHMM.viterbi`
is the most likely path over the whole history (it uses the future: for reports).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
from scipy.linalg import solve_triangular

from core.errors import InvalidInputError
from core.regimes._labels import FLAT_SHARPE, VOL_RATIO, label_states

if TYPE_CHECKING:  # hmmlearn (and scikit-learn) load on the first fit, not on import
    from hmmlearn.hmm import GaussianHMM

COVARIANCE_TYPES = ("diag", "full")
_LOG_2PI = math.log(2 * math.pi)


TRANSMAT_PSEUDOCOUNT = 0.01


class RegimeHMM:
    """Gaussian HMM of return features with 2 to 4 labelled states.

    Parameters
    ----------
    n_states : int
        Number of hidden states, 2 to 4.
    n_starts : int
        Baum–Welch runs from different initial parameters; the run with the best
        log-likelihood is kept. Start 0 is deterministic (states initialised on
        quantiles of the absolute first feature), the others are random.
    seed : int
        Seed of the random starts: the same seed and data give the same model.
    covariance_type : {"diag", "full"}
        Covariance of the features within a state.
    n_iter : int
        Maximum EM iterations per start.
    tol : float
        EM stops when the log-likelihood (of the standardised features) gains less.
    vol_ratio, flat_sharpe : float
        Labelling thresholds, see :func:`core.regimes.label_states`.

    Attributes
    ----------
    means_ : ndarray of shape (n_states, n_features)
        State means, in feature units (per-bar log return for column 0).
    variances_ : ndarray of shape (n_states, n_features)
        State variances of each feature (the diagonal of ``covars_``).
    covars_ : ndarray of shape (n_states, n_features, n_features)
        Full covariance matrices (diagonal for ``"diag"``).
    transmat_ : ndarray of shape (n_states, n_states)
        ``transmat_[i, j] = P(state_{t+1} = j | state_t = i)``.
    startprob_ : ndarray of shape (n_states,)
        Distribution of the first observation's state.
    loglik_ : float
        Log-likelihood of the training features under the model (feature units).
    labels_ : list of str
        Name of each state: ``"bull"``, ``"bear"``, ``"sideways"``, ``"high_volatility"``.
    expected_durations_ : ndarray of shape (n_states,)
        Expected bars per visit, ``1 / (1 - transmat_[i, i])`` (inf for an absorbing state).
    start_logliks_ : ndarray of shape (n_starts,)
        Final log-likelihood of every start (-inf for a failed one).
    converged_ : bool
        Whether the kept start stopped before ``n_iter``.
    n_iter_ : int
        EM iterations of the kept start.
    n_features_in_ : int
    hmm_ : hmmlearn.hmm.GaussianHMM
        The kept model in feature units and state order (built on access; for
        cross-checks such as smoothed probabilities).
    """

    def __init__(
        self,
        n_states: int = 3,
        n_starts: int = 5,
        seed: int = 0,
        covariance_type: str = "diag",
        n_iter: int = 200,
        tol: float = 1e-4,
        vol_ratio: float = VOL_RATIO,
        flat_sharpe: float = FLAT_SHARPE,
    ):
        self.n_states = n_states
        self.n_starts = n_starts
        self.seed = seed
        self.covariance_type = covariance_type
        self.n_iter = n_iter
        self.tol = tol
        self.vol_ratio = vol_ratio
        self.flat_sharpe = flat_sharpe

    # -- fitting ------------------------------------------------------------------------
    def fit(self, X: np.ndarray) -> RegimeHMM:
        """Fit by Baum–Welch from ``n_starts`` starts and keep the most likely.

        Parameters
        ----------
        X : array-like of shape (n_observations, n_features) or (n_observations,)
            Features in time order, e.g. :func:`core.regimes.return_features` values;
            at least ``10 · n_states`` rows.

        Returns
        -------
        self
        """
        self._check_params()
        X = as_features(X)
        if len(X) < 10 * self.n_states:
            raise InvalidInputError(
                f"need at least {10 * self.n_states} observations, got {len(X)}"
            )
        loc, scale = X.mean(axis=0), X.std(axis=0)
        if np.any(scale <= 0):
            raise InvalidInputError("a feature is constant: nothing to separate regimes by")
        Z = (X - loc) / scale
        seeds = np.random.SeedSequence(self.seed).spawn(self.n_starts)
        runs = [
            self._run_em(Z, np.random.default_rng(s), first=i == 0) for i, s in enumerate(seeds)
        ]
        scores = np.array([score for _, score in runs])
        if not np.isfinite(scores).any():
            raise InvalidInputError(
                "every Baum–Welch start failed; try other seeds or fewer states"
            )
        best = runs[int(np.argmax(scores))][0]
        log_jacobian = len(X) * float(np.log(scale).sum())
        self.start_logliks_ = scores - log_jacobian
        self._store(best, loc, scale)
        self.loglik_ = float(scores.max()) - log_jacobian
        self.converged_ = bool(best.monitor_.converged)
        self.n_iter_ = int(best.monitor_.iter)
        return self

    @classmethod
    def from_params(
        cls,
        means: np.ndarray,
        variances: np.ndarray,
        transmat: np.ndarray,
        startprob: np.ndarray | None = None,
        **params,
    ) -> RegimeHMM:
        """A ready model from known parameters (states kept in the given order).

        Parameters
        ----------
        means : array-like of shape (n_states, n_features) or (n_states,)
        variances : array-like of shape (n_states, n_features), (n_states,) or
            (n_states, n_features, n_features) for full covariances
        transmat : array-like of shape (n_states, n_states), rows summing to 1
        startprob : array-like of shape (n_states,), default uniform
        **params
            Other constructor parameters (labelling thresholds).
        """
        means = np.asarray(means, dtype=float).reshape(len(means), -1)
        k, d = means.shape
        variances = np.asarray(variances, dtype=float)
        covars = variances if variances.ndim == 3 else _diag_covars(variances.reshape(k, d))
        full = variances.ndim == 3
        model = cls(n_states=k, covariance_type="full" if full else "diag", **params)
        model._check_params()
        model._set(
            means,
            covars,
            np.asarray(transmat, dtype=float),
            np.full(k, 1 / k) if startprob is None else np.asarray(startprob, dtype=float),
        )
        model.loglik_, model.start_logliks_ = math.nan, np.array([])
        model.converged_, model.n_iter_ = True, 0
        return model

    # -- decoding -----------------------------------------------------------------------
    def log_emissions(self, X: np.ndarray) -> np.ndarray:
        """``log p(x_t | state = j)``: ndarray of shape (n_observations, n_states)."""
        X = self._check_X(X)
        out = np.empty((len(X), self.n_states))
        for j in range(self.n_states):
            chol = self._chol[j]
            y = solve_triangular(chol, (X - self.means_[j]).T, lower=True)
            log_det = 2.0 * np.log(np.diag(chol)).sum()
            out[:, j] = -0.5 * (X.shape[1] * _LOG_2PI + log_det + (y**2).sum(axis=0))
        return out

    def filtered_probabilities(self, X: np.ndarray) -> np.ndarray:
        """``P(state_t = j | x_1 .. x_t)`` by the forward algorithm, per bar.

        Row ``t`` depends on rows ``≤ t`` of ``X`` only: use it for decisions.

        Returns
        -------
        ndarray of shape (n_observations, n_states), rows summing to 1
        """
        probabilities, _ = forward_filter(self.log_emissions(X), self.startprob_, self.transmat_)
        return probabilities

    def score(self, X: np.ndarray) -> float:
        """Log-likelihood of ``X`` under the model (forward algorithm)."""
        _, loglik = forward_filter(self.log_emissions(X), self.startprob_, self.transmat_)
        return loglik

    def viterbi(self, X: np.ndarray) -> np.ndarray:
        """The most likely state path over the whole of ``X`` (uses the future).

        Returns
        -------
        ndarray of int of shape (n_observations,)
        """
        return viterbi_path(self.log_emissions(X), self.startprob_, self.transmat_)

    def state_shares(self, X: np.ndarray) -> np.ndarray:
        """Share of the bars of ``X`` the Viterbi path spends in each state, shape (n_states,)."""
        path = self.viterbi(X)
        return np.bincount(path, minlength=self.n_states) / len(path)

    # -- internals ----------------------------------------------------------------------
    def _check_params(self) -> None:
        if not 2 <= int(self.n_states) <= 4 or int(self.n_states) != self.n_states:
            raise InvalidInputError(f"n_states must be 2, 3 or 4, got {self.n_states}")
        if int(self.n_starts) < 1:
            raise InvalidInputError(f"n_starts must be ≥ 1, got {self.n_starts}")
        if self.covariance_type not in COVARIANCE_TYPES:
            raise InvalidInputError(f"covariance_type must be one of {COVARIANCE_TYPES}")

    def _check_X(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "means_"):
            raise InvalidInputError("fit the model first")
        X = as_features(X)
        if X.shape[1] != self.n_features_in_:
            raise InvalidInputError(f"expected {self.n_features_in_} features, got {X.shape[1]}")
        return X

    def _run_em(
        self, Z: np.ndarray, rng: np.random.Generator, *, first: bool
    ) -> tuple[GaussianHMM | None, float]:
        from hmmlearn.hmm import GaussianHMM

        startprob, transmat, means, variances = _initial_params(Z, self.n_states, rng, first)
        for implementation in ("scaling", "log"):
            hmm = GaussianHMM(
                self.n_states,
                covariance_type=self.covariance_type,
                n_iter=self.n_iter,
                tol=self.tol,
                init_params="",
                implementation=implementation,
                # a pseudo-count per transition: a state seen only at the end of the sample
                # (one outlier) still has a valid row instead of failing the fit
                transmat_prior=TRANSMAT_PSEUDOCOUNT + 1.0,
                random_state=int(rng.integers(2**31)),
            )
            hmm.startprob_, hmm.transmat_, hmm.means_ = startprob, transmat, means
            hmm.covars_ = variances if self.covariance_type == "diag" else _diag_covars(variances)
            try:
                with _quiet():
                    score = float(hmm.fit(Z).score(Z))
            except (ValueError, FloatingPointError, np.linalg.LinAlgError):
                continue
            if math.isfinite(score):
                return hmm, score
        return None, -math.inf

    def _store(self, hmm: GaussianHMM, loc: np.ndarray, scale: np.ndarray) -> None:
        means = hmm.means_ * scale + loc
        covars = hmm.covars_ * np.outer(scale, scale)
        order = np.lexsort((np.diagonal(covars, axis1=1, axis2=2)[:, 0], means[:, 0]))
        self._set(
            means[order],
            covars[order],
            hmm.transmat_[np.ix_(order, order)],
            hmm.startprob_[order],
        )

    def _set(self, means, covars, transmat, startprob) -> None:
        k, d = means.shape
        if covars.shape != (k, d, d) or transmat.shape != (k, k) or startprob.shape != (k,):
            raise InvalidInputError("means, covariances, transmat and startprob disagree in shape")
        if not np.allclose(transmat.sum(axis=1), 1) or not np.isclose(startprob.sum(), 1):
            raise InvalidInputError("transmat rows and startprob must sum to 1")
        self.means_, self.covars_ = means, covars
        self.variances_ = np.diagonal(covars, axis1=1, axis2=2).copy()
        self.transmat_, self.startprob_ = transmat, startprob
        self.n_features_in_ = d
        self._chol = np.linalg.cholesky(covars)
        with np.errstate(divide="ignore"):
            self.expected_durations_ = 1.0 / (1.0 - np.diag(transmat))
        self.labels_ = label_states(
            means, self.variances_, vol_ratio=self.vol_ratio, flat_sharpe=self.flat_sharpe
        )

    @property
    def hmm_(self) -> GaussianHMM:
        """The model as an hmmlearn ``GaussianHMM`` in feature units and state order."""
        from hmmlearn.hmm import GaussianHMM

        if not hasattr(self, "means_"):
            raise AttributeError("hmm_ exists after fit")
        hmm = GaussianHMM(self.n_states, covariance_type=self.covariance_type, init_params="")
        hmm.startprob_, hmm.transmat_, hmm.means_ = self.startprob_, self.transmat_, self.means_
        diag = self.covariance_type == "diag"
        hmm.covars_ = self.variances_ if diag else self.covars_
        hmm.n_features = self.n_features_in_
        return hmm


def forward_filter(
    log_emissions: np.ndarray, startprob: np.ndarray, transmat: np.ndarray
) -> tuple[np.ndarray, float]:
    """Normalised forward recursion: filtered state probabilities and log-likelihood.

    ``p_0 ∝ startprob · b_0`` and ``p_t ∝ (p_{t-1} @ transmat) · b_t`` with
    ``b_t = exp(log_emissions[t] - max_j log_emissions[t, j])``; each step is
    normalised, the normalisers summed in log space give the log-likelihood. A
    step whose weights all underflow is redone in log space.

    Parameters
    ----------
    log_emissions : ndarray of shape (n_observations, n_states)
    startprob : ndarray of shape (n_states,)
    transmat : ndarray of shape (n_states, n_states)

    Returns
    -------
    probabilities : ndarray of shape (n_observations, n_states)
    loglik : float
    """
    shift = log_emissions.max(axis=1)
    weights = np.exp(log_emissions - shift[:, None])
    out = np.empty_like(log_emissions)
    log_norms = np.empty(len(out))
    prior = np.asarray(startprob, dtype=float)
    for t, w in enumerate(weights):
        w = prior * w
        total = float(w.sum())
        if total > 0.0:
            p, log_norms[t] = w / total, math.log(total) + shift[t]
        else:  # every weight underflowed
            p, log_norms[t] = _log_space_step(prior, log_emissions[t])
        out[t] = p
        prior = p @ transmat
    return out, float(log_norms.sum())


def viterbi_path(
    log_emissions: np.ndarray, startprob: np.ndarray, transmat: np.ndarray
) -> np.ndarray:
    """The most likely state sequence (Viterbi, log space), shape (n_observations,)."""
    n, k = log_emissions.shape
    with np.errstate(divide="ignore"):
        log_a, log_pi = np.log(transmat), np.log(startprob)
    delta = log_pi + log_emissions[0]
    back = np.zeros((n, k), dtype=np.intp)
    columns = np.arange(k)
    for t in range(1, n):
        candidates = delta[:, None] + log_a
        back[t] = candidates.argmax(axis=0)
        delta = candidates[back[t], columns] + log_emissions[t]
    path = np.empty(n, dtype=np.intp)
    path[-1] = int(delta.argmax())
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def as_features(X: np.ndarray) -> np.ndarray:
    """``X`` as a finite, C-ordered float64 array of shape (n_observations, n_features).

    One memory layout whatever the input's, so that equal rows give bit-equal fits.
    """
    X = np.ascontiguousarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or len(X) == 0:
        raise InvalidInputError("features must be a non-empty (n_observations, n_features) array")
    if not np.all(np.isfinite(X)):
        raise InvalidInputError("features must be finite (drop the rows with NaN first)")
    return X


def _log_space_step(prior: np.ndarray, log_emission: np.ndarray) -> tuple[np.ndarray, float]:
    """One forward step in log space: probabilities and the log of the normaliser."""
    with np.errstate(divide="ignore"):
        a = np.log(prior) + log_emission
    top = a.max()
    log_norm = top + math.log(np.exp(a - top).sum())
    return np.exp(a - log_norm), float(log_norm)


def _initial_params(
    Z: np.ndarray, k: int, rng: np.random.Generator, first: bool
) -> tuple[np.ndarray, ...]:
    """Start values (standardised units): quantile bins of |z| first, random after."""
    n, d = Z.shape
    if first:
        groups = np.array_split(np.argsort(np.abs(Z[:, 0]), kind="stable"), k)
        means = np.array([Z[g].mean(axis=0) for g in groups])
        variances = np.array([Z[g].var(axis=0) for g in groups]) + 1e-2
        stay = np.full(k, 0.95)
    else:
        means = Z[rng.choice(n, size=k, replace=False)]
        variances = rng.uniform(0.25, 2.0, size=(k, d))
        stay = rng.uniform(0.8, 0.99, size=k)
    transmat = np.zeros((k, k))
    for i in range(k):
        others = [j for j in range(k) if j != i]
        split = np.full(k - 1, 1 / (k - 1)) if first else rng.dirichlet(np.ones(k - 1))
        transmat[i, others] = split * (1 - stay[i])
        transmat[i, i] = stay[i]
    return np.full(k, 1 / k), transmat, means, variances


def _diag_covars(variances: np.ndarray) -> np.ndarray:
    return np.array([np.diag(v) for v in variances])


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence hmmlearn's convergence log lines and numpy's log(0) warnings."""
    logger = logging.getLogger("hmmlearn")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
            yield
    finally:
        logger.setLevel(level)
