"""Scripted experts that solve the arm's task families: the project's reference policy.

One stateless feedback policy per family (``reach_expert``, ``push_expert``,
``pick_place_expert``, ``slide_expert``, ``stack_expert``, ``drawer_expert``), and
``ScriptedExpert``, which picks the family's expert each step (``HandoverExpert`` acts for
both arms of the two-arm handover env)::

    import gymnasium
    import portia_envs
    from portia_envs.experts import ScriptedExpert

    env = gymnasium.make("Portia/ArmPush-v0")
    expert = ScriptedExpert(env)
    observation, _ = env.reset(seed=0)
    action = expert.act(observation)
"""

from portia_envs.experts.agent import ScriptedExpert
from portia_envs.experts.drawer import drawer_expert
from portia_envs.experts.episode import run_episode
from portia_envs.experts.handover import HandoverExpert
from portia_envs.experts.ik import ArmIK
from portia_envs.experts.pick_place import pick_place_expert
from portia_envs.experts.push import push_expert
from portia_envs.experts.reach import reach_expert
from portia_envs.experts.slide import slide_expert
from portia_envs.experts.stack import stack_expert

__all__ = [
    "ArmIK",
    "HandoverExpert",
    "ScriptedExpert",
    "drawer_expert",
    "pick_place_expert",
    "push_expert",
    "reach_expert",
    "run_episode",
    "slide_expert",
    "stack_expert",
]
