import numpy as np
import pytest

from portia_envs.detour.config import DIFFICULTIES, GAP, WALL, LevelConfig
from portia_envs.detour.env import DetourEnv
from portia_envs.detour.levels import MAX_ATTEMPTS, generate_level, load_level
from portia_envs.detour.planner import plan_actions, plan_cells
from portia_envs.errors import UnknownSuiteError
from portia_envs.suites import SUITES, DetourSuite, get_suite
from portia_envs.suites.detour import DETOUR_V0

SEEDS = 3_000


def _level(seed, config):
    grid = np.empty((config.size, config.size), dtype=np.int8)
    sr, sc, pr, pc, attempts = generate_level(
        seed, config.maze_density, config.gap_width, config.gap_chance, grid
    )
    return grid, (sr, sc), (pr, pc), attempts


def _fingerprint(seed, config):
    grid, start, prey, _ = _level(seed, config)
    return grid.tobytes() + bytes(start + prey)


@pytest.mark.parametrize("difficulty", sorted(DIFFICULTIES))
def test_every_level_is_solvable_and_the_plan_catches_the_prey(difficulty):
    config = LevelConfig.from_difficulty(difficulty)
    grid = np.empty((11, 11), dtype=np.int8)
    dist = np.empty((11, 11), dtype=np.int32)
    body = np.empty(7)
    env = DetourEnv(action_type="discrete", difficulty=difficulty)
    env.reset(seed=0)
    for seed in range(SEEDS):
        load_level(seed, config.maze_density, config.gap_width, config.gap_chance, grid, dist, body)
        start = (int(body[1]), int(body[0]))
        prey = (int(body[6]), int(body[5]))
        cells = plan_cells(grid, start, prey)
        assert cells is not None, seed
        assert grid[start] != WALL and grid[start] != GAP and grid[prey] == 0
        # Replay the plan in the world itself, not only in the search.
        env.set_state(np.concatenate([[11, seed], body, grid.ravel()]))
        for action in plan_actions(cells):
            _, _, terminated, _, info = env.step(action)
            if terminated:
                break
        assert info["is_success"], (difficulty, seed)


def test_train_seeds_never_produce_a_heldout_level():
    config = LevelConfig.from_difficulty(DETOUR_V0.difficulty, size=DETOUR_V0.size)
    low, count = DETOUR_V0.heldout_levels
    heldout = {_fingerprint(seed, config) for seed in range(low, low + count)}
    assert len(heldout) == count  # and no two held-out seeds give the same level
    train_low, train_count = DETOUR_V0.train_levels
    train = {_fingerprint(seed, config) for seed in range(train_low, train_low + train_count)}
    assert len(train) == train_count
    assert not train & heldout


def test_the_direct_way_is_usually_blocked():
    config = LevelConfig.from_difficulty("medium")
    blocked = 0
    for seed in range(1_000):
        grid, (sr, sc), (pr, pc), _ = _level(seed, config)
        line = np.linspace(0, 1, 50)
        rows = np.floor(sr + 0.5 + line * (pr - sr)).astype(int)
        cols = np.floor(sc + 0.5 + line * (pc - sc)).astype(int)
        blocked += bool((grid[rows, cols] != 0).any())
    assert blocked >= 700


def test_difficulty_parameters_change_the_levels():
    walls, gaps = {}, {}
    for difficulty in DIFFICULTIES:
        config = LevelConfig.from_difficulty(difficulty)
        levels = [_level(seed, config)[0][1:-1, 1:-1] for seed in range(500)]
        walls[difficulty] = np.mean([(g == WALL).mean() for g in levels])
        gaps[difficulty] = np.mean([(g == GAP).mean() for g in levels])
    assert walls["easy"] < walls["medium"] < walls["hard"]
    assert gaps["easy"] < gaps["medium"] < gaps["hard"]
    wide = LevelConfig.from_difficulty("easy", gap_width=2, maze_density=0.0)
    widths = {int((_level(s, wide)[0] == GAP).any(axis=0).sum()) for s in range(200)}
    widths |= {int((_level(s, wide)[0] == GAP).any(axis=1).sum()) for s in range(200)}
    assert max(widths) == 9  # a gap strip of width 2 spans the 9 interior cells


def test_levels_are_pure_functions_of_seed_and_config_and_rarely_redrawn():
    config = LevelConfig.from_difficulty("hard")
    attempts = []
    for seed in range(1_000):
        assert _fingerprint(seed, config) == _fingerprint(seed, config)
        attempts.append(_level(seed, config)[3])
    assert max(attempts) <= MAX_ATTEMPTS  # the open-field fallback is never needed here
    big = LevelConfig(size=31)
    grid, start, prey, _ = _level(5, big)
    assert grid.shape == (31, 31) and plan_cells(grid, start, prey) is not None


def test_suite_ranges_are_disjoint_and_its_hash_is_pinned():
    assert get_suite("detour-v0") is DETOUR_V0
    assert [name for name, s in SUITES.items() if isinstance(s, DetourSuite)] == ["detour-v0"]
    (a, n), (b, m) = DETOUR_V0.train_levels, DETOUR_V0.heldout_levels
    assert a + n <= b or b + m <= a
    assert DETOUR_V0.hash == "59348bf86a5b43db"
    with pytest.raises(UnknownSuiteError, match="known suites: .*detour-v0"):
        get_suite("detour")
    with pytest.raises(UnknownSuiteError, match="accepted: train, heldout"):
        DETOUR_V0.levels("test")
