"""Selective scan (the S6 recurrence of Mamba) with mamba-ssm's exact signature and semantics.

For every batch b and channel d, with state size N:

    Δ = softplus(delta + delta_bias)  (softplus only when asked),
    h_t = exp(Δ_t A) ⊙ h_{t-1} + Δ_t B_t u_t,      y_t = C_t · h_t + D u_t,   out_t = y_t · silu(z_t).

On a CUDA device with mamba-ssm installed the call goes to its fused kernel; if that kernel raises on its
first call (a build that imports but does not run on this set-up), the failure is logged once and every
call runs the PyTorch scan instead. Everywhere else it runs a pure
PyTorch two-level chunked scan: the sequence is cut into K chunks of T steps and the recurrence is stepped
T times *for all K chunks at once*; a K-step pass carries the state from chunk to chunk, and a second
sweep reruns the chunks from their true starting states. Only the recurrence itself is stepped one op at a
time; decays, inputs and read-outs are bulk ops over blocks of S steps small enough to stay in the CPU
cache, so no B×D×N×L tensor is ever materialised. Every factor is a product of exp(Δ A) ≤ 1: there is no
exp(−cumsum) to overflow, however negative Δ·A gets. The backward pass is the hand-derived reverse
recurrence G_t = C_t dy_t + exp(Δ_{t+1} A) G_{t+1}, chunked and blocked the same way (it recomputes the
states and holds one state per block, 1/S of the B×D×N×L states), instead of an autograd graph of L small ops.

Differences from mamba-ssm's interface: A must be real (mamba's complex A is refused with a ValueError, not
silently truncated to its real part); a fixed (D×N) B or C is accepted, as in mamba, but expanded to one
group per channel, which costs B·D·N·L memory; and h_L, when returned, carries a gradient back into the
inputs here, whereas mamba's CUDA function treats it as a constant (its backward ignores dh_L). A loss that
depends only on y gets the same gradients from both.

:func:`selective_scan_orders` scans one token set in several visiting orders (SS2D's four directions) in one
call: its inputs are gathered straight from a token-major buffer into the chunked scan's step layout, so no
reordered copy of a sequence is ever built. :func:`selective_scan_each_order` does the same for G token
sets, set g scanned in order g (the SFB's bidirectional layer: its two directions, each in its own order),
and returns the G outputs separately.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

# The read-out y_t = C_t·h_t is a batch of (1×N)·(N×Dg) products. A batched matmul pays a fixed cost per
# product: measured on CPU it is 2-6× slower than elementwise work when N·Dg < 1024 (N = 4 with Dg = 32,
# 64, 128; N = 8 with Dg = 32) and about 2× faster from N·Dg = 1024 on (N = 4 with Dg = 256, 512; N = 16
# with Dg = 64, 128). Below that, N ≤ 4 is fastest as N multiply-adds, larger N as one multiply and a sum.
_READOUT_MATMUL_MIN_ELEMENTS = 1024

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanSizes:
    """How large the chunked scan's steps and blocks may get on one kind of device (see `_Plan.choose`).

    Attributes:
        step_elements: Elements of one step's state (K chunks × batch × D × N) that the chunk count K aims
            at: more per step means fewer Python-level steps but a longer carry between chunks.
        block_elements: Elements of a block's decays and states (S steps of one step's state), computed in
            bulk: small enough to stay in the cache, large enough to amortise each op's fixed cost.
    """

    step_elements: int
    block_elements: int


# The sizes per device type, chosen with `bench/bench_scan_sizes.py` (16 candidates timed over the scans of
# small and base a2 on a 512² tile, forward and forward + backward). CPU: measured on the 2-core AMD EPYC
# (AVX2) this project is developed on, torch 2.13.0, 1 thread, loaded machine, two runs: no candidate was
# faster than this entry in both passes in both runs (the best of a run was 4-20 % faster, a different one
# each time: within the spread between the runs), so it stays. CUDA (a GPU without mamba-ssm) and any
# other accelerator: NOT measured (no GPU has run this scan); launches cost more there than memory
# traffic, so steps and blocks are 16 times the CPU's. Run the benchmark with ``--device cuda`` on a GPU
# and replace the entry.
_SIZES = {
    "cpu": ScanSizes(step_elements=1 << 17, block_elements=1 << 19),
    "cuda": ScanSizes(step_elements=1 << 21, block_elements=1 << 23),
}


def selective_scan_fn(
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
    """Run the selective scan, on mamba-ssm's CUDA kernel when it can, else in pure PyTorch.

    Args:
        u: Input sequence, B×D×L.
        delta: Step sizes Δ before bias and softplus, B×D×L.
        A: State matrix, D×N (real; negative for a decaying state).
        B: Input projection B_t, B×N×L shared over channels, or B×G×N×L where group g serves channels
            g·D/G … (g+1)·D/G − 1, or a fixed D×N (the same at every step).
        C: Output projection C_t, in any of B's forms (not necessarily the same one).
        D: Skip weight, D.
        z: Gate, B×D×L; the output is multiplied by silu(z).
        delta_bias: Added to delta before the softplus, D.
        delta_softplus: Whether Δ = softplus(delta + delta_bias).
        return_last_state: Whether to also return the final state h_L.

    Returns:
        y (B×D×L, u's dtype), and h_L (B×D×N, float32; float64 for float64 inputs) when
        ``return_last_state``. h_L is differentiable here but not in mamba-ssm (module docstring).

    Raises:
        ValueError: If the shapes do not fit together or A, B or C is complex.
    """
    _check_shapes(u, delta, A, B, C, D, z, delta_bias)
    args = (u, delta, A, B, C, D, z, delta_bias, delta_softplus, return_last_state)
    if _use_kernel(u):
        kernel = _mamba_ssm_kernel()
        if kernel is not None:
            result = kernel(*args)
            if result is not None:
                return result
    return _torch_selective_scan(*args)


def selective_scan_orders(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    orders: Tensor,
    D: Tensor | None = None,
    delta_bias: Tensor | None = None,
    delta_softplus: bool = False,
) -> Tensor:
    """Scan one set of L tokens in G visiting orders, order g with its own parameters; sum the G outputs.

    The same as G calls of :func:`selective_scan_fn`, call g on the tokens taken in ``orders[g]`` with
    channels g·E … (g+1)·E − 1 of A, D and delta_bias, each output put back in token order and summed; but
    nothing is reordered token by token. On CPU (and on CUDA without mamba-ssm) each input is gathered
    once, straight from its token-major buffer into the scan's step layout, and the outputs are gathered
    back and summed in one pass. With mamba-ssm's kernel, the G sequences are built and scanned in one call.

    Args:
        u: Tokens, batch×L×E, channels last (shared by every order).
        delta: Step sizes Δ before bias and softplus, batch×L×G×E (order g's Δ at each token).
        A: State matrix, (G·E)×N, real.
        B: Input projections B_t, batch×L×G×N.
        C: Output projections C_t, batch×L×G×N.
        orders: G×L int64; ``orders[g, l]`` is the token order g visits at step l (a permutation of 0…L−1).
        D: Skip weight, G·E.
        delta_bias: Added to delta before the softplus, G·E.
        delta_softplus: Whether Δ = softplus(delta + delta_bias).

    Returns:
        batch×L×E in u's dtype: Σ_g (y_g + D_g u) at each token.
    """
    batch, length, channels = u.shape
    groups = orders.shape[0]
    if (
        delta.shape != (batch, length, groups, channels)
        or B.shape != (batch, length, groups, A.shape[1])
        or C.shape != B.shape
        or A.shape[0] != groups * channels
        or orders.shape != (groups, length)
    ):
        raise ValueError(
            f"selective_scan_orders: u {tuple(u.shape)}, delta {tuple(delta.shape)}, A {tuple(A.shape)}, "
            f"B {tuple(B.shape)}, C {tuple(C.shape)} and orders {tuple(orders.shape)} do not fit together"
        )
    if _use_kernel(u) and _mamba_ssm_kernel() is not None:
        return _orders_as_sequences(u, delta, A, B, C, orders, D, delta_bias, delta_softplus)
    return _orders_in_steps(u, delta, A, B, C, orders, D, delta_bias, delta_softplus)


def selective_scan_each_order(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    orders: Tensor,
    D: Tensor | None = None,
    z: Tensor | None = None,
    delta_bias: Tensor | None = None,
    delta_softplus: bool = False,
) -> Tensor:
    """Scan G token sets of length L, set g in its own visiting order with its own parameters.

    The same as G calls of :func:`selective_scan_fn`, call g on ``u[:, :, g]`` taken in ``orders[g]``
    with channels g·E … (g+1)·E − 1 of A, D and delta_bias, each output put back in token order; but, as
    in :func:`selective_scan_orders`, nothing is reordered token by token: the inputs are gathered
    straight into the scan's step layout and the outputs gathered back. u, delta, B and C may be strided
    views (a bidirectional layer passes ones whose two halves are shifted against each other): they are
    read in place when their strides are multiples of their rows' width.

    Args:
        u: Tokens of every order, batch×L×G×E.
        delta: Step sizes Δ before bias and softplus, batch×L×G×E.
        A: State matrix, (G·E)×N, real.
        B: Input projections B_t, batch×L×G×N.
        C: Output projections C_t, batch×L×G×N.
        orders: G×L int64; ``orders[g, l]`` is the token order g visits at step l (a permutation of 0…L−1).
        D: Skip weight, G·E.
        z: Gate, batch×L×G×E; the output is multiplied by silu(z).
        delta_bias: Added to delta before the softplus, G·E.
        delta_softplus: Whether Δ = softplus(delta + delta_bias).

    Returns:
        batch×L×G×E in u's dtype: order g's (y_g + D_g u_g) · silu(z_g) at each token.
    """
    batch, length, groups, channels = u.shape
    if (
        delta.shape != u.shape
        or (z is not None and z.shape != u.shape)
        or B.shape != (batch, length, groups, A.shape[1])
        or C.shape != B.shape
        or A.shape[0] != groups * channels
        or orders.shape != (groups, length)
    ):
        raise ValueError(
            f"selective_scan_each_order: u {tuple(u.shape)}, delta {tuple(delta.shape)}, A {tuple(A.shape)}, "
            f"B {tuple(B.shape)}, C {tuple(C.shape)}, z {None if z is None else tuple(z.shape)} and orders "
            f"{tuple(orders.shape)} do not fit together"
        )
    if _use_kernel(u) and _mamba_ssm_kernel() is not None:
        y = _orders_as_sequences(u, delta, A, B, C, orders, D, delta_bias, delta_softplus)
    else:
        y = _orders_in_steps(u, delta, A, B, C, orders, D, delta_bias, delta_softplus)
    return y if z is None else y * F.silu(z.to(y.dtype))


def _orders_as_sequences(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    orders: Tensor,
    D: Tensor | None,
    delta_bias: Tensor | None,
    delta_softplus: bool,
) -> Tensor:
    """`selective_scan_orders` (u batch×L×E: outputs summed) or `selective_scan_each_order` (u batch×L×G×E:
    output per order) through `selective_scan_fn`: the G sequences built, scanned, put back."""
    batch, length = u.shape[:2]
    groups, channels = orders.shape[0], u.shape[-1]
    direction = torch.arange(groups, device=u.device)[:, None]
    sequence = (batch, groups * channels, length)
    u_seq = (u[:, orders, direction] if u.dim() == 4 else u[:, orders]).permute(0, 1, 3, 2).reshape(sequence)
    delta_seq = delta[:, orders, direction].permute(0, 1, 3, 2).reshape(sequence)
    B_seq = B[:, orders, direction].transpose(-1, -2)  # batch G N L
    C_seq = C[:, orders, direction].transpose(-1, -2)
    y = selective_scan_fn(
        u_seq, delta_seq, A, B_seq.contiguous(), C_seq.contiguous(), D, None, delta_bias, delta_softplus
    )
    if u.dim() == 4:  # y of order g at the token it visits at step l: gathered through the inverse map
        y_steps = y.view(batch, groups, channels, length).transpose(-1, -2)
        return y_steps[:, direction, _inverse(orders)].transpose(1, 2)
    y_tokens = y.view(batch, groups, channels, length).transpose(-1, -2).reshape(batch, groups * length, -1)
    return y.new_zeros(batch, length, channels).index_add(1, orders.flatten(), y_tokens)


def _orders_in_steps(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    orders: Tensor,
    D: Tensor | None,
    delta_bias: Tensor | None,
    delta_softplus: bool,
) -> Tensor:
    """`selective_scan_orders` (u batch×L×E, outputs summed per token) or `selective_scan_each_order` (u
    batch×L×G×E, outputs per order) by gathers: token-major buffers → step layout → `_StepScan` → tokens.

    Row r = ((b·L + token)·G + g) of the batch×L×G×E buffers holds token ``token``'s Δ (B, C) for order g;
    step (t, k) of order g is position l = k·T + t of ``orders[g]``, so one index map of T×K×batch×G rows
    gathers Δ, u, B and C into the step layout, and its inverse gathers y back, G rows per token, summed.
    Positions past L (the padding to K·T steps) read token 0 with Δ set to 0, which keeps the state and
    adds nothing, and are never read back. A per-order u is gathered by (batch, token, order) indices, which
    read any strided view as it lies.
    """
    batch, length = u.shape[:2]
    groups, channels, state = orders.shape[0], u.shape[-1], A.shape[1]
    each_order = u.dim() == 4
    if batch * length == 0:
        return u.new_zeros(u.shape)
    compute = _compute_dtype(u, delta, A, B, C)
    dt = delta.to(compute)
    if delta_bias is not None:
        dt = dt + delta_bias.to(compute).view(groups, channels)
    if delta_softplus:
        dt = F.softplus(dt)
    plan = _Plan.choose(length, batch * groups * channels * state, u.device.type)
    steps = (plan.steps, plan.chunks, batch, groups)
    position = torch.arange(plan.chunks * plan.steps, device=u.device).view(plan.chunks, plan.steps).t()
    valid = position < length
    token = orders[:, position.clamp(max=length - 1)].permute(1, 2, 0)  # T K G
    batch_rows = torch.arange(batch, device=u.device)[:, None] * length
    token_rows = (token[:, :, None, :] + batch_rows).flatten()  # T K b G: rows of u (batch·L)
    rows = token_rows * groups + torch.arange(groups, device=u.device).repeat(
        plan.steps * plan.chunks * batch
    )
    if each_order:  # every input read as it lies, through its own strides
        at = (
            token_rows // length,
            token_rows % length,
            torch.arange(groups, device=u.device).repeat(plan.steps * plan.chunks * batch),
        )

        def gather(m: Tensor) -> Tensor:
            table, strides = _row_table(m.to(compute))
            index = at[0] * strides[0] + at[1] * strides[1] + at[2] * strides[2]
            return table.index_select(0, index).view(*steps, m.shape[-1])

    else:

        def gather(m: Tensor) -> Tensor:
            return m.to(compute).reshape(-1, m.shape[-1]).index_select(0, rows).view(*steps, m.shape[-1])

    dt_s = gather(dt).unsqueeze(-2)
    if not bool(valid.all()):
        dt_s = dt_s * valid[:, :, None, None, None, None]
    if each_order:
        u_s = gather(u).unsqueeze(-2)
    else:
        u_s = u.to(compute).reshape(-1, channels).index_select(0, token_rows).view(*steps, 1, channels)
    B_s = gather(B).unsqueeze(-1)
    C_s = gather(C).unsqueeze(-2)
    y_s, _ = _StepScan.apply(dt_s, dt_s * u_s, A.to(compute), B_s, C_s, plan)
    # Inverse map: the step row at which order g visits each token, batch×L×G.
    step_of = _inverse(orders)
    chunk, step = step_of // plan.steps, step_of % plan.steps
    back = (step * plan.chunks + chunk).t()[None] * batch + torch.arange(batch, device=u.device)[
        :, None, None
    ]
    back = back * groups + torch.arange(groups, device=u.device)
    y = y_s.reshape(-1, channels).index_select(0, back.flatten()).view(batch, length, groups, channels)
    if each_order:
        if D is not None:
            y = y.addcmul_(u.to(compute), D.to(compute).view(groups, channels))
        return y.to(u.dtype)
    y = y.sum(2)
    if D is not None:
        y = torch.addcmul(y, u.to(compute), D.to(compute).view(groups, channels).sum(0))
    return y.to(u.dtype)


def _row_table(m: Tensor) -> tuple[Tensor, list[int]]:
    """A batch×L×G×W tensor as a table of W-element rows over its memory, and the row strides of its first
    three dimensions: element (b, l, g, :) is row b·s₀ + l·s₁ + g·s₂. A strided view (such as a shifted
    one) is read in place when its strides allow; otherwise it is copied first."""
    width = m.shape[-1]
    if m.stride(-1) != 1 or any(stride % width for stride in m.stride()[:-1]):
        m = m.contiguous()
    strides = [stride // width for stride in m.stride()[:-1]]
    span = 1 + sum((size - 1) * stride for size, stride in zip(m.shape[:-1], strides, strict=True))
    return m.as_strided((span, width), (width, 1), m.storage_offset()), strides


def _inverse(orders: Tensor) -> Tensor:
    """The inverse permutations of G orders: ``_inverse(orders)[g, orders[g, l]] == l``."""
    groups, length = orders.shape
    step_of = torch.empty_like(orders)
    return step_of.scatter_(1, orders, torch.arange(length, device=orders.device).expand(groups, length))


def _use_kernel(u: Tensor) -> bool:
    """Whether to try mamba-ssm's kernel: only for CUDA tensors."""
    return u.is_cuda


class _GuardedKernel:
    """mamba-ssm's kernel, guarded on its first call.

    A mamba-ssm build can import fine and still fail when first run (a kernel compiled for another torch or
    GPU architecture raises RuntimeError, a missing symbol surfaces only then). Any exception from the first
    call is logged once and turns the kernel off for the process: the call and every later one return None,
    and the caller runs the PyTorch scan. After one successful call, errors propagate as usual.

    Args:
        kernel: mamba-ssm's ``selective_scan_fn`` (or any function with its signature).
    """

    def __init__(self, kernel: Callable[..., Tensor | tuple[Tensor, Tensor]]) -> None:
        self.kernel = kernel
        self.verified = False
        self.failed = False

    def __call__(self, *args: object) -> Tensor | tuple[Tensor, Tensor] | None:
        """The kernel's result, or None once the first call has failed."""
        if self.failed:
            return None
        if self.verified:
            return self.kernel(*args)
        try:
            result = self.kernel(*args)
        except Exception as error:  # any failure of a foreign kernel means: do not use it
            self.failed = True
            _log.warning(
                "mamba-ssm's selective-scan kernel failed on its first call (%s: %s); "
                "using the PyTorch scan instead",
                type(error).__name__,
                str(error).splitlines()[0] if str(error) else "",
            )
            return None
        self.verified = True
        return result


@functools.cache
def _mamba_ssm_kernel() -> _GuardedKernel | None:
    """mamba-ssm's ``selective_scan_fn``, imported on first CUDA use (it pulls in triton), or None."""
    try:
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn as mamba_scan
    except (ImportError, OSError):
        return None
    return _GuardedKernel(mamba_scan)


def _check_shapes(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None,
    z: Tensor | None,
    delta_bias: Tensor | None,
) -> None:
    """Raise ValueError unless the arguments have mamba-ssm's shapes (and are real)."""
    if u.dim() != 3 or delta.shape != u.shape:
        raise ValueError(f"u and delta must both be B×D×L, got {tuple(u.shape)} and {tuple(delta.shape)}")
    for name, m in (("A", A), ("B", B), ("C", C)):
        if m.is_complex():
            raise ValueError(f"{name} is complex; this selective scan supports real A, B and C only")
    batch, dim, length = u.shape
    if A.dim() != 2 or A.shape[0] != dim:
        raise ValueError(f"A must be D×N with D={dim}, got {tuple(A.shape)}")
    state = A.shape[1]
    for name, m in (("B", B), ("C", C)):
        if m.dim() == 2:
            if m.shape != A.shape:
                raise ValueError(f"a fixed {name} must be D×N like A, {tuple(A.shape)}, got {tuple(m.shape)}")
            continue
        grouped_ok = m.dim() == 4 and m.shape[1] > 0 and dim % m.shape[1] == 0
        if not (m.dim() == 3 or grouped_ok) or (m.shape[0], *m.shape[-2:]) != (batch, state, length):
            raise ValueError(
                f"{name} must be D×N, B×N×L or B×G×N×L with G dividing D "
                f"(B={batch}, N={state}, L={length}, D={dim}), got {tuple(m.shape)}"
            )
    if z is not None and z.shape != u.shape:
        raise ValueError(f"z must be B×D×L like u, got {tuple(z.shape)}")
    for name, v in (("D", D), ("delta_bias", delta_bias)):
        if v is not None and v.shape != (dim,):
            raise ValueError(f"{name} must have shape ({dim},), got {tuple(v.shape)}")


def _torch_selective_scan(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None,
    z: Tensor | None,
    delta_bias: Tensor | None,
    delta_softplus: bool,
    return_last_state: bool,
) -> Tensor | tuple[Tensor, Tensor]:
    """Pure PyTorch path: Δ, D, z and the step layout by autograd, the recurrence by `_StepScan`."""
    compute = _compute_dtype(u, delta, A, B, C)
    dt = delta.to(compute)
    if delta_bias is not None:
        dt = dt + delta_bias.to(compute)[:, None]
    if delta_softplus:
        dt = F.softplus(dt)
    u_c = u.to(compute)
    B_g, C_g = _common_groups(B.to(compute), C.to(compute), u.shape)
    batch, dim, length = u.shape
    groups, state = B_g.shape[1], A.shape[1]
    lanes = (batch, groups, 1, dim // groups, length)
    plan = _Plan.choose(length, batch * dim * state, u.device.type)
    dt_s = _to_steps(dt.reshape(lanes), plan)  # T K b G 1 Dg
    dtu_s = dt_s * _to_steps(u_c.reshape(lanes), plan)
    B_s, C_s = _to_steps(B_g, plan).unsqueeze(-1), _to_steps(C_g, plan).unsqueeze(-2)
    y_s, last = _StepScan.apply(dt_s, dtu_s, A.to(compute), B_s, C_s, plan)
    y = _from_steps(y_s.squeeze(-2), length).reshape(batch, dim, length)
    if D is not None:
        y = y + u_c * D.to(compute)[:, None]
    if z is not None:
        y = y * F.silu(z.to(compute))
    y = y.to(u.dtype)
    return (y, last.transpose(-1, -2).reshape(batch, dim, state)) if return_last_state else y


def _compute_dtype(*tensors: Tensor) -> torch.dtype:
    """float64 when any input is float64, else float32 (the scan never runs in half precision)."""
    return torch.float64 if torch.float64 in {t.dtype for t in tensors} else torch.float32


def _per_channel(m: Tensor, shape: torch.Size) -> Tensor:
    """B or C in any accepted form (D×N, B×N×L, B×G×N×L) as batch×D×N×L: one group per channel."""
    batch, dim, length = shape
    if m.dim() == 2:  # fixed: the same D×N at every step
        return m[None, :, :, None].expand(batch, dim, m.shape[1], length)
    m = m if m.dim() == 4 else m.unsqueeze(1)
    return m.repeat_interleave(dim // m.shape[1], dim=1)


def _common_groups(B: Tensor, C: Tensor, shape: torch.Size) -> tuple[Tensor, Tensor]:
    """B and C as batch×G×N×L with one G: as given when their forms agree, else one group per channel."""
    if B.shape == C.shape and B.dim() != 2:
        return (B, C) if B.dim() == 4 else (B.unsqueeze(1), C.unsqueeze(1))
    return _per_channel(B, shape), _per_channel(C, shape)


@dataclass(frozen=True)
class _Plan:
    """How the chunked scan cuts a sequence of L steps for ``lanes`` = batch·D·N parallel recurrences.

    Attributes:
        chunks: K, the chunks stepped together (K·T ≥ L; the tail is padded with Δ = 0, which keeps h).
        steps: T, the steps in a chunk.
        block: S, the steps whose decays, inputs and states are computed in one batch of bulk ops.
    """

    chunks: int
    steps: int
    block: int

    @classmethod
    def choose(cls, length: int, lanes: int, device_type: str = "cpu") -> _Plan:
        """Plan for L = ``length`` on a device of type ``device_type``, with that type's `ScanSizes`.

        A step costs a fixed Python overhead plus K·lanes element updates, and chunking costs a second
        pass over all chunks but the last. So K grows until a step holds about ``step_elements``
        (K = 1, a plain sequential scan, when the lanes alone fill a step), but stays below √(2L) so that
        the K-step carry between chunks does not outweigh the T steps inside them. A block holds about
        ``block_elements``, so its buffers stay in the CPU cache.
        """
        sizes = _sizes(device_type)
        chunks = max(1, min(sizes.step_elements // max(lanes, 1), math.isqrt(2 * length)))
        steps = max(1, -(-length // chunks))
        chunks = max(1, -(-length // steps))
        block = max(1, min(steps, sizes.block_elements // max(chunks * lanes, 1)))
        return cls(chunks, steps, block)

    def blocks(self) -> Iterator[slice]:
        """The step ranges of the blocks, in order."""
        for start in range(0, self.steps, self.block):
            yield slice(start, min(start + self.block, self.steps))


def _sizes(device_type: str) -> ScanSizes:
    """The `ScanSizes` for a device type: its own entry of `_SIZES`, else the (unmeasured) CUDA one."""
    return _SIZES.get(device_type, _SIZES["cuda"])


def _to_steps(x: Tensor, plan: _Plan) -> Tensor:
    """(batch, *mid, L) → (T, K, batch, *mid), zero-padded to K·T, so that one step is one contiguous slice.

    Two copies (a 2-D transpose, then a swap of the two outer dims) are much faster than one general
    permutation.
    """
    lead = x.shape[:-1]
    padded = plan.chunks * plan.steps
    x = F.pad(x, (0, padded - x.shape[-1])).reshape(-1, padded).t().contiguous()
    return x.view(plan.chunks, plan.steps, *lead).transpose(0, 1).contiguous()


def _from_steps(x: Tensor, length: int) -> Tensor:
    """Inverse of `_to_steps`: (T, K, *lead) → (*lead, L)."""
    steps, chunks, *lead = x.shape
    x = x.transpose(0, 1).reshape(chunks * steps, -1).t()
    return x.reshape(*lead, chunks * steps)[..., :length]


def _read_out(C: Tensor, h: Tensor, out: Tensor, work: Tensor) -> None:
    """out = C·h for a block of steps: C …×1×N, h …×N×Dg, out …×1×Dg; ``work`` (h's shape) is scratch."""
    state, channels = h.shape[-2:]
    if state * channels >= _READOUT_MATMUL_MIN_ELEMENTS:
        torch.matmul(C, h, out=out)
        return
    C_col = C.transpose(-1, -2)
    if state > 4:
        torch.sum(torch.mul(C_col, h, out=work), -2, keepdim=True, out=out)
        return
    torch.mul(h[..., :1, :], C_col[..., :1, :], out=out)
    for n in range(1, state):
        out.addcmul_(h[..., n : n + 1, :], C_col[..., n : n + 1, :])


class _StepScan(torch.autograd.Function):
    """h_t = exp(Δ_t A) h_{t-1} + x_t, x_t = (Δ_t u_t) B_t, y_t = C_t·h_t, chunked; returns (y, h_L).

    Everything is in the step layout of `_to_steps`, so that callers can build it however is cheapest
    (a transpose of B×D×L sequences, or a gather from a token-major buffer in `selective_scan_orders`):
    Δ and Δu: T×K×batch×G×1×Dg; A: D×N with D = G·Dg; B: T×K×batch×G×N×1; C: T×K×batch×G×1×N.
    Returns y (T×K×batch×G×1×Dg) and h_L (batch×G×N×Dg, the end of the last chunk). A step's state is
    K×batch×G×N×Dg: channels innermost, so the sums over N that read out y_t run over whole rows. Only
    the recurrence itself is stepped one op at a time; decays, inputs, read-outs and gradients are bulk
    ops over a block of S steps. exp(x) is computed as exp2(x·log2 e), which is faster
    and, unlike exp, has no slow path for arguments far below −87.
    """

    @staticmethod
    def forward(
        ctx: FunctionCtx, dt_s: Tensor, dtu_s: Tensor, A: Tensor, B_s: Tensor, C_s: Tensor, plan: _Plan
    ) -> tuple[Tensor, Tensor]:
        batch, groups, group_dim = dt_s.shape[2], dt_s.shape[3], dt_s.shape[-1]
        state = A.shape[1]
        A_t = A.reshape(groups, group_dim, state).transpose(-1, -2)  # G N Dg
        A2 = (A_t * math.log2(math.e)).contiguous()
        block_shape = (plan.block, plan.chunks, batch, groups, state, group_dim)
        decays = dt_s.new_empty(block_shape)
        states = dt_s.new_empty(block_shape)
        starts = dt_s.new_zeros(block_shape[1:])
        chunk_decay = starts
        if plan.chunks > 1:
            # Pass 1: the end state of every chunk but the last, from a zero start.
            ends = torch.zeros_like(starts[:-1])
            for steps in plan.blocks():
                n = steps.stop - steps.start
                a, x = decays[:n, :-1], states[:n, :-1]
                torch.mul(dt_s[steps, :-1], A2, out=a).exp2_()
                torch.mul(dtu_s[steps, :-1], B_s[steps, :-1], out=x)
                h = ends
                for i in range(n):
                    h = x[i].addcmul_(a[i], h)
                ends.copy_(h)
            # Pass 2: carry the state across chunks; starts[k] is the true state entering chunk k.
            chunk_decay = torch.exp2(dt_s.sum(0) * A2)
            for k in range(1, plan.chunks):
                torch.addcmul(ends[k - 1], chunk_decay[k - 1], starts[k - 1], out=starts[k])
        # Pass 3: rerun every chunk from its true start, reading out y_t = C_t·h_t.
        y_s = dt_s.new_empty(plan.steps, plan.chunks, batch, groups, 1, group_dim)
        h_end = starts.clone()
        for steps in plan.blocks():
            n = steps.stop - steps.start
            a, x = decays[:n], states[:n]
            torch.mul(dt_s[steps], A2, out=a).exp2_()
            torch.mul(dtu_s[steps], B_s[steps], out=x)
            h = h_end
            for i in range(n):
                h = x[i].addcmul_(a[i], h)
            h_end.copy_(h)
            _read_out(C_s[steps], x, y_s[steps], a)
        ctx.save_for_backward(dt_s, dtu_s, A_t, A2, B_s, C_s, starts, chunk_decay)
        ctx.plan = plan
        return y_s, h_end[-1].clone()

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, dy_s: Tensor, d_last: Tensor) -> tuple[Tensor | None, ...]:
        dt_s, dtu_s, A_t, A2, B_s, C_s, starts, chunk_decay = ctx.saved_tensors
        plan: _Plan = ctx.plan
        C_col, B_row = C_s.transpose(-1, -2), B_s.transpose(-1, -2)
        block_shape = (plan.block, *starts.shape)
        decays = dt_s.new_empty(block_shape)
        states = dt_s.new_empty((plan.block + 1, *starts.shape))
        grads = dt_s.new_empty(block_shape)
        work = dt_s.new_empty(block_shape)
        # Sweep 1: the state entering every block, and for each chunk R_k = Σ_t P_t ⊙ C_t dy_t with P_t the
        # product of the chunk's decays up to t: the gradient chunk k sends back to chunk k-1's end state.
        block_starts = [starts]
        decay_product = torch.ones_like(starts)
        sent_back = torch.zeros_like(starts)
        for steps in plan.blocks():
            n = steps.stop - steps.start
            a, x = decays[:n], states[:n]
            torch.mul(dt_s[steps], A2, out=a).exp2_()
            torch.mul(dtu_s[steps], B_s[steps], out=x)
            h = block_starts[-1]
            for i in range(n):
                h = x[i].addcmul_(a[i], h)
            block_starts.append(h.clone())
            if plan.chunks > 1:
                p = torch.cumprod(a, 0, out=grads[:n]).mul_(decay_product)
                decay_product.copy_(p[-1])
                sent_back.add_(torch.mul(C_col[steps], dy_s[steps], out=work[:n]).mul_(p).sum(0))
        # ends[k]: the gradient w.r.t. the state leaving chunk k (d_last after the last chunk).
        ends = torch.empty_like(starts)
        ends[-1] = d_last
        for k in range(plan.chunks - 1, 0, -1):
            torch.addcmul(sent_back[k], chunk_decay[k], ends[k], out=ends[k - 1])
        # Sweep 2, blocks in reverse: recompute the block's states, then step by step
        # G_t = C_t dy_t + exp(Δ_{t+1}A) G_{t+1}, then the block's gradients from G_t, h_{t-1}, h_t in bulk.
        dB_s = torch.empty_like(B_s)
        dC_s = torch.empty_like(B_s)  # written as T K b G N 1, returned transposed like C_s
        gB_s = torch.empty_like(dt_s)
        ddt_s = torch.empty_like(dt_s)
        dA = torch.zeros_like(A2)
        carry = ends
        for steps, h0 in zip(reversed(list(plan.blocks())), reversed(block_starts[:-1]), strict=True):
            n = steps.stop - steps.start
            a, hs, g, w = decays[:n], states[: n + 1], grads[:n], work[:n]
            torch.mul(dt_s[steps], A2, out=a).exp2_()
            torch.mul(dtu_s[steps], B_s[steps], out=hs[1:])
            hs[0] = h0
            for i in range(n):
                hs[i + 1].addcmul_(a[i], hs[i])
            torch.mul(C_col[steps], dy_s[steps], out=g)
            g[n - 1].add_(carry)
            for i in range(n - 2, -1, -1):
                g[i].addcmul_(a[i + 1], g[i + 1])
            torch.mul(g[0], a[0], out=carry)
            torch.sum(torch.mul(hs[1:], dy_s[steps], out=w), -1, keepdim=True, out=dC_s[steps])
            torch.sum(torch.mul(g, dtu_s[steps], out=w), -1, keepdim=True, out=dB_s[steps])
            torch.matmul(B_row[steps], g, out=gB_s[steps])
            weighted = torch.mul(g, a, out=g).mul_(hs[:-1])  # ∂L/∂(Δ_t A) = G_t ⊙ exp(Δ_t A) ⊙ h_{t-1}
            dA.add_(torch.mul(weighted, dt_s[steps], out=w).sum((0, 1, 2)))
            torch.sum(weighted.mul_(A_t), -2, keepdim=True, out=ddt_s[steps])
        dA = dA.transpose(-1, -2).reshape(-1, A_t.shape[1])
        return ddt_s, gB_s, dA, dB_s, dC_s.transpose(-1, -2), None
