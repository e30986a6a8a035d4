"""Hard optimal-transport token alignment between the two modalities (SFB step 1).

Each source token is sent to its nearest target token under the cosine cost
C(i,j) = 1 − ⟨X_pⁱ, X_gʲ⟩ / (‖X_pⁱ‖‖X_gʲ‖), i.e. the one-hot rows of the paper's M_p2g. The aligned tokens
are the barycentric projection of M_p2g: X'_p at position j is the mean of the p-tokens sent to j, and a
position that receives none keeps its own token X_pʲ (the paper's M_p2gᵀ X_p with mass 1/N would shrink
the features by N). Tokens of both modalities live on the same co-registered H×W grid, so "its own token"
is the source token at the same pixel.

Two assignments:

- ``"argmin"`` (many-to-one): every token goes to its nearest token, i.e. the paper's one-hot rows. Several
  tokens may land on one position and many positions receive none (on the bundled model 54–92 % of them,
  by stage and direction), which then keep their own token.
- ``"one-to-one"``: a permutation σ minimising Σᵢ C(i, σ(i)), the exact linear assignment (a square
  Hungarian / Jonker–Volgenant problem, solved by SciPy's ``linear_sum_assignment``), so every position
  receives exactly one token and X'_p is X_p reordered. g→p is σ⁻¹ (the transposed problem has the same
  optimum). The solver runs on the CPU, one problem at a time: for a 64-token window that is a fraction of
  a millisecond; on a GPU the similarity is copied to the host and the plan back. SciPy is an optional
  dependency (the ``paper`` extra); without it one-to-one OT fails with a clear error.

Two matching modes, both returning j*(i) for every p-token and i*(j) for every g-token:

- global: over all N tokens. For argmin the N×N cost is computed in blocks of ``chunk`` rows, so memory is
  O(chunk·N), time O(N²·d); one-to-one forms the whole N×N cost and solves it in O(N³) worst case, so it
  is meant for small stages.
- window: the map is cut into non-overlapping w×w windows (the last row/column of windows is padded when
  w does not divide H or W) and a token is matched only inside its own window. Memory and time are
  O(N·w²·d), linear in N. Non-overlapping windows (rather than a w×w neighbourhood around each token) keep
  the cost one batched matrix product per window and make matching within a window a small global problem.

The plan is computed without gradient; gradients flow through the gathered token values.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

ASSIGNMENTS = ("argmin", "one-to-one")
"""The token assignments: many-to-one nearest token, or an exact permutation."""

_MISMATCH = -4.0
"""Similarity of a real token to a padding slot in one-to-one window matching: below any cosine (≥ −1), so
the exact assignment pairs real tokens with real tokens (a window holds as many of each)."""


def _similarity_block(src_unit: Tensor, tgt_unit: Tensor) -> Tensor:
    """Cosine similarity of one block of unit-norm rows: B×rows×d, B×M×d → B×rows×M (= 1 − C)."""
    return src_unit @ tgt_unit.transpose(-1, -2)


def _nearest_chunked(src_unit: Tensor, tgt_unit: Tensor, chunk: int) -> Tensor:
    """Row argmax of src_unit @ tgt_unitᵀ (= row argmin of C), ``chunk`` rows at a time: B×N."""
    blocks = [
        _similarity_block(src_unit[:, start : start + chunk], tgt_unit).argmax(dim=2)
        for start in range(0, src_unit.shape[1], chunk)
    ]
    return torch.cat(blocks, dim=1)


@torch.no_grad()
def nearest_global(x_p: Tensor, x_g: Tensor, chunk: int = 1024) -> tuple[Tensor, Tensor]:
    """Both hard plans over all tokens, the cost computed ``chunk`` rows at a time.

    Each direction is its own pass over row blocks (p-rows for j*, g-rows for i*): a column argmin across
    blocks of one pass would save the second matrix product but is a strided reduction that costs more.

    Args:
        x_p: tokens X_p, B×N×d.
        x_g: tokens X_g, B×M×d.
        chunk: rows of the cost matrix computed at once (any positive value; need not divide N or M).

    Returns:
        (p_to_g, g_to_p): long tensors B×N with j*(i) = argmin_j C(i,j) in [0, M), and B×M with
        i*(j) = argmin_i C(i,j) in [0, N). Ties go to the lowest index.

    Raises:
        ValueError: if ``chunk`` is not positive.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be positive, got {chunk}")
    p_unit = F.normalize(x_p.detach(), dim=-1)
    g_unit = F.normalize(x_g.detach(), dim=-1)
    return _nearest_chunked(p_unit, g_unit, chunk), _nearest_chunked(g_unit, p_unit, chunk)


