"""The selective scan against a plain sequential loop: forward, gradients, last state, dtypes, stability."""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
from collections.abc import Iterator

import pytest
import torch
from scan_reference import make_inputs, reference_scan
from torch import Tensor

from geofuse.backend.models import selective_scan as scan_module
from geofuse.backend.models import selective_scan_fn

GRAD_NAMES = ("u", "delta", "A", "B", "C", "D", "z", "delta_bias")


@pytest.fixture(params=["default", "one-chunk", "1-step-blocks", "3-step-blocks"])
def plan_sizes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test with the default plan (one block at these sizes), with a plain sequential scan (K = 1),
    and with blocks of 1 and 3 steps, so that states are carried from block to block."""
    if request.param == "one-chunk":
        cpu = scan_module._SIZES["cpu"]
        monkeypatch.setitem(scan_module._SIZES, "cpu", dataclasses.replace(cpu, step_elements=1))
    elif request.param.endswith("-step-blocks"):
        default = scan_module._Plan.choose
        block = int(request.param.split("-")[0])
        monkeypatch.setattr(
            scan_module._Plan,
            "choose",
            lambda length, lanes, device_type="cpu": dataclasses.replace(
                default(length, lanes, device_type), block=block
            ),
        )
    yield request.param


def outputs_and_grads(fn: object, inputs: dict[str, Tensor], softplus: bool, seed: int = 1) -> list[Tensor]:
    """[y, h_L, then the gradient of Σ y·w + Σ h_L·v w.r.t. every input] for random fixed w, v."""
    y, last = fn(**inputs, delta_softplus=softplus, return_last_state=True)
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(y.shape, generator=g, dtype=torch.float64).to(y)
    v = torch.randn(last.shape, generator=g, dtype=torch.float64).to(last)
    loss = (y * w).sum() + (last * v).sum()
    names = [n for n in GRAD_NAMES if n in inputs]
    return [y, last, *torch.autograd.grad(loss, [inputs[n] for n in names])]


def assert_all_close(got: list[Tensor], want: list[Tensor], rtol: float) -> None:
    """Relative agreement, with an absolute floor of rtol·max|want| for entries near zero."""
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        assert a.shape == b.shape, i
        b = b.to(a.dtype)
        torch.testing.assert_close(
            a, b, rtol=rtol, atol=rtol * float(b.detach().abs().max()) + 1e-12, msg=f"output {i}"
        )


CASES = [
    # batch, dim, state, length, groups, options, softplus
    (2, 4, 3, 1, None, "Dzb", True),
    (2, 4, 3, 2, 2, "", False),
    (1, 6, 2, 3, 3, "D", True),
    (2, 4, 3, 7, None, "z", False),
    (1, 4, 2, 64, 2, "Dzb", True),
    (2, 6, 4, 64, None, "b", False),
    (1, 4, 2, 1000, None, "Dzb", True),
    (1, 2, 2, 1000, 2, "", False),
]


@pytest.mark.parametrize(("batch", "dim", "state", "length", "groups", "options", "softplus"), CASES)
def test_matches_reference_float64(
    plan_sizes: str,
    batch: int,
    dim: int,
    state: int,
    length: int,
    groups: int | None,
    options: str,
    softplus: bool,
) -> None:
    inputs = make_inputs(batch, dim, state, length, groups=groups, options=options, softplus=softplus)
    got = outputs_and_grads(selective_scan_fn, inputs, softplus)
    want = outputs_and_grads(reference_scan, inputs, softplus)
    assert_all_close(got, want, rtol=1e-5)


@pytest.mark.parametrize(("length", "groups"), [(7, None), (1000, 2), (16384, None)])
def test_matches_reference_float32(length: int, groups: int | None) -> None:
    small = length > 1000
    inputs = make_inputs(1, 2 if small else 4, 2 if small else 3, length, groups=groups, dtype=torch.float32)
    got = outputs_and_grads(selective_scan_fn, inputs, softplus=True)
    inputs64 = {n: t.detach().double().requires_grad_() for n, t in inputs.items()}
    want = outputs_and_grads(reference_scan, inputs64, softplus=True)
    assert got[0].dtype == torch.float32 and got[1].dtype == torch.float32
    assert_all_close(got, want, rtol=1e-4)


def test_matches_reference_at_16384_steps() -> None:
    inputs = make_inputs(1, 2, 2, 16384, options="Dzb")
    assert_all_close(
        outputs_and_grads(selective_scan_fn, inputs, True),
        outputs_and_grads(reference_scan, inputs, True),
        1e-5,
    )


@pytest.mark.parametrize(("length", "groups", "options"), [(1, None, "Dzb"), (5, 2, "Dzb"), (9, None, "")])
def test_gradcheck(plan_sizes: str, length: int, groups: int | None, options: str) -> None:
    inputs = make_inputs(1, 4, 2, length, groups=groups, options=options, seed=3)
    names = list(inputs)

    def scan(*tensors: Tensor) -> tuple[Tensor, Tensor]:
        return selective_scan_fn(
            **dict(zip(names, tensors, strict=True)), delta_softplus=True, return_last_state=True
        )

    assert torch.autograd.gradcheck(scan, tuple(inputs.values()))


def test_without_last_state_returns_y_only() -> None:
    inputs = make_inputs(2, 4, 3, 10)
    y = selective_scan_fn(**inputs)
    assert isinstance(y, Tensor)
    torch.testing.assert_close(y, reference_scan(**inputs))


@pytest.mark.parametrize(("batch", "length"), [(1, 0), (0, 5)])
def test_empty_sequence_or_batch(batch: int, length: int) -> None:
    inputs = make_inputs(batch, 4, 2, length)
    y, last = selective_scan_fn(**inputs, delta_softplus=True, return_last_state=True)
    assert y.shape == (batch, 4, length) and last.shape == (batch, 4, 2)
    assert not bool(last.any())
    (y.sum() + last.sum()).backward()
    assert inputs["u"].grad is not None and inputs["u"].grad.shape == (batch, 4, length)


def test_bfloat16_runs_and_is_close_to_float32() -> None:
    inputs = make_inputs(2, 8, 4, 300, groups=2, dtype=torch.float32)
    y32, last32 = selective_scan_fn(**inputs, delta_softplus=True, return_last_state=True)
    bf16 = {n: t.detach().bfloat16().requires_grad_() for n, t in inputs.items()}
    y16, last16 = selective_scan_fn(**bf16, delta_softplus=True, return_last_state=True)
    assert y16.dtype == torch.bfloat16 and last16.dtype == torch.float32
    scale = float(y32.detach().abs().max())
    torch.testing.assert_close(y16.float(), y32, rtol=2e-2, atol=2e-2 * scale)
    torch.testing.assert_close(last16, last32, rtol=2e-2, atol=2e-2 * float(last32.detach().abs().max()))
    y16.float().sum().backward()
    assert all(t.grad is not None and t.grad.dtype == torch.bfloat16 for t in bf16.values())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_very_negative_decay_is_stable(dtype: torch.dtype) -> None:
    """softplus Δ ≈ 10 and A = −16 give Δ·A ≈ −160 per step: outputs and gradients stay finite and right."""
    inputs = make_inputs(2, 4, 3, 257, groups=2, dtype=dtype, options="Dzb")
    with torch.no_grad():
        inputs["delta"].uniform_(8.0, 10.0)
        inputs["A"].fill_(-16.0)
        inputs["A"][:, 0] = -0.01  # one slowly decaying state keeps the recurrence non-trivial
    got = outputs_and_grads(selective_scan_fn, inputs, softplus=True)
    assert all(bool(torch.isfinite(t).all()) for t in got)
    inputs64 = {n: t.detach().double().requires_grad_() for n, t in inputs.items()}
    assert_all_close(got, outputs_and_grads(reference_scan, inputs64, softplus=True), 1e-4)


def test_cpu_never_touches_mamba_ssm(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> None:
        raise AssertionError("the CUDA kernel was looked up for CPU tensors")

    monkeypatch.setattr(scan_module, "_mamba_ssm_kernel", fail)
    inputs = make_inputs(1, 2, 2, 5)
    torch.testing.assert_close(selective_scan_fn(**inputs), reference_scan(**inputs))


def test_missing_mamba_ssm_means_no_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mamba_ssm", None)  # makes `import mamba_ssm…` raise ImportError
    scan_module._mamba_ssm_kernel.cache_clear()
    try:
        assert scan_module._mamba_ssm_kernel() is None
    finally:
        scan_module._mamba_ssm_kernel.cache_clear()


def test_kernel_failing_at_its_first_call_falls_back_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls = []

    def broken_kernel(*args: object) -> Tensor:
        calls.append(args)
        raise RuntimeError("no kernel image is available for execution on the device")

    guard = scan_module._GuardedKernel(broken_kernel)
    monkeypatch.setattr(scan_module, "_mamba_ssm_kernel", lambda: guard)
    monkeypatch.setattr(scan_module, "_use_kernel", lambda u: True)  # as if u were on a CUDA device
    inputs = make_inputs(1, 2, 2, 5)
    with caplog.at_level("WARNING", logger=scan_module.__name__):
        first = selective_scan_fn(**inputs)
        second = selective_scan_fn(**inputs)
    torch.testing.assert_close(first, reference_scan(**inputs))
    torch.testing.assert_close(second, first)
    assert len(calls) == 1  # the broken kernel is not tried again
    warnings = [r for r in caplog.records if "PyTorch scan instead" in r.getMessage()]
    assert len(warnings) == 1 and "RuntimeError" in warnings[0].getMessage()


def test_kernel_errors_after_a_good_first_call_propagate() -> None:
    results = iter([torch.zeros(1)])

    def flaky_kernel(*args: object) -> Tensor:
        return next(results)  # StopIteration on the second call

    guard = scan_module._GuardedKernel(flaky_kernel)
    assert guard() is not None
    with pytest.raises(StopIteration):
        guard()


@pytest.mark.parametrize(
    ("fixed_b", "fixed_c", "groups"), [(True, False, None), (False, True, 2), (True, True, None)]
)
def test_fixed_b_or_c_as_in_mamba(fixed_b: bool, fixed_c: bool, groups: int | None) -> None:
    inputs = make_inputs(2, 4, 3, 9, groups=groups)
    g = torch.Generator().manual_seed(5)
    for name, fixed in (("B", fixed_b), ("C", fixed_c)):
        if fixed:
            inputs[name] = torch.randn(4, 3, generator=g, dtype=torch.float64).requires_grad_()
    got = outputs_and_grads(selective_scan_fn, inputs, softplus=True)
    assert_all_close(got, outputs_and_grads(reference_scan, inputs, softplus=True), 1e-9)


def test_rejects_complex_a() -> None:
    inputs = {n: t.detach() for n, t in make_inputs(1, 4, 2, 5).items()}
    with pytest.raises(ValueError, match="complex"):
        selective_scan_fn(**{**inputs, "A": torch.complex(inputs["A"], torch.ones_like(inputs["A"]))})


def test_import_does_not_pull_in_mamba_ssm_or_triton() -> None:
    code = "import sys, geofuse.backend.models; print(sorted({'mamba_ssm', 'triton'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"A": torch.zeros(3, 2)}, "A must be"),
        ({"B": torch.zeros(1, 3, 2, 5)}, "B must be"),
        ({"C": torch.zeros(1, 2, 4)}, "C must be"),
        ({"D": torch.zeros(3)}, "D must have"),
        ({"z": torch.zeros(1, 4, 4)}, "z must be"),
        ({"delta": torch.zeros(1, 4, 4)}, "u and delta"),
    ],
)
def test_rejects_mismatched_shapes(change: dict[str, Tensor], message: str) -> None:
    inputs = {n: t.detach().float() for n, t in make_inputs(1, 4, 2, 5, options="Dz").items()}
    with pytest.raises(ValueError, match=message):
        selective_scan_fn(**{**inputs, **change})


@pytest.mark.skipif(
    not torch.cuda.is_available() or importlib.util.find_spec("mamba_ssm") is None,
    reason="the mamba-ssm CUDA path needs a CUDA device and the mamba-ssm package",
)
@pytest.mark.parametrize("groups", [None, 2])
def test_cuda_mamba_ssm_path_matches_torch_path(groups: int | None) -> None:
    inputs = {
        n: t.detach().float().cuda().requires_grad_()
        for n, t in make_inputs(2, 8, 4, 300, groups=groups, dtype=torch.float32).items()
    }
    assert scan_module._mamba_ssm_kernel() is not None
    got = outputs_and_grads(selective_scan_fn, inputs, softplus=True)
    want = outputs_and_grads(
        lambda **kw: scan_module._torch_selective_scan(**{"D": None, "z": None, "delta_bias": None, **kw}),
        inputs,
        softplus=True,
    )
    assert_all_close(got, want, rtol=1e-3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_torch_path_on_cuda_matches_reference() -> None:
    inputs = make_inputs(2, 8, 4, 300, groups=2, dtype=torch.float32)
    want = outputs_and_grads(reference_scan, inputs, softplus=True)
    on_gpu = {n: t.detach().cuda().requires_grad_() for n, t in inputs.items()}
    got = outputs_and_grads(
        lambda **kw: scan_module._torch_selective_scan(**{"D": None, "z": None, "delta_bias": None, **kw}),
        on_gpu,
        softplus=True,
    )
    assert_all_close([t.cpu() for t in got], want, rtol=1e-4)


def orders_inputs(batch: int, length: int, channels: int, groups: int, state: int) -> dict[str, Tensor]:
    """Random inputs of ``selective_scan_orders`` in float64, G random visiting orders."""
    g = torch.Generator().manual_seed(4)

    def rand(*shape: int, scale: float = 1.0, shift: float = 0.0) -> Tensor:
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale + shift).requires_grad_()

    return {
        "u": rand(batch, length, channels),
        "delta": rand(batch, length, groups, channels, scale=0.5, shift=-1.0),
        "A": (-torch.exp(torch.randn(groups * channels, state, generator=g, dtype=torch.float64) * 0.5))
        .detach()
        .requires_grad_(),
        "B": rand(batch, length, groups, state),
        "C": rand(batch, length, groups, state),
        "D": rand(groups * channels),
        "delta_bias": rand(groups * channels, scale=0.5),
        "orders": torch.stack([torch.randperm(length, generator=g) for _ in range(groups)]),
    }


def orders_by_reference(inputs: dict[str, Tensor]) -> Tensor:
    """G separate sequential scans, order g on its own reordered copy, put back and summed."""
    u, orders = inputs["u"], inputs["orders"]
    channels = u.shape[-1]
    merged = torch.zeros_like(u)
    for g, order in enumerate(orders):
        part = slice(g * channels, (g + 1) * channels)
        y = reference_scan(
            u[:, order].transpose(1, 2),
            inputs["delta"][:, order, g].transpose(1, 2),
            inputs["A"][part],
            inputs["B"][:, order, g].transpose(1, 2),
            inputs["C"][:, order, g].transpose(1, 2),
            D=inputs["D"][part],
            delta_bias=inputs["delta_bias"][part],
            delta_softplus=True,
        )
        merged = merged.index_add(1, order, y.transpose(1, 2))
    return merged


@pytest.mark.parametrize("path", ["_orders_in_steps", "_orders_as_sequences"])
@pytest.mark.parametrize(
    ("batch", "length", "channels", "groups"), [(2, 1, 3, 4), (2, 37, 5, 4), (1, 300, 2, 3)]
)
def test_orders_match_separate_scans(
    plan_sizes: str, path: str, batch: int, length: int, channels: int, groups: int
) -> None:
    """Both ways of scanning G orders at once (gathers into the step layout; built sequences for
    mamba-ssm) give G separate reference scans' outputs and gradients."""
    inputs = orders_inputs(batch, length, channels, groups, state=3)
    leaves = [t for name, t in inputs.items() if name != "orders"]
    weight = torch.randn(batch, length, channels, dtype=torch.float64)

    def run(fn: object) -> list[Tensor]:
        y = fn(inputs)
        return [y, *torch.autograd.grad((y * weight).sum(), leaves, allow_unused=True)]

    fast = getattr(scan_module, path)
    got = run(lambda i: fast(**{**i, "delta_softplus": True}))
    want = run(orders_by_reference)
    assert_all_close([t for t in got if t is not None], [t for t in want if t is not None], rtol=1e-10)


