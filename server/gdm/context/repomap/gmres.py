"""Restarted GMRES in numpy, for PageRank as the linear system (I − dM)y = p (rank.py).

numpy has no iterative solver and scipy is not a dependency; the matrix is never built, only its
product with a vector (`apply`). The kernel's graph needs ~36 products to RESIDUAL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

RESIDUAL = 1e-9  # stop when ‖b − A·x‖ is this small a share of ‖b‖
RESTART = 30
MAX_PRODUCTS = 600  # a safety stop: the kernel's graph needs ~36 products


def solve(np: Any, apply: Callable[[np.ndarray], np.ndarray], b: np.ndarray) -> np.ndarray:
    """x with apply(x) ≈ b (restarted GMRES, modified Gram–Schmidt, Givens rotations), from x = b
    (for I − dM a better start than 0: the first power-iteration step)."""
    x = b.copy()
    b_norm = float(np.linalg.norm(b))
    products = 0
    while True:
        r = b - apply(x)
        products += 1
        beta = float(np.linalg.norm(r))
        if beta <= RESIDUAL * b_norm or products >= MAX_PRODUCTS:
            return x
        basis = [r / beta]
        h = np.zeros((RESTART + 1, RESTART))
        cs, sn = np.zeros(RESTART), np.zeros(RESTART)
        g = np.zeros(RESTART + 1)
        g[0] = beta
        k = 0
        for k in range(RESTART):
            w = apply(basis[k])
            products += 1
            for i, v in enumerate(basis):
                h[i, k] = float(w @ v)
                w -= h[i, k] * v
            h[k + 1, k] = float(np.linalg.norm(w))
            for i in range(k):  # the earlier rotations, on the new column
                h[i, k], h[i + 1, k] = cs[i] * h[i, k] + sn[i] * h[i + 1, k], -sn[i] * h[i, k] + cs[i] * h[i + 1, k]
            rho = float(np.hypot(h[k, k], h[k + 1, k]))
            cs[k], sn[k] = (h[k, k] / rho, h[k + 1, k] / rho) if rho else (1.0, 0.0)
            h[k, k], h[k + 1, k] = rho, 0.0
            g[k], g[k + 1] = cs[k] * g[k], -sn[k] * g[k]
            if abs(g[k + 1]) <= RESIDUAL * b_norm:
                break
            if k + 1 < RESTART:
                norm = float(np.linalg.norm(w))
                if norm == 0:  # an invariant subspace: the solution is in the basis
                    break
                basis.append(w / norm)
        m = k + 1
        coef = np.linalg.solve(np.triu(h[:m, :m]), g[:m]) if m else np.zeros(0)
        x = x + np.asarray(basis[:m]).T @ coef
