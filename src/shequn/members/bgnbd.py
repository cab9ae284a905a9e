"""BG/NBD (Fader, Hardie & Lee 2005): is a buyer still alive, and will they buy again?

Per customer: `x` repeat purchases, `t_x` the time of the last one and `T` the time
since the first (all in the same unit, e.g. weeks). Purchases while alive are Poisson
with a rate λ ~ Gamma(r, α); after each purchase the customer drops out with a
probability p ~ Beta(a, b). The likelihood is closed form; the four parameters are
fitted by maximising it with scipy (on their logarithms, so they stay positive).
`lifetimes` did this once but is unmaintained; this is the paper's equation (6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        """P(still alive | x, t_x, T); 1 for a customer with no repeat purchase."""
        ratio = np.where(
            x > 0,
            self.a
            / np.maximum(self.b + x - 1, 1e-12)
            * ((self.alpha + big_t) / (self.alpha + t_x)) ** (self.r + x),
            0.0,
        )
        return 1.0 / (1.0 + ratio)

    def p_no_purchase(
        self, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, horizon: float
    ) -> np.ndarray:
        """P(no purchase in the next `horizon`): dead, or alive and silent by chance
        (the posterior rate is Gamma(r + x, α + T))."""
        quiet = ((self.alpha + big_t) / (self.alpha + big_t + horizon)) ** (self.r + x)
        return 1.0 - self.p_alive(x, t_x, big_t) * (1.0 - quiet)


def log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> float:
    """Sum of the customers' log-likelihoods for (log r, log α, log a, log b)."""
    r, alpha, a, b = np.exp(params)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    first = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + big_t)
    second = np.where(
        x > 0,
        betaln(a + 1, np.maximum(b + x - 1, 1e-12)) - betaln(a, b) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return float(np.sum(common + np.logaddexp(first, second)))


def fit(x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> BgNbd:
    """Maximum-likelihood parameters for the customers' (x, t_x, T)."""
    x, t_x, big_t = (np.asarray(v, dtype=float) for v in (x, t_x, big_t))
    result = minimize(
        lambda p: -log_likelihood(p, x, t_x, big_t),
        x0=np.zeros(4),
        method="L-BFGS-B",
    )
    r, alpha, a, b = np.exp(result.x)
    return BgNbd(float(r), float(alpha), float(a), float(b))
