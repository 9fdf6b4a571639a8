"""arm-gen-v0: ten train tasks over five families; held out, new parameter ranges and a new family.

Train tasks cover reach, push, pick-and-place, slide and drawer, with blocks in warm
colours (purple through pink, red and orange to yellow), 3.6-4.4 cm across and 50-150 g.
Held-out tasks move one thing at a time: a goal height between the trained ones, blue and
cyan blocks, larger and heavier blocks, slide goals on the side never trained, a drawer
opening between closed and fully open, and ``stack``, a family never trained, made of
pick-and-place's skills (grasp, lift, carry) aimed at another block.
"""

from portia_envs.suites.spec import Suite, TaskSpec

# The block in every train task: warm hues, 3.6-4.4 cm, 50-150 g.
_TRAIN_BLOCK = {
    "block_hue": (0.78, 1.15),
    "block_size": (0.018, 0.022),
    "block_mass": (0.05, 0.15),
}
_SHUT, _OPEN = (0.0, 0.02), (0.11, 0.15)

ARM_GEN_V0 = Suite(
    name="arm-gen-v0",
    description="Generalize across objects, goal regions and task families on the tabletop.",
    heldout_axes=(
        "goal_z: interpolation",
        "block_hue: unseen colours",
        "block_size, block_mass: extrapolation",
        "goal_y: extrapolation",
        "drawer_goal: interpolation",
        "family: stack, composed of seen skills (grasp, lift, carry, let go)",
    ),
    train=(
        TaskSpec("reach-low", "reach", {"goal_z": (0.05, 0.14)}),
        TaskSpec("reach-high", "reach", {"goal_z": (0.2, 0.3)}),
        TaskSpec("push-near", "push", {**_TRAIN_BLOCK, "goal_x": (0.32, 0.42)}),
        TaskSpec("push-far", "push", {**_TRAIN_BLOCK, "goal_x": (0.46, 0.54)}),
        TaskSpec("pick-place-low", "pick_place", {**_TRAIN_BLOCK, "goal_z": (0.1, 0.16)}),
        TaskSpec("pick-place-high", "pick_place", {**_TRAIN_BLOCK, "goal_z": (0.19, 0.25)}),
        TaskSpec("slide-centre", "slide", {**_TRAIN_BLOCK, "goal_y": (-0.05, 0.05)}),
        TaskSpec("slide-left", "slide", {**_TRAIN_BLOCK, "goal_y": (0.08, 0.15)}),
        TaskSpec("drawer-open", "drawer", {"drawer_start": _SHUT, "drawer_goal": _OPEN}),
        TaskSpec("drawer-close", "drawer", {"drawer_start": _OPEN, "drawer_goal": _SHUT}),
    ),
    heldout=(
        TaskSpec("reach-mid", "reach", {"goal_z": (0.155, 0.185)}),
        TaskSpec("push-cool-colours", "push", {**_TRAIN_BLOCK, "block_hue": (0.5, 0.72)}),
        TaskSpec(
            "pick-place-large-heavy",
            "pick_place",
            {**_TRAIN_BLOCK, "block_size": (0.0235, 0.025), "block_mass": (0.2, 0.3)},
        ),
        TaskSpec("slide-right", "slide", {**_TRAIN_BLOCK, "goal_y": (-0.15, -0.08)}),
        TaskSpec("drawer-halfway", "drawer", {"drawer_start": _SHUT, "drawer_goal": (0.07, 0.09)}),
        TaskSpec("stack", "stack"),
    ),
)
