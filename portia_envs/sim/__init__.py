"""The simulation core: a compiled MuJoCo model stepped in control periods, with exact state."""

from portia_envs.sim.simulation import Simulation

__all__ = ["Simulation"]
