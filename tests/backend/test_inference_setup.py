"""Inference preparation: folded BatchNorm gives the trained network's output; the switch and threads."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from geofuse.backend.inference_setup import SWITCH, THREADS, fold_batch_norms, prepare_for_inference
from geofuse.backend.models import build_model


def trained_like(variant: str) -> nn.Module:
    """A small network whose BatchNorms hold non-trivial running statistics and affine parameters."""
    torch.manual_seed(0)
    network = build_model(variant, width="small")
    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
    return network.eval()


@pytest.mark.parametrize("variant", ["baseline", "a2"])
def test_prepared_network_gives_the_same_output(variant: str) -> None:
    network = trained_like(variant)
    optical, elevation = torch.randn(1, 3, 64, 64), torch.randn(1, 1, 64, 64)
    prepared = prepare_for_inference(network)
    with torch.inference_mode():
        want, got = network(optical, elevation), prepared(optical, elevation)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4 * float(want.abs().max()))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in prepared.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in network.modules()), "the original is left alone"
    assert prepared.cnn.stem[0][0].weight.is_contiguous(memory_format=torch.channels_last)


def test_folding_refuses_training_mode() -> None:
    with pytest.raises(ValueError, match="eval mode"):
        fold_batch_norms(build_model("baseline", width="small").train())


def test_switch_leaves_the_network_as_trained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SWITCH, "0")
    network = trained_like("baseline")
    assert prepare_for_inference(network) is network


def test_threads_follow_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    before = torch.get_num_threads()
    monkeypatch.setenv(THREADS, "1")
    try:
        prepare_for_inference(trained_like("baseline"))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
