"""The network and its five variants: one test class that every variant passes (smp-style)."""

from __future__ import annotations

import io
import json

import pytest
import torch
import torch.nn.functional as F

from geofuse.backend.models import GeoFuseNet, ModelConfig, build_model
from geofuse.backend.models.network import VARIANTS, WIDTHS

NUM_CLASSES = 5


def inputs(
    height: int = 64, width: int = 64, batch: int = 1, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    optical = torch.randn(batch, 3, height, width, generator=generator)
    elevation = torch.randn(batch, 1, height, width, generator=generator)
    return optical, elevation


@pytest.fixture(params=list(VARIANTS))
def model(request: pytest.FixtureRequest) -> GeoFuseNet:
    torch.manual_seed(0)
    return build_model(request.param, num_classes=NUM_CLASSES)


class TestVariant:
    """Forward (eval and train), backward, any input size, save/load, config round trip."""

    def test_eval_forward_returns_logits(self, model: GeoFuseNet) -> None:
        with torch.no_grad():
            logits = model.eval()(*inputs())
        assert logits.shape == (1, NUM_CLASSES, 64, 64)
        assert torch.isfinite(logits).all()

    def test_train_forward_and_backward(self, model: GeoFuseNet) -> None:
        logits, align_loss = model.train()(*inputs())
        assert logits.shape == (1, NUM_CLASSES, 64, 64)
        assert align_loss.dim() == 0 and torch.isfinite(align_loss)
        if VARIANTS[model.config.variant].use_mmd:
            assert align_loss > 0
        else:
            assert align_loss == 0
        target = torch.randint(0, NUM_CLASSES, (1, 64, 64), generator=torch.Generator().manual_seed(1))
        (F.cross_entropy(logits, target) + 0.1 * align_loss).backward()
        missing = [name for name, p in model.named_parameters() if p.grad is None]
        assert missing == []
        assert all(torch.isfinite(p.grad).all() for p in model.parameters())
        # The frequency weights' last conv starts at zero (the upsampler starts as bilinear), so on the
        # first step only the layer behind it gets a zero gradient; every other parameter moves.
        zero = [name for name, p in model.named_parameters() if not p.grad.abs().sum() > 0]
        assert all(".weight_head.0." in name for name in zero)

    def test_any_input_size(self, model: GeoFuseNet) -> None:
        """70×90 is padded to 96×96 inside and the logits cropped back."""
        with torch.no_grad():
            logits = model.eval()(*inputs(70, 90))
        assert logits.shape == (1, NUM_CLASSES, 70, 90)
        assert torch.isfinite(logits).all()

    def test_state_dict_round_trip(self, model: GeoFuseNet) -> None:
        buffer = io.BytesIO()
        torch.save(model.state_dict(), buffer)
        buffer.seek(0)
        torch.manual_seed(1)
        clone = build_model(**model.config.to_dict())
        clone.load_state_dict(torch.load(buffer, weights_only=True))
        x = inputs()
        with torch.no_grad():
            torch.testing.assert_close(clone.eval()(*x), model.eval()(*x), rtol=0, atol=0)

    def test_config_round_trip(self, model: GeoFuseNet) -> None:
        data = json.loads(json.dumps(model.config.to_dict()))
        assert ModelConfig.from_dict(data) == model.config
        rebuilt = build_model(**data)
        shapes = {k: v.shape for k, v in model.state_dict().items()}
        assert {k: v.shape for k, v in rebuilt.state_dict().items()} == shapes


def test_variants_differ_only_in_fusion() -> None:
    models = {name: build_model(name) for name in VARIANTS}
    for part in ("cnn", "vss", "decoder"):
        counts = {sum(p.numel() for p in getattr(m, part).parameters()) for m in models.values()}
        assert len(counts) == 1, part
    fusion = {name: sum(p.numel() for p in m.fusions.parameters()) for name, m in models.items()}
    assert fusion["a0"] == fusion["a1"] < fusion["a2"] < fusion["a3"]


def test_modalities_can_swap_branches() -> None:
    model = build_model("a0", cnn_input="elevation", vss_input="optical", optical_channels=4).eval()
    assert model.cnn.stem[0][0].in_channels == 1
    assert model.vss.stem[0].in_channels == 4
    with torch.no_grad():
        logits = model(torch.randn(1, 4, 64, 64), torch.randn(1, 1, 64, 64))
    assert logits.shape == (1, 6, 64, 64)


def test_fusion_overrides_reach_the_blocks() -> None:
    model = build_model("a2", fusion={"ot_window": 4, "dim": 16})
    assert all(block.config.ot_window == 4 and block.config.dim == 16 for block in model.fusions)
    assert [block.config.scan_layers for block in model.fusions] == [1, 1, 1, 1]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"variant": "a9"}, "unknown variant"),
        ({"width": "huge"}, "unknown width"),
        ({"cnn_input": "elevation"}, "in some order"),
        ({"num_classes": 0}, "num_classes"),
        ({"fusion": {"ot_windw": 4}}, "unknown fusion settings"),
        ({"fusion": {"scan_layers": 2}}, "set by the variant"),
        ({"dropout": 0.1}, "unknown model config keys"),
    ],
)
def test_invalid_config_is_refused(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_model(**settings)


def test_mismatched_inputs_are_refused() -> None:
    model = build_model("baseline").eval()
    with pytest.raises(ValueError, match="optical must be"):
        model(torch.randn(1, 4, 64, 64), torch.randn(1, 1, 64, 64))
    with pytest.raises(ValueError, match="differ"):
        model(torch.randn(1, 3, 64, 64), torch.randn(1, 1, 64, 32))


def test_widths_share_channels_between_branches() -> None:
    for width in WIDTHS:
        model = build_model("baseline", width=width)
        assert model.cnn.channels == model.vss.channels == WIDTHS[width].channels


def _spy_stage_choices(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int]]:
    """Records (OT mode, assignment, scan grid rows ÷ token grid rows) of every SFB call, by spying on the
    real functions."""
    from geofuse.backend.models import fusion as fusion_module

    calls: list[tuple[str, str, int]] = []
    real_align = fusion_module.align_tokens
    real_pool = fusion_module.F.adaptive_avg_pool2d

    def align(*args: object, **kwargs: object) -> object:
        calls.append((kwargs["mode"], kwargs["assignment"], 1))
        return real_align(*args, **kwargs)

    def pool(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        mode, assignment, _ = calls[-1]
        calls[-1] = (mode, assignment, -(-x.shape[-2] // size[0]))  # the pooling side k
        return real_pool(x, size)

    monkeypatch.setattr(fusion_module, "align_tokens", align)
    monkeypatch.setattr(fusion_module.F, "adaptive_avg_pool2d", pool)
    return calls


def test_per_stage_choices_do_not_depend_on_the_tile(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    model = build_model("a2", fusion={"dim": 8, "d_state": 2}).eval()
    calls = _spy_stage_choices(monkeypatch)
    with torch.no_grad():
        model(*inputs(256, 256))
        at_256 = list(calls)
        calls.clear()
        model(*inputs(512, 512))
    assert (
        at_256
        == calls
        == [
            ("window", "argmin", 8),
            ("window", "argmin", 4),
            ("global", "argmin", 2),
            ("global", "argmin", 1),
        ]
    )


def test_reference_size_fixes_the_choices_and_pinning_records_them() -> None:
    at_256 = ModelConfig(reference_size=256)
    assert [s["ot"] for s in at_256.stage_plan()] == ["window/argmin"] + ["global/argmin"] * 3
    assert [s["scan_pool"] for s in at_256.stage_plan()] == [4, 2, 1, 1]
    pinned = at_256.pinned()
    assert pinned.fusion == {"ot_mode": ["window", "global", "global", "global"], "scan_pool": [4, 2, 1, 1]}
    # a pinned config keeps its choices whatever reference size it is later given
    moved = ModelConfig.from_dict({**pinned.to_dict(), "reference_size": 1024})
    assert moved.stage_plan() == at_256.stage_plan()
    assert ModelConfig(variant="baseline").pinned().stage_plan() == [{"fusion": "concat"}] * 4


def test_full_scans_and_per_stage_lists() -> None:
    full = ModelConfig(fusion={"scan_max_tokens": None, "ot_assignment": "one-to-one"})
    assert [s["scan_pool"] for s in full.stage_plan()] == [1, 1, 1, 1]
    assert all(s["ot"].endswith("/one-to-one") for s in full.stage_plan())
    listed = ModelConfig(fusion={"scan_pool": [2, 2, 1, 1], "ot_mode": "window"})
    assert [s["scan_pool"] for s in listed.stage_plan()] == [2, 2, 1, 1]
    assert {s["ot"] for s in listed.stage_plan()} == {"window/argmin"}
    with pytest.raises(ValueError, match="needs 4 values"):
        ModelConfig(fusion={"scan_pool": [2, 1]})
    with pytest.raises(ValueError, match="scan_max_tokens must be"):
        ModelConfig(fusion={"scan_max_tokens": "none"})
    with pytest.raises(ValueError, match="ot_assignment"):
        ModelConfig(fusion={"ot_assignment": "greedy"})
