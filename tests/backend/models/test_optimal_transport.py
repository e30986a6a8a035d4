"""Hard OT token alignment: argmin and one-to-one against brute force, barycentric means, equivariance,
gradients."""

from __future__ import annotations

import importlib.util
import itertools
import sys

import pytest
import torch
from torch import Tensor

from geofuse.backend.models import optimal_transport
from geofuse.backend.models.optimal_transport import (
    align_tokens,
    assign_global,
    assign_window,
    barycentric_project,
    nearest_global,
    nearest_window,
    plan_statistics,
    transport_plans,
)


def _brute_cost(x_p: Tensor, x_g: Tensor) -> Tensor:
    """C(i,j) = 1 − cos(X_pⁱ, X_gʲ) by the formula, in float64, the whole B×N×M matrix."""
    x_p, x_g = x_p.double(), x_g.double()
    dot = torch.einsum("bid,bjd->bij", x_p, x_g)
    return 1.0 - dot / (x_p.norm(dim=-1).unsqueeze(2) * x_g.norm(dim=-1).unsqueeze(1))


def _brute_window(x_p: Tensor, x_g: Tensor, height: int, width: int, window: int) -> tuple[Tensor, Tensor]:
    """Window argmin by a loop over tokens: candidates are those whose (row // w, col // w) match."""
    cost = _brute_cost(x_p, x_g)
    rows = torch.arange(height * width) // width
    cols = torch.arange(height * width) % width
    cell = (rows // window) * 10_000 + cols // window
    p_to_g = torch.empty(x_p.shape[:2], dtype=torch.long)
    g_to_p = torch.empty(x_g.shape[:2], dtype=torch.long)
    for i in range(height * width):
        same = (cell == cell[i]).nonzero().squeeze(1)
        p_to_g[:, i] = same[cost[:, i, same].argmin(dim=1)]
        g_to_p[:, i] = same[cost[:, same, i].argmin(dim=1)]
    return p_to_g, g_to_p


@pytest.mark.parametrize("chunk", [1, 7, 30, 64, 1000])
def test_global_matches_brute_force_argmin(chunk: int) -> None:
    generator = torch.Generator().manual_seed(0)
    x_p = torch.randn(2, 30, 8, generator=generator)
    x_g = torch.randn(2, 23, 8, generator=generator)
    cost = _brute_cost(x_p, x_g)
    p_to_g, g_to_p = nearest_global(x_p, x_g, chunk=chunk)
    assert torch.equal(p_to_g, cost.argmin(dim=2))
    assert torch.equal(g_to_p, cost.argmin(dim=1))


def test_ties_go_to_the_lowest_index_across_chunks() -> None:
    generator = torch.Generator().manual_seed(6)
    tokens = torch.randn(1, 3, 4, generator=generator)
    x_p = tokens[:, [0, 1, 2, 0, 1, 2]]  # each p-token appears twice, in different chunks
    x_g = tokens[:, [2, 2, 1, 0]] * 2.0
    p_to_g, g_to_p = nearest_global(x_p, x_g, chunk=2)
    assert p_to_g.tolist() == [[3, 2, 0, 3, 2, 0]]
    assert g_to_p.tolist() == [[2, 2, 1, 0]]


@pytest.mark.parametrize(("height", "width", "window"), [(8, 8, 4), (7, 10, 3), (5, 6, 8), (6, 6, 1)])
def test_window_matches_brute_force_argmin(height: int, width: int, window: int) -> None:
    generator = torch.Generator().manual_seed(1)
    x_p = torch.randn(2, height * width, 5, generator=generator)
    x_g = torch.randn(2, height * width, 5, generator=generator)
    expected_p_to_g, expected_g_to_p = _brute_window(x_p, x_g, height, width, window)
    p_to_g, g_to_p = nearest_window(x_p, x_g, height, width, window)
    assert torch.equal(p_to_g, expected_p_to_g)
    assert torch.equal(g_to_p, expected_g_to_p)


def test_window_covering_the_map_equals_global() -> None:
    generator = torch.Generator().manual_seed(2)
    x_p, x_g = torch.randn(2, 1, 35, 6, generator=generator)
    assert all(map(torch.equal, nearest_window(x_p, x_g, 5, 7, 8), nearest_global(x_p, x_g)))


def test_barycentric_means_and_own_token_by_hand() -> None:
    x_p = torch.tensor([[[1.0, 0.0], [3.0, 2.0], [5.0, 4.0], [7.0, 6.0]]])
    x_own = torch.tensor([[[10.0, 10.0], [20.0, 20.0], [30.0, 30.0], [40.0, 40.0]]])
    # p-tokens 0, 1, 3 go to position 2; p-token 2 goes to position 0; positions 1 and 3 receive none.
    target = torch.tensor([[2, 2, 0, 2]])
    expected = torch.tensor([[[5.0, 4.0], [20.0, 20.0], [11.0 / 3.0, 8.0 / 3.0], [40.0, 40.0]]])
    assert torch.allclose(barycentric_project(x_p, target, x_own), expected)


def _directions(degrees: list[float], scales: list[float]) -> Tensor:
    angles = torch.tensor(degrees).deg2rad()
    return (torch.stack([angles.cos(), angles.sin()], dim=-1) * torch.tensor(scales).unsqueeze(1)).unsqueeze(
        0
    )


def test_align_tokens_by_hand() -> None:
    x_p = _directions([0.0, 20.0, 90.0], [1.0, 2.0, 0.5])
    x_g = _directions([8.0, 85.0, 180.0], [1.0, 3.0, 1.0])
    x_p_aligned, x_g_aligned = align_tokens(x_p, x_g, 1, 3, mode="global")
    # p→g: p0, p1 → g0; p2 → g1; g-position 2 receives none and keeps X_p², the p-token at that position.
    expected_p = torch.stack([(x_p[0, 0] + x_p[0, 1]) / 2, x_p[0, 2], x_p[0, 2]]).unsqueeze(0)
    # g→p: g0 → p0; g1 → p2; g2 (180°) → p2 (cos 0 beats −0.94 and −1); p-position 1 keeps X_g¹.
    expected_g = torch.stack([x_g[0, 0], x_g[0, 1], (x_g[0, 1] + x_g[0, 2]) / 2]).unsqueeze(0)
    assert torch.allclose(x_p_aligned, expected_p)
    assert torch.allclose(x_g_aligned, expected_g)


def test_permuting_g_tokens_permutes_the_plans_and_the_received_rows() -> None:
    """Exact property, for X_g^π = X_g[π] (no argmin ties, which random data gives):

    p_to_g^π = π⁻¹(p_to_g) and g_to_p^π = g_to_p[π]; so X'_p^π[k] = X'_p[π(k)] at every position k that
    receives a p-token, and X'_g^π[i] = X'_g[i] at every p-position i that receives a g-token (the same
    set of g-tokens is averaged). Positions that receive nothing keep the token at that position, which the
    permutation does not move, so they are excluded.
    """
    generator = torch.Generator().manual_seed(3)
    x_p = torch.randn(1, 40, 6, generator=generator)
    x_g = torch.randn(1, 40, 6, generator=generator)
    perm = torch.randperm(40, generator=generator)
    x_g_perm = x_g[:, perm]
    p_to_g, g_to_p = nearest_global(x_p, x_g, chunk=16)
    p_to_g_perm, g_to_p_perm = nearest_global(x_p, x_g_perm, chunk=16)
    assert torch.equal(perm[p_to_g_perm], p_to_g)
    assert torch.equal(g_to_p_perm, g_to_p[:, perm])

    x_p_aligned, x_g_aligned = align_tokens(x_p, x_g, 1, 40)
    x_p_aligned_perm, x_g_aligned_perm = align_tokens(x_p, x_g_perm, 1, 40)
    received_g_positions = torch.bincount(p_to_g[0], minlength=40) > 0
    received_perm = received_g_positions[perm]
    assert torch.allclose(x_p_aligned_perm[0, received_perm], x_p_aligned[0, perm][received_perm])
    received_p_positions = torch.bincount(g_to_p[0], minlength=40) > 0
    assert torch.allclose(x_g_aligned_perm[0, received_p_positions], x_g_aligned[0, received_p_positions])


def test_gradient_flows_through_gathered_values() -> None:
    generator = torch.Generator().manual_seed(4)
    x_p = torch.randn(1, 12, 4, generator=generator, requires_grad=True)
    x_g = torch.randn(1, 12, 4, generator=generator)
    p_to_g, _ = nearest_global(x_p, x_g)
    x_p_aligned, _ = align_tokens(x_p, x_g, 3, 4, mode="global")
    x_p_aligned.sum().backward()
    # d/dX_pⁱ of Σ X'_p = 1/count(j*(i)) from the mean, + 1 if position i receives nothing (own token).
    counts = torch.bincount(p_to_g[0], minlength=12).double()
    expected = 1.0 / counts[p_to_g[0]] + (counts == 0).double()
    assert torch.allclose(x_p.grad[0].double(), expected.unsqueeze(1).expand(12, 4))


def test_cost_is_never_formed_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks: list[tuple[int, ...]] = []
    similarity_block = optimal_transport._similarity_block

    def recording_block(src_unit: Tensor, tgt_unit: Tensor) -> Tensor:
        result = similarity_block(src_unit, tgt_unit)
        blocks.append(tuple(result.shape))
        return result

    generator = torch.Generator().manual_seed(5)
    x_p = torch.randn(2, 100, 8, generator=generator)
    x_g = torch.randn(2, 100, 8, generator=generator)
    whole = nearest_global(x_p, x_g, chunk=100)
    monkeypatch.setattr(optimal_transport, "_similarity_block", recording_block)
    chunked = nearest_global(x_p, x_g, chunk=32)
    assert all(map(torch.equal, chunked, whole))
    assert blocks == ([(2, 32, 100)] * 3 + [(2, 4, 100)]) * 2  # p→g rows, then g→p rows
    blocks.clear()
    nearest_window(x_p, x_g, 10, 10, 4)
    assert blocks == [(2 * 3 * 3, 16, 16)] * 2


def test_unknown_mode_and_bad_arguments_raise() -> None:
    x = torch.randn(1, 4, 2)
    with pytest.raises(ValueError, match="unknown OT mode"):
        align_tokens(x, x, 2, 2, mode="sinkhorn")
    with pytest.raises(ValueError, match="chunk"):
        nearest_global(x, x, chunk=0)
    with pytest.raises(ValueError, match="tokens"):
        nearest_window(x, x, 3, 2)


needs_scipy = pytest.mark.skipif(
    importlib.util.find_spec("scipy") is None, reason="one-to-one OT needs SciPy (the paper extra)"
)


def _best_permutation_cost(cost: Tensor) -> float:
    """min over all permutations σ of Σᵢ C(i, σ(i)), by enumeration (n ≤ 7)."""
    n = cost.shape[0]
    rows = torch.arange(n)
    return min(float(cost[rows, list(sigma)].sum()) for sigma in itertools.permutations(range(n)))


def _is_permutation(plan: Tensor) -> bool:
    return all(torch.equal(row.sort().values, torch.arange(plan.shape[1])) for row in plan)


@needs_scipy
@pytest.mark.parametrize("tokens", [1, 2, 5, 7])
def test_one_to_one_global_is_the_optimal_permutation(tokens: int) -> None:
    torch.manual_seed(tokens)
    x_p, x_g = torch.randn(3, tokens, 4), torch.randn(3, tokens, 4)
    p_to_g, g_to_p = assign_global(x_p, x_g)
    assert _is_permutation(p_to_g) and _is_permutation(g_to_p)
    assert torch.equal(p_to_g.gather(1, g_to_p), torch.arange(tokens).expand(3, tokens))  # g→p is σ⁻¹
    cost = _brute_cost(x_p, x_g)
    for b in range(3):
        got = float(cost[b, torch.arange(tokens), p_to_g[b]].sum())
        assert got == pytest.approx(_best_permutation_cost(cost[b]), abs=1e-9)


@needs_scipy
@pytest.mark.parametrize(("height", "width", "window"), [(4, 4, 2), (3, 5, 2), (5, 3, 3)])
def test_one_to_one_window_is_optimal_inside_every_window(height: int, width: int, window: int) -> None:
    torch.manual_seed(height * width + window)
    x_p, x_g = torch.randn(2, height * width, 3), torch.randn(2, height * width, 3)
    p_to_g, g_to_p = assign_window(x_p, x_g, height, width, window)
    assert _is_permutation(p_to_g)
    assert torch.equal(p_to_g.gather(1, g_to_p), torch.arange(height * width).expand(2, -1))
    rows, cols = torch.arange(height * width) // width, torch.arange(height * width) % width
    cell = (rows // window) * 100 + cols // window
    assert torch.equal(cell[p_to_g], cell.expand(2, -1))  # every token stays in its window
    cost = _brute_cost(x_p, x_g)
    for b in range(2):
        for c in cell.unique():
            members = (cell == c).nonzero().squeeze(1)
            got = float(cost[b, members, p_to_g[b, members]].sum())
            assert got == pytest.approx(_best_permutation_cost(cost[b][members][:, members]), abs=1e-9)


@needs_scipy
def test_one_to_one_alignment_is_a_reordering_and_every_position_receives_a_token() -> None:
    torch.manual_seed(11)
    x_p, x_g = torch.randn(2, 4 * 6, 5), torch.randn(2, 4 * 6, 5)
    aligned_p, aligned_g = align_tokens(x_p, x_g, 4, 6, mode="window", window=2, assignment="one-to-one")
    for aligned, x in ((aligned_p, x_p), (aligned_g, x_g)):
        assert torch.equal(aligned.sort(dim=1).values, x.sort(dim=1).values)
    one_to_one = transport_plans(x_p, x_g, 4, 6, "window", window=2, assignment="one-to-one")[0]
    argmin = transport_plans(x_p, x_g, 4, 6, "window", window=2)[0]
    share, cost = plan_statistics(x_p, x_g, one_to_one)
    argmin_share, argmin_cost = plan_statistics(x_p, x_g, argmin)
    assert share == 1.0 and argmin_share < 1.0
    assert cost >= argmin_cost  # the argmin is each token's cheapest choice


def test_one_to_one_without_scipy_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)  # makes the import raise ImportError
    x = torch.randn(1, 4, 2)
    with pytest.raises(RuntimeError, match="geofuse\\[paper\\]"):
        align_tokens(x, x, 2, 2, assignment="one-to-one")
    with pytest.raises(ValueError, match="unknown OT assignment"):
        align_tokens(x, x, 2, 2, assignment="sinkhorn")
