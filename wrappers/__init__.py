"""Gymnasium wrappers that change how time flows for the agent.

``TimePause`` freezes the world between steps and lets the agent imagine futures;
``LatencyBudget`` keeps the world moving while the agent decides. Both work on any
Gymnasium env and take fast, exact paths on envs that implement ``wrappers.protocol``.
"""

from wrappers.clocks import ComputeClock, FixedLatency, RandomLatency, WallClock
from wrappers.latency_budget import LatencyBudget
from wrappers.time_pause import TimePause

__all__ = [
    "ComputeClock",
    "FixedLatency",
    "LatencyBudget",
    "RandomLatency",
    "TimePause",
    "WallClock",
]
