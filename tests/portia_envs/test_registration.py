import subprocess
import sys

import gymnasium
import numpy as np
import pytest

import portia_envs
from portia_envs.registration import ARM_ENV_SPECS, FAMILY_ENV_IDS

# Every id of the arm env, six-joint and four-hinge bodies alike.
ENV_IDS = sorted(ARM_ENV_SPECS)
# The observation vector's size per body.
OBSERVATION_SIZES = {"arm": 55, "arm4": 51}


def test_every_id_is_registered_with_a_time_limit():
    assert ENV_IDS == [
        "Portia/Arm-v0",
        "Portia/Arm4-v0",
        "Portia/Arm4Push-v0",
        "Portia/Arm4Reach-v0",
        "Portia/ArmDrawer-v0",
        "Portia/ArmPickPlace-v0",
        "Portia/ArmPush-v0",
        "Portia/ArmReach-v0",
        "Portia/ArmSlide-v0",
        "Portia/ArmStack-v0",
    ]
    for env_id in ENV_IDS:
        spec = gymnasium.spec(env_id)
        assert spec.entry_point == "portia_envs.envs.arm:ArmEnv"
        assert spec.max_episode_steps == ARM_ENV_SPECS[env_id][1]
    assert sorted(portia_envs.ENV_SPECS) == [i for i in ENV_IDS if not i.startswith("Portia/Arm4")]
    # The families' own ids are the six-joint arm's.
    assert set(FAMILY_ENV_IDS.values()) <= set(portia_envs.ENV_SPECS)
    assert [gymnasium.spec(i).kwargs.get("body") for i in ENV_IDS if "Arm4" in i] == ["arm4"] * 3


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_make_vec_steps_every_id(env_id, mode):
    envs = gymnasium.make_vec(env_id, num_envs=2, vectorization_mode=mode)
    observations, infos = envs.reset(seed=[1, 2])
    body = ARM_ENV_SPECS[env_id][0].get("body", "arm")
    assert observations["observation"].shape == (2, OBSERVATION_SIZES[body])
    assert infos["task_id"].shape == (2,)
    for _ in range(3):
        observations, rewards, terminated, truncated, infos = envs.step(envs.action_space.sample())
    assert rewards.shape == (2,) and np.isfinite(rewards).all()
    assert not np.array_equal(observations["observation"][0], observations["observation"][1])
    envs.close()


def test_import_is_light_and_compiles_nothing():
    # Without numba imported nothing can have been compiled.
    code = (
        "import sys; import portia_envs; "
        "print(sorted(m for m in ('torch', 'mujoco', 'numba', 'fastapi') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
