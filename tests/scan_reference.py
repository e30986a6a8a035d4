"""The selective scan as a plain sequential loop, and random Mamba-like inputs for it.

Shared by the scan's example tests (``tests/backend/models/test_selective_scan.py``) and its property
tests (``tests/backend/test_properties.py``), so neither test module imports the other.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def reference_scan(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None = None,
    z: Tensor | None = None,
    delta_bias: Tensor | None = None,
    delta_softplus: bool = False,
    return_last_state: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """h_t = exp(Δ_t A) h_{t-1} + Δ_t B_t u_t, y_t = C_t·h_t + D u_t, times silu(z_t), one step at a time."""
    dt = delta if delta_bias is None else delta + delta_bias[:, None]
    if delta_softplus:
        dt = F.softplus(dt)
    batch, dim, length = u.shape

    def per_channel(m: Tensor) -> Tensor:  # batch D N L, from D×N, batch×N×L or batch×G×N×L
        if m.dim() == 2:
            return m[None, :, :, None].expand(batch, dim, m.shape[1], length)
        m = m.unsqueeze(1) if m.dim() == 3 else m
        return m.repeat_interleave(dim // m.shape[1], 1)

    B_d, C_d = per_channel(B), per_channel(C)
    h = u.new_zeros(batch, dim, A.shape[1])
    ys = []
    for dt_t, u_t, B_t, C_t in zip(dt.unbind(-1), u.unbind(-1), B_d.unbind(-1), C_d.unbind(-1), strict=True):
        h = torch.exp(dt_t[..., None] * A) * h + (dt_t * u_t)[..., None] * B_t
        ys.append((h * C_t).sum(-1))
    y = torch.stack(ys, -1)
    if D is not None:
        y = y + u * D[:, None]
    if z is not None:
        y = y * F.silu(z)
    return (y, h) if return_last_state else y


def make_inputs(
    batch: int,
    dim: int,
    state: int,
    length: int,
    *,
    groups: int | None = None,
    dtype: torch.dtype = torch.float64,
    options: str = "Dzb",
    softplus: bool = True,
    seed: int = 0,
) -> dict[str, Tensor]:
    """Random scan inputs with Mamba-like ranges; ``options`` picks D, z and delta_bias by letter.

    Without softplus, delta is Δ itself and is drawn positive, as Δ must be for a decaying state.
    """
    g = torch.Generator().manual_seed(seed)

    def rand(*shape: int, scale: float = 1.0, shift: float = 0.0) -> Tensor:
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale + shift).to(dtype)

    bc_shape = (batch, state, length) if groups is None else (batch, groups, state, length)
    inputs = {
        "u": rand(batch, dim, length),
        "delta": rand(batch, dim, length, scale=0.5, shift=-1.0)
        if softplus
        else rand(batch, dim, length).abs(),
        "A": -torch.exp(rand(dim, state, scale=0.5)),
        "B": rand(*bc_shape),
        "C": rand(*bc_shape),
    }
    if "D" in options:
        inputs["D"] = rand(dim)
    if "z" in options:
        inputs["z"] = rand(batch, dim, length)
    if "b" in options:
        inputs["delta_bias"] = rand(dim, scale=0.5)
    return {name: t.requires_grad_() for name, t in inputs.items()}
