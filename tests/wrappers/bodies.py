"""Small described bodies for the MultiEmbodiment tests: chains of hinges, no physics."""

import gymnasium
import numpy as np
from gymnasium import spaces

from wrappers.embodiment import Dimension, Embodiment, Joint


def chain_body(name: str, link_lengths_m: tuple[float, ...]) -> Embodiment:
    """A chain of hinges with the given link lengths, and a gripper command."""
    n = len(link_lengths_m)
    joints = tuple(
        Joint(f"j{i}", "hinge", -1.5, 1.5, (0.0, 1.0, 0.0), length, None if i == 0 else i - 1)
        for i, length in enumerate(link_lengths_m)
    )
    actions = tuple(
        Dimension(f"j{i}", "joint_position_target", "rad", "joint", -1.5, 1.5, i) for i in range(n)
    ) + (Dimension("gripper", "gripper_command", "1", "joint", -1.0, 1.0),)
    proprio = tuple(
        Dimension(f"j{i}_pos", "joint_position", "rad", "joint", -1.5, 1.5, i) for i in range(n)
    ) + tuple(
        Dimension(f"j{i}_vel", "joint_velocity", "rad/s", "joint", -10.0, 10.0, i) for i in range(n)
    )
    # The vector is [target xyz, joint positions, joint velocities]: proprioception is not first.
    return Embodiment(name, joints, actions, proprio, "observation", tuple(range(3, 3 + 2 * n)))


class ChainEnv(gymnasium.Env):
    """A described chain that records the native actions it is given."""

    metadata = {"render_modes": []}

    def __init__(self, link_lengths_m=(0.3, 0.2), action_low=-1.0, action_high=1.0):
        self.embodiment = chain_body(f"chain{len(link_lengths_m)}", link_lengths_m)
        n = len(link_lengths_m)
        self.action_space = spaces.Box(action_low, action_high, (n + 1,), np.float32)
        self.observation_space = spaces.Dict(
            {
                "observation": spaces.Box(-10.0, 10.0, (3 + 2 * n,), np.float64),
                "desired_goal": spaces.Box(-10.0, 10.0, (3,), np.float64),
            }
        )
        self.received = []

    def _observation(self):
        return {
            "observation": self.np_random.uniform(
                -1, 1, self.observation_space["observation"].shape
            ),
            "desired_goal": self.np_random.uniform(-1, 1, 3),
        }

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self._observation(), {}

    def step(self, action):
        self.received.append(np.array(action))
        return self._observation(), float(np.sum(action)), False, False, {}
