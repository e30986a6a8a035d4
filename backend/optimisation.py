"""How a training run optimises: AdamW under a learning-rate schedule, AMP loss scaling, a time budget.

The learning rate warms up linearly and then decays (cosine or poly) towards a horizon: the run's last
step, or, with a time budget (``train.max_minutes``), the step at which the budget will run out at the pace
so far, so a run cut short by its budget still ends on a decayed learning rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import Tensor, nn

from .train_config import BUDGET_CLOCKS, OptimSettings


def lr_factor(step: int, config: OptimSettings, total_steps: int) -> float:
    """Learning-rate multiplier at ``step``: linear warm-up to 1, then cosine or poly decay."""
    warmup = min(config.warmup_steps, max(total_steps - 1, 0))
    if step < warmup:
        return (step + 1) / (warmup + 1)
    progress = min((step - warmup) / max(total_steps - warmup, 1), 1.0)
    if config.schedule == "poly":
        return (1.0 - progress) ** config.poly_power
    return config.min_lr_ratio + (1.0 - config.min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


class Budget:
    """A run's pace, and its time budget counted on one of :data:`BUDGET_CLOCKS`.

    Args:
        total: Steps of the whole run.
        minutes: The time budget (0: none).
        clock: ``wall`` or ``process`` (this process's CPU time).
    """

    def __init__(self, total: int, minutes: float, clock: str) -> None:
        self.total = total
        self.horizon = total
        """The step the schedule decays to: ``total``, or where the time budget will end the run."""
        self.seconds = minutes * 60.0
        self.clock = BUDGET_CLOCKS[clock]
        self.started = self.clock()
        self.first_step = 0

    def start(self, step: int) -> None:
        """Start the clock at ``step`` (a resumed run's pace counts only its own steps)."""
        self.started, self.first_step = self.clock(), step

    def after(self, step: int, spent: Callable[[bool], bool] = bool) -> tuple[float, float, bool]:
        """Where the run stands after ``step``; with a budget, the horizon moves to where it will run out.

        Args:
            step: Steps done.
            spent: Turns this process's "the budget is spent" into the run's (under DDP: true on any rank,
                so all ranks stop at the same step).

        Returns:
            The share of the run done (of its steps, or of its budget when that ends it sooner), the
            seconds left at the pace so far, and whether the budget is spent.
        """
        elapsed = self.clock() - self.started
        pace = elapsed / (step - self.first_step)
        fraction, eta = step / self.total, (self.total - step) * pace
        out_of_time = False
        if self.seconds:
            out_of_time = spent(elapsed >= self.seconds)
            self.horizon = min(self.total, step + max(int((self.seconds - elapsed) / pace), 1))
            fraction = max(fraction, elapsed / self.seconds)
            eta = min(eta, max(self.seconds - elapsed, 0.0))
        return min(fraction, 1.0), eta, out_of_time


class Optimiser:
    """AdamW on the schedule of :func:`lr_factor`, with mixed precision on CUDA when ``amp`` is on
    (bfloat16 where the GPU has it, else float16 with a gradient scaler).

    Args:
        parameters: What to optimise.
        config: The ``[optim]`` settings.
        budget: The run's budget; its horizon is where the schedule decays to.
        device: Where the run trains (mixed precision only on CUDA).
        amp: Whether to use mixed precision.
    """

    def __init__(
        self,
        parameters: Iterable[nn.Parameter],
        config: OptimSettings,
        budget: Budget,
        device: torch.device,
        amp: bool,
    ) -> None:
        self.optimizer = torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: lr_factor(step, config, budget.horizon)
        )
        self.device_type = device.type
        self.use_amp = amp and device.type == "cuda"
        self.amp_dtype = torch.bfloat16 if self.use_amp and torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp and self.amp_dtype == torch.float16)

    def autocast(self) -> torch.autocast:
        """The forward pass's precision context (a no-op without mixed precision)."""
        return torch.autocast(self.device_type, dtype=self.amp_dtype, enabled=self.use_amp)

    def step(self, loss: Tensor) -> None:
        """Back-propagate ``loss`` (scaled under float16), update the weights and advance the schedule."""
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()

    @property
    def lr(self) -> float:
        """The learning rate of the next step."""
        return self.scheduler.get_last_lr()[0]

    def state_dict(self) -> dict[str, Any]:
        """Optimiser, scheduler and scaler state, for a resumable checkpoint."""
        return {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved."""
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
