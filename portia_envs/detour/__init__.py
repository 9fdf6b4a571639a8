"""Detour: a fast 2D world of walls, gaps and prey, with procedurally generated levels.

``gymnasium.make("Portia/Detour-v0")`` (continuous actions) or ``"Portia/DetourDiscrete-v0"``;
``gymnasium.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`` steps N
worlds in one compiled call. Modules: ``config`` (constants, difficulties), ``levels``
(generation), ``search`` (breadth-first search), ``world`` (physics and observations),
``worlds`` (a batch of world states and levels, behind both envs), ``env`` and ``vector``
(the Gymnasium envs), ``planner`` (the teacher, and the built-in agent ``planner``),
``render`` (pygame). Its suites (train and held-out levels) are in ``portia_envs.suites``
with every other suite. Importing this package compiles nothing.
"""
