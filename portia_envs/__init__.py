"""Portia: MuJoCo environments for robot control that think slowly with time paused, then act fast.

Importing the package registers the environments with Gymnasium::

    import gymnasium
    import portia_envs

    env = gymnasium.make("Portia/Arm-v0")
    arms = portia_envs.make_parallel("Portia/Handover-v0")  # two arms, PettingZoo API

The import is light: models are compiled when an env is made, not here.
"""

from portia_envs.registration import ENV_SPECS, PARALLEL_ENV_SPECS, make_parallel, register_envs

__version__ = "0.1.0"

register_envs()

__all__ = ["ENV_SPECS", "PARALLEL_ENV_SPECS", "__version__", "make_parallel"]
