"""The GeoFuse network: dual-branch encoder (CNN + VSS), a fusion block per stage, frequency-aware decoder.

At stage i the two branches give F1ⁱ (CNN) and F2ⁱ (VSS) at the same scale; the stage's fusion block
returns F_fuseⁱ, which is the decoder's skip at that scale and is added back into both branches before
stage i + 1. The variants differ only in the fusion block (paper §4.2); encoders and decoder are shared.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from .cnn import CNNEncoder
from .decoder import FrequencyAwareDecoder
from .fusion import ConcatFusion, FusionConfig, SynergisticFusionBlock
from .vss import VSSEncoder

MODALITIES = ("optical", "elevation")
"""The two inputs; ``ModelConfig.cnn_input`` / ``vss_input`` say which branch reads which."""


@dataclass(frozen=True)
class Variant:
    """One of the paper's variants: which fusion block each stage gets.

    Attributes:
        description: What the variant adds, for listings and reports.
        sfb: Synergistic Fusion Block when true, concat + 1×1 conv (the baseline) when false.
        use_ot: Token alignment by hard OT.
        use_mmd: MMD alignment loss in training.
        scan_layers: Bidirectional selective-scan layers in the SFB.
    """

    description: str
    sfb: bool
    use_ot: bool = False
    use_mmd: bool = False
    scan_layers: int = 0


VARIANTS: dict[str, Variant] = {
    "baseline": Variant("concat + 1×1 conv fusion", sfb=False),
    "a0": Variant("SFB with token-level OT only", sfb=True, use_ot=True),
    "a1": Variant("SFB with OT + MMD", sfb=True, use_ot=True, use_mmd=True),
    "a2": Variant("SFB with OT + MMD + one bi-scan layer", True, use_ot=True, use_mmd=True, scan_layers=1),
    "a3": Variant("SFB with OT + MMD + two bi-scan layers", True, use_ot=True, use_mmd=True, scan_layers=2),
}


@dataclass(frozen=True)
class Width:
    """Sizes of one model width; both branches share ``channels`` so their maps can be fused and added.

    Attributes:
        channels: Channels of the four stages (strides 4, 8, 16, 32).
        cnn_depths: Basic blocks per CNN stage.
        vss_depths: VSS blocks per VSS stage.
        fusion_dims: SFB token width d per stage.
        fusion_d_state: State size N of the SFB's bidirectional scans. The scan over the 2·H·W
            interleaved tokens is most of an SFB's cost on CPU and its elementwise work grows with d·N,
            so the small width keeps N = 4, like its VSS branch.
        fusion_scan_max_tokens: The default scan cap: a stage whose token grid at the model's
            ``reference_size`` input has more than this many tokens per stream scans k×k average-pooled
            tokens, k the smallest power of two that brings it under the cap; k is then fixed for that
            stage whatever the tile. The small width (CPU) caps it at 16² = 256: with the default reference
            of 512, stages 1–3 pool 8×8, 4×4, 2×2, so at 512×512 input every stage scans a 16×16 grid per
            stream and each scan costs about as much as stage 4's; on CPU the full-resolution stage-1 scan
            (2·128² tokens) alone cost more than half the baseline network, and a 32² cap still left a2 at
            0.87× the baseline's throughput (0.92× at 16²). The base width (GPU, mamba-ssm's kernel) scans
            at full resolution. No parameters depend on it.
        decoder_channels: Decoder width.
    """

    channels: tuple[int, int, int, int]
    cnn_depths: tuple[int, int, int, int]
    vss_depths: tuple[int, int, int, int]
    fusion_dims: tuple[int, int, int, int]
    fusion_d_state: int
    fusion_scan_max_tokens: int | None
    decoder_channels: int


WIDTHS: dict[str, Width] = {
    "small": Width(
        channels=(32, 64, 128, 256),
        cnn_depths=(1, 1, 2, 1),
        vss_depths=(1, 1, 2, 1),
        fusion_dims=(32, 32, 64, 64),
        fusion_d_state=4,
        fusion_scan_max_tokens=256,
        decoder_channels=64,
    ),
    "base": Width(
        channels=(64, 128, 256, 512),
        cnn_depths=(2, 2, 2, 2),
        vss_depths=(2, 2, 4, 2),
        fusion_dims=(64, 64, 128, 128),
        fusion_d_state=16,
        fusion_scan_max_tokens=None,
        decoder_channels=128,
    ),
}

STAGES = 4
"""Encoder stages, each with its own fusion block (strides 4, 8, 16, 32)."""

STAGE_RULES: dict[str, Any] = {"scan_max_tokens": None, "ot_global_max_tokens": 1024}
"""Fusion settings that are rules, not block settings, with their defaults: evaluated once per stage on the
token grid of a ``reference_size`` input, they fix the stage's ``scan_pool`` and (for ``ot_mode = "auto"``)
its OT mode. ``scan_max_tokens`` defaults to the width's cap instead (``Width.fusion_scan_max_tokens``);
``None`` means full sequences everywhere."""

PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "paper": {"scan_max_tokens": None, "ot_assignment": "one-to-one", "mmd_sigma_per_channel": False},
}
"""Named fusion settings. ``paper``: the paper's method where the default departs from it, i.e. full-sequence
scans at every stage, one-to-one OT (window OT stays at the large stages: an exact assignment over
128² tokens is out of reach), and the MMD kernel's bare σ (README: How GeoFuse differs from the paper)."""

