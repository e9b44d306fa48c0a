"""Samples for the product and linear-algebra rules (srcgrad/rules/linalg.py)."""

from __future__ import annotations

import numpy as np

from tests.rule_samples import S, arr, draw, spd

CHECK_DUCK = True


def well_conditioned(n: int, batch: tuple[int, ...] = ()):
    """A random square matrix (or stack) kept far from singular by a diagonal shift."""

    def make(rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(-1.0, 1.0, size=(*batch, n, n)) + n * np.eye(n)

    return draw(make, f"well_conditioned({n})")


def _orthogonal(rng: np.random.Generator, n: int, batch: tuple[int, ...]) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((*batch, n, n)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def separated_symmetric(n: int, batch: tuple[int, ...] = ()):
    """A symmetric matrix whose eigenvalues are at least 0.5 apart (eigh is smooth there)."""

    def make(rng: np.random.Generator) -> np.ndarray:
        q = _orthogonal(rng, n, batch)
        w = np.arange(n) * 0.8 - 1.0 + rng.uniform(-0.1, 0.1, size=(*batch, n))
        return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)

    return draw(make, f"separated_symmetric({n})")


def separated_singular(m: int, n: int, batch: tuple[int, ...] = ()):
    """An m x n matrix whose singular values are distinct, nonzero and well separated."""

    def make(rng: np.random.Generator) -> np.ndarray:
        k = min(m, n)
        u = _orthogonal(rng, m, batch)[..., :, :k]
        v = _orthogonal(rng, n, batch)[..., :, :k]
        s = 1.0 + np.arange(k)[::-1] * 0.7 + rng.uniform(-0.1, 0.1, size=(*batch, k))
        return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)

    return draw(make, f"separated_singular({m}, {n})")


def separated_eigen(n: int, kind: str = "real", batch: tuple[int, ...] = ()):
    """A square matrix with well-separated eigenvalues: real ones, complex pairs of a real
    matrix ("pairs"), or a complex matrix ("complex")."""

    def make(rng: np.random.Generator) -> np.ndarray:
        p = rng.uniform(-1, 1, (*batch, n, n)) + 2 * np.eye(n)
        d = np.diag(1.0 + 1.5 * np.arange(n) + rng.uniform(-0.1, 0.1, n))
        if kind == "pairs":              # a rotation-scaling block: eigenvalues 1 +- 2i
            d[:2, :2] = [[1.0, -2.0], [2.0, 1.0]]
        if kind == "complex":
            p = p + 1j * rng.uniform(-1, 1, (*batch, n, n))
            d = d + 1j * np.diag(rng.uniform(-1, 1, n))
        return p @ d @ np.linalg.inv(p)

    return draw(make, f"separated_eigen({n}, {kind})")


NEGATIVE_DET = draw(lambda rng: np.diag([-1.0, 1.0, 1.0]) @ well_conditioned(3).draw(rng),
                    "negative_det(3)")

# Rules calling functions that return NumPy's named-tuple results (SlogdetResult,
# EighResult, SVDResult...): the test's array wrapper cannot rebuild those.
NAMED = {"duck": False, "note": "named-tuple results do not survive the array wrapper"}

