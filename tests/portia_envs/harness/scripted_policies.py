"""TorchScript policies for the contract tests (scripting needs their source in a file)."""

import torch


class GoalPolicy(torch.nn.Module):
    """The goal error in the first three action entries, zeros after."""

    def forward(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        error = observation["desired_goal"] - observation["achieved_goal"]
        return torch.cat([error, torch.zeros(1, 4)], dim=-1)


class WrongShapePolicy(torch.nn.Module):
    """Returns six numbers where the arm needs seven."""

    def forward(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.zeros(1, 6)