_FUSION_FIELDS = {f.name for f in dataclasses.fields(FusionConfig)} | set(STAGE_RULES)
_VARIANT_FIELDS = {"use_ot", "use_mmd", "scan_layers"}


def stage_grid(reference_size: int, stage: int) -> int:
    """Side of ``stage``'s token grid for a ``reference_size``² input (padded to a multiple of 32)."""
    return -(-reference_size // GeoFuseNet.stride) * GeoFuseNet.stride // (4 * 2**stage)


def scan_pool(side: int, cap: int | None) -> int:
    """Smallest power of two k with ⌈side/k⌉² ≤ ``cap`` (1 when there is no cap)."""
    k = 1
    while cap is not None and math.ceil(side / k) ** 2 > cap:
        k *= 2
    return k


@dataclass
class ModelConfig:
    """Everything needed to rebuild a GeoFuseNet; a plain dict via :meth:`to_dict` (checkpoints store it).

    Attributes:
        variant: Key of :data:`VARIANTS`.
        num_classes: K, the number of land-cover classes.
        optical_channels: C_o (3 for RGB or IRRG).
        elevation_channels: Channels of the elevation raster (1 for a DSM / nDSM).
        width: Key of :data:`WIDTHS`.
        cnn_input: Modality read by the convolutional branch.
        vss_input: Modality read by the state-space branch (the other one).
        vss_d_state: State size N of the SS2D scans.
        vss_ssm_ratio: SS2D inner width ratio.
        vss_mlp_ratio: MLP hidden ratio of the VSS blocks (0: no MLP).
        fusion: Overrides of :class:`FusionConfig` fields (e.g. ``{"ot_window": 4, "mmd_sigma": 2.0}``) and
            of the :data:`STAGE_RULES`; a value applies to every stage, or a list of four gives one per
            stage (``{"scan_pool": [8, 4, 2, 1]}``). ``ot_mode`` may also be ``"auto"`` (window OT on stages
            with more than ``ot_global_max_tokens`` tokens at ``reference_size``). ``use_ot``, ``use_mmd``
            and ``scan_layers`` belong to the variant and are refused here.
        reference_size: The input side at which the per-stage rules are evaluated (default ot_mode "auto",
            ``scan_max_tokens``). What each stage computes is fixed by the config, never by the tile: the
            same model on a 256 and a 1024 tile runs the same OT mode and scan pooling per stage.
            Checkpoints written before this field existed get their training crop size (ModelCard), so
            they run on every tile as they ran in training.
    """

    variant: str = "a2"
    num_classes: int = 6
    optical_channels: int = 3
    elevation_channels: int = 1
    width: str = "small"
    cnn_input: str = "optical"
    vss_input: str = "elevation"
    vss_d_state: int = 4
    vss_ssm_ratio: float = 1.0
    vss_mlp_ratio: float = 2.0
    fusion: dict[str, Any] = field(default_factory=dict)
    reference_size: int = 512

    def __post_init__(self) -> None:
        """Validate eagerly, so a bad checkpoint or CLI option fails with a message, not deep in a layer.

        Raises:
            ValueError: for an unknown variant, width, modality or fusion key, or a non-positive count.
        """
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; expected one of {sorted(VARIANTS)}")
        if self.width not in WIDTHS:
            raise ValueError(f"unknown width {self.width!r}; expected one of {sorted(WIDTHS)}")
        if {self.cnn_input, self.vss_input} != set(MODALITIES):
            raise ValueError(
                f"cnn_input and vss_input must be 'optical' and 'elevation' in some order, "
                f"got {self.cnn_input!r} and {self.vss_input!r}"
            )
        names = ("num_classes", "optical_channels", "elevation_channels", "vss_d_state", "reference_size")
        for name in names:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        unknown = set(self.fusion) - _FUSION_FIELDS
        if unknown:
            raise ValueError(
                f"unknown fusion settings {sorted(unknown)}; expected some of {sorted(_FUSION_FIELDS)}"
            )
        fixed = set(self.fusion) & _VARIANT_FIELDS
        if fixed:
            raise ValueError(f"fusion settings {sorted(fixed)} are set by the variant; pick another variant")
        for key, value in self.fusion.items():
            if isinstance(value, list | tuple) and len(value) != STAGES:
                raise ValueError(f"fusion.{key}: a per-stage list needs {STAGES} values, got {len(value)}")
        self.fusion = {k: list(v) if isinstance(v, tuple) else v for k, v in self.fusion.items()}
        if VARIANTS[self.variant].sfb:
            for stage in range(STAGES):
                SynergisticFusionBlock.check(self.fusion_config(stage))

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON- and ``torch.load(weights_only=True)``-safe dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Rebuild a config from :meth:`to_dict`'s output.

        Raises:
            ValueError: for unknown keys or invalid values.
        """
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown model config keys {sorted(unknown)}")
        return cls(**data)

    def fusion_config(self, stage: int) -> FusionConfig:
        """SFB settings of ``stage`` (0–3): variant switches, the width's d and N, the overrides, then the
        stage rules evaluated on the stage's grid at ``reference_size`` (independent of any tile).

        Raises:
            ValueError: for a setting of the wrong type.
        """
        variant = VARIANTS[self.variant]
        width = WIDTHS[self.width]
        settings: dict[str, Any] = {
            "dim": width.fusion_dims[stage],
            "d_state": width.fusion_d_state,
            "ot_mode": "auto",
            "use_ot": variant.use_ot,
            "use_mmd": variant.use_mmd,
            "scan_layers": variant.scan_layers,
        }
        rules = dict(STAGE_RULES, scan_max_tokens=width.fusion_scan_max_tokens)
        for key, value in self.fusion.items():
            (rules if key in rules else settings)[key] = value[stage] if isinstance(value, list) else value
        side = stage_grid(self.reference_size, stage)
        for name in ("scan_max_tokens", "ot_global_max_tokens"):
            limit = rules[name]
            if not (limit is None or (isinstance(limit, int) and not isinstance(limit, bool) and limit >= 1)):
                raise ValueError(f"fusion.{name} must be a positive integer or none, got {limit!r}")
        if settings["ot_mode"] == "auto":
            limit = rules["ot_global_max_tokens"]
            settings["ot_mode"] = "window" if limit is not None and side * side > limit else "global"
        settings.setdefault("scan_pool", scan_pool(side, rules["scan_max_tokens"]))
        return FusionConfig(**settings)

    def pinned(self) -> ModelConfig:
        """A copy whose fusion settings name each stage's OT mode and scan pooling explicitly (lists of four),
        so a card written from it keeps its per-stage choices even if the width's defaults or the rules
        change later; the rules, now spent, are dropped. Identity for the baseline."""
        if not VARIANTS[self.variant].sfb:
            return dataclasses.replace(self, fusion=dict(self.fusion))
        stages = [self.fusion_config(stage) for stage in range(STAGES)]
        fusion = {k: v for k, v in self.fusion.items() if k not in STAGE_RULES}
        fusion["ot_mode"] = [config.ot_mode for config in stages]
        fusion["scan_pool"] = [config.scan_pool for config in stages]
        return dataclasses.replace(self, fusion=fusion)

    def stage_plan(self) -> list[dict[str, Any]]:
        """Per stage: OT mode, assignment and window, scan pooling k (what the card's config fixes)."""
        if not VARIANTS[self.variant].sfb:
            return [{"fusion": "concat"} for _ in range(STAGES)]
        plan = []
        for stage in range(STAGES):
            config = self.fusion_config(stage)
            plan.append(
                {
                    "ot": f"{config.ot_mode}/{config.ot_assignment}" if config.use_ot else "off",
                    "ot_window": config.ot_window if config.ot_mode == "window" else None,
                    "scan_pool": config.scan_pool if config.scan_layers else None,
                }
            )
        return plan


class GeoFuseNet(nn.Module):
    """Dual-branch segmentation network for an optical + elevation raster pair.

    ``model(optical, elevation)`` returns logits B×K×H×W in eval mode and ``(logits, L_align)`` in train
    mode, where L_align is the sum of the stages' fusion losses (zero for ``baseline`` and ``a0``); the
    training loss is CE + λ·L_align with λ from the training config. Any H, W works: inputs are padded by
    edge replication to the next multiple of 32 (replication, unlike reflection, works for any size and
    invents no mirrored structure) and the logits cropped back.

    Args:
        config: The model's configuration.
    """

    stride = 32

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        width = WIDTHS[config.width]
        in_channels = {"optical": config.optical_channels, "elevation": config.elevation_channels}
        self.cnn = CNNEncoder(in_channels[config.cnn_input], width.channels, width.cnn_depths)
        self.vss = VSSEncoder(
            in_channels[config.vss_input],
            width.channels,
            width.vss_depths,
            d_state=config.vss_d_state,
            ssm_ratio=config.vss_ssm_ratio,
            mlp_ratio=config.vss_mlp_ratio,
        )
        if VARIANTS[config.variant].sfb:
            fusions = [
                SynergisticFusionBlock(channels, config.fusion_config(stage))
                for stage, channels in enumerate(width.channels)
            ]
        else:
            fusions = [ConcatFusion(channels) for channels in width.channels]
        self.fusions = nn.ModuleList(fusions)
        self.decoder = FrequencyAwareDecoder(width.channels, width.decoder_channels, config.num_classes)

    def check_inputs(self, optical: Tensor, elevation: Tensor) -> None:
        """Raise ValueError when the inputs do not match the config or each other."""
        expected = {"optical": self.config.optical_channels, "elevation": self.config.elevation_channels}
        for name, x in (("optical", optical), ("elevation", elevation)):
            if x.dim() != 4 or x.shape[1] != expected[name]:
                raise ValueError(f"{name} must be B×{expected[name]}×H×W, got {tuple(x.shape)}")
        if optical.shape[0] != elevation.shape[0] or optical.shape[-2:] != elevation.shape[-2:]:
            raise ValueError(
                f"optical {tuple(optical.shape)} and elevation {tuple(elevation.shape)} "
                "differ in batch or size"
            )

    def forward(self, optical: Tensor, elevation: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """Segment a batch.

        Args:
            optical: x_o, B×C_o×H×W.
            elevation: x_e, B×C_e×H×W.

        Returns:
            Logits B×K×H×W in eval mode; (logits, L_align) in train mode.

        Raises:
            ValueError: if the inputs' shapes do not fit the config or each other.
        """
        self.check_inputs(optical, elevation)
        height, width = optical.shape[-2:]
        pad_h, pad_w = -height % self.stride, -width % self.stride
        if pad_h or pad_w:
            optical = F.pad(optical, (0, pad_w, 0, pad_h), mode="replicate")
            elevation = F.pad(elevation, (0, pad_w, 0, pad_h), mode="replicate")
        inputs = {"optical": optical, "elevation": elevation}
        f1 = self.cnn.stem(inputs[self.config.cnn_input])
        f2 = self.vss.stem(inputs[self.config.vss_input])
        skips = []
        align_loss = optical.new_zeros(())
        last = len(self.fusions) - 1
        for stage, fusion in enumerate(self.fusions):
            f1 = self.cnn.stages[stage](f1)
            f2 = self.vss.stages[stage](f2)
            fused, loss = fusion(f1, f2)
            skips.append(fused)
            align_loss = align_loss + loss
            if stage < last:
                f1, f2 = f1 + fused, f2 + fused
        logits = self.decoder(skips, (height + pad_h, width + pad_w))[..., :height, :width]
        return (logits, align_loss) if self.training else logits


def build_model(
    variant: str = "a2",
    num_classes: int = 6,
    optical_channels: int = 3,
    width: str = "small",
    **config: Any,
) -> GeoFuseNet:
    """Build a GeoFuseNet by variant name; ``config`` takes any other :class:`ModelConfig` field.

    ``build_model(**ModelConfig.to_dict())`` rebuilds the same architecture.

    Raises:
        ValueError: for unknown or invalid settings.
    """
    data = {
        "variant": variant,
        "num_classes": num_classes,
        "optical_channels": optical_channels,
        "width": width,
    }
    return GeoFuseNet(ModelConfig.from_dict({**data, **config}))
