"""Gymnasium wrappers that change how time flows for the agent, and what body it acts in.

``TimePause`` freezes the world between steps and lets the agent imagine futures;
``LatencyBudget`` keeps the world moving while the agent decides. Both work on any
Gymnasium env and take fast, exact paths on envs that implement ``wrappers.protocol``.
``MultiEmbodiment`` puts bodies of different shapes behind one shared, described space.
"""

from wrappers.clocks import ComputeClock, FixedLatency, RandomLatency, WallClock
from wrappers.latency_budget import LatencyBudget
from wrappers.multi_embodiment import MultiEmbodiment
from wrappers.shared_layout import SharedLayout
from wrappers.time_pause import TimePause
from wrappers.tokenize import ACTION_TOKENIZER, OBSERVATION_TOKENIZER, Tokenizer

__all__ = [
    "ACTION_TOKENIZER",
    "OBSERVATION_TOKENIZER",
    "ComputeClock",
    "FixedLatency",
    "LatencyBudget",
    "MultiEmbodiment",
    "RandomLatency",
    "SharedLayout",
    "TimePause",
    "Tokenizer",
    "WallClock",
]
