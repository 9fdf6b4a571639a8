"""Portia environments: one body plus one task family (or a draw of families) each.

``handover`` puts two arms in one scene, as a PettingZoo ``ParallelEnv``.
"""
