"""The code map's GMRES (repomap/gmres.py) on its own: it solves what numpy's dense solver solves."""

from __future__ import annotations

import numpy as np

from gdm.context.repomap import gmres


def _pagerank_like(n: int, seed: int) -> np.ndarray:
    """I − 0.85·M for a random column-stochastic M with a few links per column (PageRank's shape)."""
    rng = np.random.default_rng(seed)
    m = np.zeros((n, n))
    for j in range(n):
        links = int(rng.integers(1, 6))
        m[rng.choice(n, size=links, replace=False), j] = rng.random(links) + 0.1
    m /= m.sum(axis=0)
    return np.eye(n) - 0.85 * m


def test_it_solves_a_pagerank_system_as_the_dense_solver_does():
    a = _pagerank_like(300, seed=1)
    b = np.random.default_rng(2).random(300)
    x = gmres.solve(np, lambda v: a @ v, b)
    assert np.linalg.norm(a @ x - b) <= 1e-8 * np.linalg.norm(b)
    assert np.allclose(x, np.linalg.solve(a, b), rtol=1e-7, atol=1e-10)


def test_it_restarts_until_a_harder_system_is_solved():
    # eigenvalues spread over 1…400 with a nonsymmetric part: far more than RESTART steps are needed
    rng = np.random.default_rng(3)
    a = np.diag(np.arange(1.0, 401.0)) + 0.5 * rng.standard_normal((400, 400)) / np.sqrt(400)
    b = rng.standard_normal(400)
    products = []

    def apply(v: np.ndarray) -> np.ndarray:
        products.append(1)
        return a @ v
    x = gmres.solve(np, apply, b)
    assert len(products) > gmres.RESTART + 1  # it did restart
    assert np.linalg.norm(a @ x - b) <= 1e-8 * np.linalg.norm(b)


def test_a_zero_right_hand_side_gives_zero_without_a_step():
    x = gmres.solve(np, lambda v: 2 * v, np.zeros(5))
    assert not x.any()
