"""Portia: MuJoCo environments for robot control that think slowly with time paused, then act fast.

Importing the package registers the environments with Gymnasium::

    import gymnasium
    import portia_envs

    env = gymnasium.make("Portia/Arm-v0")

The import is light: models are compiled when an env is made, not here.
"""

from portia_envs.registration import ENV_SPECS, register_envs

__version__ = "0.1.0"

register_envs()

__all__ = ["ENV_SPECS", "__version__"]