SAMPLES = {
    np.matmul: [
        S(arr((2, 3)), arr((3, 4))),
        S(arr((3,)), arr((3,))),
        S(arr((2, 3)), arr((3,))),
        S(arr((3,)), arr((3, 4))),
        S(arr((2, 2, 3)), arr((3, 4))),
        S(arr((2, 3)), arr((5, 3, 4))),
        S(arr((2, 1, 2, 3)), arr((3, 3, 2))),
        S(arr((3,)), arr((2, 3, 4))),
        S(arr((2, 4, 3)), arr((3,))),
    ],
    np.dot: [
        S(arr((3,)), arr((3,))),
        S(arr((2, 3)), arr((3,))),
        S(arr((3,)), arr((3, 4))),
        S(arr((2, 3)), arr((3, 4))),
        S(arr((2, 3, 4)), arr((5, 4, 2))),
        S(arr((2, 3)), arr(())),
        S(arr(()), arr((2, 3))),
        S(arr((4,)), arr((2, 4, 3))),
    ],
    np.vdot: [S(arr((3,)), arr((3,))), S(arr((2, 3)), arr((3, 2)))],
    np.inner: [
        S(arr((3,)), arr((3,))),
        S(arr((2, 3)), arr((4, 3))),
        S(arr((2, 3)), arr((3,))),
        S(arr(()), arr((2, 3))),
        S(arr((2, 2, 3)), arr((3,))),
    ],
    np.outer: [S(arr((3,)), arr((4,))), S(arr((2, 2)), arr((3,)))],
    np.tensordot: [
        S(arr((2, 3, 4)), arr((3, 4, 5))),
        S(arr((2, 3)), arr((3, 4)), 1),
        S(arr((2, 3, 4)), arr((4, 3)), ([1, 2], [1, 0])),
        S(arr((3, 4)), arr((4, 3)), ([0], [1])),
        S(arr((2, 3)), arr((4,)), 0),
        S(arr((3, 2)), arr((2, 3)), (0, 1)),
    ],
    np.kron: [
        S(arr((2, 3)), arr((2, 2))),
        S(arr((3,)), arr((2,))),
        S(arr((2,)), arr((2, 3))),
        S(arr((2, 2, 1)), arr((1, 3))),
    ],
    np.cross: [
        S(arr((3,)), arr((3,))),
        S(arr((4, 3)), arr((3,))),
        S(arr((3, 4)), arr((4, 3)), axisa=0),
        S(arr((2, 3)), arr((2, 3)), axis=-1),
        S(arr((3, 2)), arr((3, 2)), axis=0),
        S(arr((2, 3)), arr((3, 2)), 1, 0, 0),
    ],
    np.einsum: [
        S("ij,jk->ik", arr((2, 3)), arr((3, 4))),
        S("ij,jk", arr((2, 3)), arr((3, 4))),
        S("ii->", arr((3, 3))),
        S("ii->i", arr((3, 3))),
        S("ij->", arr((2, 3))),
        S("ij->ji", arr((2, 3))),
        S("ijk->j", arr((2, 3, 4))),
        S("ij,ij->i", arr((2, 3)), arr((2, 3))),
        S("i,j->ij", arr((3,)), arr((4,))),
        S("i,i", arr((3,)), arr((3,))),
        S("ij,jk,kl->il", arr((2, 3)), arr((3, 4)), arr((4, 2))),
        S("bij,bjk->bik", arr((2, 2, 3)), arr((2, 3, 2))),
        S("...ij,...jk->...ik", arr((2, 2, 3)), arr((3, 4))),
        S("...i,...i->...", arr((2, 3)), arr((3,))),
        S("ii,i->i", arr((3, 3)), arr((3,))),
        S("ij,kj->ik", arr((1, 3)), arr((4, 3))),
        S("i,i,i,i->", arr((2,)), arr((2,)), arr((2,)), arr((2,))),
    ],
    np.linalg.norm: [
        S(arr((5,))),
        S(arr((5,)), 1),
        S(arr((5,)), np.inf),
        S(arr((5,)), -np.inf),
        S(arr((5,)), 3),
        S(arr((5,), 0.5, 2.0), 0.5),
        S(arr((5,)), 0),
        S(arr((3, 4))),
        S(arr((3, 4)), "fro"),
        S(arr((3, 4)), "nuc").opts(**NAMED),
        S(arr((3, 4)), 2).opts(**NAMED),
        S(arr((3, 4)), -2).opts(**NAMED),
        S(arr((3, 4)), 1),
        S(arr((3, 4)), -1),
        S(arr((3, 4)), np.inf),
        S(arr((3, 4)), -np.inf),
        S(arr((3, 4)), None, 1),
        S(arr((3, 4)), 2, 0),
        S(arr((3, 4)), keepdims=True),
        S(arr((2, 3, 4)), None, (1, 2)),
        S(arr((2, 3, 4)), "nuc", (2, 0)).opts(**NAMED),
        S(arr((2, 3, 4)), 1, -1, True),
        S(arr((2, 3, 4)), 2, (0, 1), True).opts(**NAMED),
        S(arr((2, 3, 4)), np.inf, (-1, -2)),
    ],
    np.linalg.inv: [S(well_conditioned(3)), S(well_conditioned(2, (2,)))],
    np.linalg.det: [S(well_conditioned(3)), S(well_conditioned(2, (3,))), S(arr((1, 1), 0.5, 2))],
    np.linalg.slogdet: [
        S(well_conditioned(3)).opts(**NAMED),
        S(well_conditioned(3, (2,))).opts(**NAMED),
        S(NEGATIVE_DET).opts(**NAMED),
    ],
    np.linalg.solve: [
        S(well_conditioned(3), arr((3,))),
        S(well_conditioned(3), arr((3, 2))),
        S(well_conditioned(3, (2,)), arr((2, 3, 2))),
        S(well_conditioned(3), arr((2, 3, 4))),
        S(well_conditioned(3, (2,)), arr((3,))),
    ],
    np.linalg.pinv: [
        S(separated_singular(4, 3)),
        S(separated_singular(2, 3)),
        S(well_conditioned(3)),
        S(separated_singular(3, 2, (2,))),
    ],
    np.linalg.matrix_power: [
        S(well_conditioned(3), 0),
        S(well_conditioned(3), 1),
        S(well_conditioned(3), 3),
        S(well_conditioned(2, (2,)), 2),
        S(well_conditioned(3), -1),
        S(well_conditioned(3), -2),
    ],
    np.linalg.cholesky: [
        S(spd(3)),
        S(spd(2, (2,))),
        S(spd(3), upper=True),
    ],
    np.linalg.eigh: [
        S(separated_symmetric(3)).opts(**NAMED),
        S(separated_symmetric(3, (2,))).opts(**NAMED),
        S(separated_symmetric(3), "U").opts(**NAMED),
        S(separated_symmetric(2)).opts(**NAMED),
    ],
    np.linalg.eigvalsh: [
        S(separated_symmetric(3)).opts(**NAMED),
        S(separated_symmetric(4, (2,))).opts(**NAMED),
        S(separated_symmetric(3), UPLO="U").opts(**NAMED),
    ],
    np.linalg.svd: [
        S(separated_singular(3, 3)).opts(**NAMED),
        S(separated_singular(4, 3), False).opts(**NAMED),
        S(separated_singular(2, 4), full_matrices=False).opts(**NAMED),
        S(separated_singular(3, 2, (2,)), False).opts(**NAMED),
        # one array out: the singular values alone
        S(separated_singular(4, 3), compute_uv=False).opts(**NAMED),
        S(separated_singular(2, 3, (2,)), True, False).opts(**NAMED),
    ],
    np.linalg.qr: [
        S(well_conditioned(3)).opts(**NAMED),
        S(separated_singular(4, 3)).opts(**NAMED),
        S(separated_singular(4, 2, (2,))).opts(**NAMED),
        S(separated_singular(4, 3), "r").opts(**NAMED),
        S(separated_singular(3, 3), mode="r").opts(**NAMED),
    ],
    np.linalg.eig: [
        S(separated_eigen(3)).opts(**NAMED),
        S(separated_eigen(4, "pairs")).opts(**NAMED),
        S(separated_eigen(3, "complex")).opts(**NAMED),
        S(separated_eigen(3, "pairs", (2,))).opts(**NAMED),
    ],
    np.linalg.eigvals: [
        S(separated_eigen(3)).opts(**NAMED),
        S(separated_eigen(3, "pairs")).opts(**NAMED),
        S(separated_eigen(3, "complex", (2,))).opts(**NAMED),
    ],
}

if hasattr(np.linalg, "svdvals"):
    SAMPLES[np.linalg.svdvals] = [
        S(separated_singular(3, 3)).opts(**NAMED),
        S(separated_singular(4, 2)).opts(**NAMED),
        S(separated_singular(2, 3, (2,))).opts(**NAMED),
    ]
if hasattr(np, "matrix_transpose"):
    SAMPLES[np.matrix_transpose] = [S(arr((2, 3))), S(arr((2, 3, 4)))]