def test_orders_refuse_mismatched_shapes() -> None:
    inputs = orders_inputs(1, 8, 2, 4, state=2)
    inputs["orders"] = inputs["orders"][:3]
    with pytest.raises(ValueError, match="do not fit together"):
        scan_module.selective_scan_orders(**inputs)


@pytest.mark.parametrize(("dim", "state"), [(40, 3), (40, 6), (256, 4)])
def test_every_read_out_matches_reference(dim: int, state: int) -> None:
    """y_t = C_t·h_t is read out by N multiply-adds, by one multiply and a sum, or by matmul (N·Dg ≥ 1024)."""
    inputs = make_inputs(1, dim, state, 50, options="Dzb")
    want = outputs_and_grads(reference_scan, inputs, True)
    assert_all_close(outputs_and_grads(selective_scan_fn, inputs, True), want, 1e-5)


@pytest.mark.parametrize("route", ["steps", "sequences"])
@pytest.mark.parametrize(("batch", "length", "channels"), [(2, 1, 3), (2, 37, 5), (1, 300, 2)])
def test_each_order_matches_separate_scans(
    plan_sizes: str, monkeypatch: pytest.MonkeyPatch, route: str, batch: int, length: int, channels: int
) -> None:
    """`selective_scan_each_order` gives, for each order g, the reference scan of set g in order g (gate
    included), put back in token order: outputs and gradients, with inputs that are strided views (the
    "sequences" route is the one taken with mamba-ssm; here its scan falls back to PyTorch)."""
    if route == "sequences":
        monkeypatch.setattr(scan_module, "_use_kernel", lambda u: True)
        monkeypatch.setattr(scan_module, "_mamba_ssm_kernel", lambda: lambda *args: None)
    groups, state = 2, 3
    inputs = orders_inputs(batch, length, channels, groups, state)
    g = torch.Generator().manual_seed(5)
    # u and z per order, stored order-major and read through batch×L×G×E views.
    u, z = (
        torch.randn(batch, groups, length, channels, generator=g, dtype=torch.float64).requires_grad_()
        for _ in range(2)
    )
    inputs |= {"u": u.transpose(1, 2), "z": z.transpose(1, 2)}
    inputs["orders"] = torch.stack([torch.arange(length), torch.arange(length).flip(0)])
    leaves = [u, z, *(t for name, t in inputs.items() if name not in ("u", "z", "orders"))]
    weight = torch.randn(batch, length, groups, channels, generator=g, dtype=torch.float64)

    def by_reference() -> Tensor:
        outputs = []
        for k, order in enumerate(inputs["orders"]):
            part = slice(k * channels, (k + 1) * channels)
            y = reference_scan(
                *(inputs[name][:, order, k].transpose(1, 2) for name in ("u", "delta")),
                inputs["A"][part],
                *(inputs[name][:, order, k].transpose(1, 2) for name in ("B", "C")),
                D=inputs["D"][part],
                z=inputs["z"][:, order, k].transpose(1, 2),
                delta_bias=inputs["delta_bias"][part],
                delta_softplus=True,
            )
            outputs.append(torch.zeros_like(y).index_copy(2, order, y).transpose(1, 2))
        return torch.stack(outputs, 2)

    results = []
    for y in (scan_module.selective_scan_each_order(**inputs, delta_softplus=True), by_reference()):
        results.append([y, *torch.autograd.grad((y * weight).sum(), leaves)])
    assert_all_close(*results, rtol=1e-10)


def test_each_order_refuses_mismatched_shapes() -> None:
    inputs = orders_inputs(1, 8, 2, 2, state=2)
    inputs["u"] = inputs["delta"]
    inputs["z"] = inputs["delta"][:, :4]
    with pytest.raises(ValueError, match="do not fit together"):
        scan_module.selective_scan_each_order(**inputs)


def test_plan_takes_its_sizes_from_the_device_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """`_Plan.choose` sizes steps and blocks from `_SIZES[device type]`; other accelerators take CUDA's."""
    monkeypatch.setitem(
        scan_module._SIZES, "cpu", scan_module.ScanSizes(step_elements=8 * 1024, block_elements=3 * 8 * 1024)
    )
    assert scan_module._Plan.choose(4096, 1024, "cpu") == scan_module._Plan(chunks=8, steps=512, block=3)
    monkeypatch.setitem(
        scan_module._SIZES, "cuda", scan_module.ScanSizes(step_elements=1024, block_elements=5 * 1024)
    )
    assert scan_module._Plan.choose(4096, 1024, "cuda") == scan_module._Plan(chunks=1, steps=4096, block=5)
    assert scan_module._Plan.choose(4096, 1024, "mps") == scan_module._Plan.choose(4096, 1024, "cuda")