def _to_windows(x: Tensor, height: int, width: int, window: int) -> Tensor:
    """B×(H·W)×d → (B·nh·nw)×w²×d, zero-padding H and W up to multiples of w."""
    batch, _, dim = x.shape
    pad_h, pad_w = -height % window, -width % window
    grid = F.pad(x.reshape(batch, height, width, dim), (0, 0, 0, pad_w, 0, pad_h))
    nh, nw = (height + pad_h) // window, (width + pad_w) // window
    grid = grid.reshape(batch, nh, window, nw, window, dim).permute(0, 1, 3, 2, 4, 5)
    return grid.reshape(batch * nh * nw, window * window, dim)


def _from_windows(x: Tensor, batch: int, height: int, width: int, window: int) -> Tensor:
    """Inverse of :func:`_to_windows` for one value per token: (B·nh·nw)×w² → B×(H·W), padding dropped."""
    nh, nw = -(-height // window), -(-width // window)
    grid = x.reshape(batch, nh, nw, window, window).permute(0, 1, 3, 2, 4)
    grid = grid.reshape(batch, nh * window, nw * window)
    return grid[:, :height, :width].reshape(batch, height * width)


@torch.no_grad()
def nearest_window(
    x_p: Tensor, x_g: Tensor, height: int, width: int, window: int = 8
) -> tuple[Tensor, Tensor]:
    """Both hard plans, each token matched only inside its own non-overlapping w×w window.

    Args:
        x_p: tokens X_p, B×N×d, N = H·W in row-major order.
        x_g: tokens X_g on the same grid, B×N×d.
        height: H of the token grid.
        width: W of the token grid.
        window: side w of the square windows.

    Returns:
        (p_to_g, g_to_p): long tensors B×N of flat indices in [0, N) (row-major on the H×W grid), the
        argmin of C within the window. Ties go to the lowest slot (row-major inside the window).

    Raises:
        ValueError: if the token count is not H·W or ``window`` is not positive.
    """
    batch, tokens, _ = x_p.shape
    if tokens != height * width or x_g.shape[1] != tokens:
        raise ValueError(f"expected {height}×{width} = {height * width} tokens, got {tokens}, {x_g.shape[1]}")
    if window < 1:
        raise ValueError(f"window must be positive, got {window}")
    p_win = _to_windows(F.normalize(x_p.detach(), dim=-1), height, width, window)
    g_win = _to_windows(F.normalize(x_g.detach(), dim=-1), height, width, window)
    # Flat grid index of every window slot; -1 marks padding, which must never be chosen as a target
    # (padded source slots are matched too, then dropped).
    flat = torch.arange(1, tokens + 1, device=x_p.device).reshape(1, tokens, 1).expand(batch, tokens, 1)
    slot_index = _to_windows(flat, height, width, window).squeeze(-1) - 1
    padding = (slot_index < 0).unsqueeze(1) if (height % window or width % window) else None

    def nearest_slot(src_win: Tensor, tgt_win: Tensor) -> Tensor:
        similarity = _similarity_block(src_win, tgt_win)
        if padding is not None:
            similarity = similarity.masked_fill(padding, float("-inf"))
        return slot_index.gather(1, similarity.argmax(dim=2))

    p_to_g, g_to_p = nearest_slot(p_win, g_win), nearest_slot(g_win, p_win)
    return (
        _from_windows(p_to_g, batch, height, width, window),
        _from_windows(g_to_p, batch, height, width, window),
    )


def _assignment(similarity: Tensor) -> Tensor:
    """σ(i) of a maximum-similarity permutation for each of the P problems: P×n×n → P×n (long).

    Raises:
        RuntimeError: if SciPy is not installed.
    """
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError as error:
        raise RuntimeError(
            "one-to-one OT needs SciPy's linear_sum_assignment: pip install 'geofuse[paper]' (or scipy)"
        ) from error
    problems = similarity.detach().to("cpu", torch.float64).numpy()
    columns = np.stack([linear_sum_assignment(s, maximize=True)[1] for s in problems])
    return torch.from_numpy(columns.reshape(similarity.shape[:2])).to(similarity.device)


def inverse_plan(plan: Tensor) -> Tensor:
    """σ⁻¹ of a batch of permutations, B×N → B×N."""
    inverse = torch.empty_like(plan)
    return inverse.scatter_(1, plan, torch.arange(plan.shape[1], device=plan.device).expand_as(plan))


@torch.no_grad()
def assign_global(x_p: Tensor, x_g: Tensor) -> tuple[Tensor, Tensor]:
    """One-to-one plans over all tokens: σ minimising Σᵢ C(i, σ(i)), and σ⁻¹.

    Args:
        x_p: tokens X_p, B×N×d.
        x_g: tokens X_g, B×N×d.

    Returns:
        (p_to_g, g_to_p): permutations of [0, N), B×N each; g_to_p = p_to_g⁻¹.

    Raises:
        ValueError: if the two sides have different token counts.
    """
    if x_p.shape[1] != x_g.shape[1]:
        raise ValueError(f"one-to-one OT needs equal token counts, got {x_p.shape[1]} and {x_g.shape[1]}")
    similarity = _similarity_block(F.normalize(x_p.detach(), dim=-1), F.normalize(x_g.detach(), dim=-1))
    p_to_g = _assignment(similarity)
    return p_to_g, inverse_plan(p_to_g)


@torch.no_grad()
def assign_window(
    x_p: Tensor, x_g: Tensor, height: int, width: int, window: int = 8
) -> tuple[Tensor, Tensor]:
    """One-to-one plans inside each non-overlapping w×w window (one assignment problem per window).

    Args and Returns: as :func:`nearest_window`, but each plan is a permutation of the grid that maps every
    window onto itself, and g_to_p = p_to_g⁻¹.

    Raises:
        ValueError: if the token count is not H·W or ``window`` is not positive.
    """
    batch, tokens, _ = x_p.shape
    if tokens != height * width or x_g.shape[1] != tokens:
        raise ValueError(f"expected {height}×{width} = {height * width} tokens, got {tokens}, {x_g.shape[1]}")
    if window < 1:
        raise ValueError(f"window must be positive, got {window}")
    p_win = _to_windows(F.normalize(x_p.detach(), dim=-1), height, width, window)
    g_win = _to_windows(F.normalize(x_g.detach(), dim=-1), height, width, window)
    flat = torch.arange(1, tokens + 1, device=x_p.device).reshape(1, tokens, 1).expand(batch, tokens, 1)
    slot_index = _to_windows(flat, height, width, window).squeeze(-1) - 1
    similarity = _similarity_block(p_win, g_win)
    if height % window or width % window:
        real = slot_index >= 0
        similarity = similarity.masked_fill(real.unsqueeze(2) != real.unsqueeze(1), _MISMATCH)
    p_to_g = _from_windows(slot_index.gather(1, _assignment(similarity)), batch, height, width, window)
    return p_to_g, inverse_plan(p_to_g)


def barycentric_project(x_src: Tensor, target_index: Tensor, x_own: Tensor) -> Tensor:
    """X' = barycentric projection of the hard plan: the mean of the source tokens sent to each position.

    Args:
        x_src: source tokens X_p, B×N×d.
        target_index: j*(i) for every source token, B×N (one of the plans from :func:`nearest_global` or
            :func:`nearest_window`).
        x_own: the tokens kept where nothing arrives (X_p on the target grid), B×M×d.

    Returns:
        X'_p, B×M×d: position j holds mean{X_pⁱ : j*(i) = j}, or x_ownʲ if no token was sent to j.
        Differentiable in ``x_src`` and ``x_own``; ``target_index`` carries no gradient.
    """
    batch, _, dim = x_src.shape
    positions = x_own.shape[1]
    offset = (torch.arange(batch, device=x_src.device) * positions).unsqueeze(1)
    flat_index = (target_index + offset).reshape(-1)
    # scatter_add, not index_add: on CPU, index_add's threaded kernel stalls for 100× longer on the
    # clustered indices that window matching produces.
    sums = x_src.new_zeros(batch * positions, dim).scatter_add(
        0, flat_index.unsqueeze(1).expand(-1, dim), x_src.reshape(-1, dim)
    )
    counts = torch.bincount(flat_index, minlength=batch * positions).reshape(batch, positions, 1)
    means = sums.reshape(batch, positions, dim) / counts.clamp(min=1).to(x_src.dtype)
    return torch.where(counts > 0, means, x_own)


def align_tokens(
    x_p: Tensor,
    x_g: Tensor,
    height: int,
    width: int,
    mode: str = "global",
    chunk: int = 1024,
    window: int = 8,
    assignment: str = "argmin",
) -> tuple[Tensor, Tensor]:
    """Hard OT alignment in both directions: X'_p (p→g) and X'_g (g→p).

    Args:
        x_p: tokens X_p, B×N×d, on the H×W grid.
        x_g: tokens X_g, B×N×d, on the same grid.
        height: H of the grid.
        width: W of the grid.
        mode: ``"global"`` (over all tokens) or ``"window"`` (w×w windows).
        chunk: rows of the cost matrix per block for the global argmin.
        window: window side w in window mode.
        assignment: ``"argmin"`` (nearest token) or ``"one-to-one"`` (exact permutation).

    Returns:
        (X'_p, X'_g), both B×N×d.

    Raises:
        ValueError: for an unknown ``mode`` or ``assignment``.
    """
    p_to_g, g_to_p = transport_plans(x_p, x_g, height, width, mode, chunk, window, assignment)
    return barycentric_project(x_p, p_to_g, x_p), barycentric_project(x_g, g_to_p, x_g)


def transport_plans(
    x_p: Tensor,
    x_g: Tensor,
    height: int,
    width: int,
    mode: str = "global",
    chunk: int = 1024,
    window: int = 8,
    assignment: str = "argmin",
) -> tuple[Tensor, Tensor]:
    """(p_to_g, g_to_p) of :func:`align_tokens`'s settings (arguments as there).

    Raises:
        ValueError: for an unknown ``mode`` or ``assignment``.
    """
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown OT assignment {assignment!r}; expected one of {ASSIGNMENTS}")
    one_to_one = assignment == "one-to-one"
    if mode == "global":
        return assign_global(x_p, x_g) if one_to_one else nearest_global(x_p, x_g, chunk)
    if mode == "window":
        if one_to_one:
            return assign_window(x_p, x_g, height, width, window)
        return nearest_window(x_p, x_g, height, width, window)
    raise ValueError(f"unknown OT mode {mode!r}; expected 'global' or 'window'")


def plan_statistics(x_p: Tensor, x_g: Tensor, p_to_g: Tensor) -> tuple[float, float]:
    """(share of g-positions that receive at least one p-token, mean cosine cost C(i, j*(i))) of a plan.

    One-to-one plans give a share of 1 by construction; their mean cost is at least the argmin's.
    """
    received = torch.zeros(p_to_g.shape[0], x_g.shape[1], dtype=torch.bool, device=p_to_g.device)
    received.scatter_(1, p_to_g, True)
    p_unit, g_unit = F.normalize(x_p.detach(), dim=-1), F.normalize(x_g.detach(), dim=-1)
    matched = g_unit.gather(1, p_to_g.unsqueeze(-1).expand(-1, -1, g_unit.shape[-1]))
    cost = 1 - (p_unit * matched).sum(-1)
    return float(received.float().mean()), float(cost.mean())
