"""Tests of hfrl_gym.reward_model: features, ensemble, loss, fitting, normalisation, checkpoints."""

from __future__ import annotations

import json
import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.errors import CheckpointError, ConfigError
from hfrl_gym.reward_model import EnsembleMLP, FitConfig, RewardModel, TransitionFeatures, trainer
from hfrl_gym.reward_model.bradley_terry import (
    answer_logits,
    bradley_terry_loss,
    preference_accuracy,
)
from hfrl_gym.reward_model.net import resolve_device
from hfrl_gym.reward_model.trainer import split_train_val
from hfrl_gym.teachers import ScriptedTeacher

ENV_ID = "test/Toy-v0"
OBS_SPACE = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
ACT_SPACE = gym.spaces.Discrete(2)
pytestmark = pytest.mark.usefixtures("one_torch_thread")

FAST = FitConfig(max_epochs=60, batch_size=32, learning_rate=3e-3, patience=8)


def make_model(seed: int = 0, **kwargs) -> RewardModel:
    return RewardModel(
        OBS_SPACE,
        ACT_SPACE,
        env_id=ENV_ID,
        seed=seed,
        device="cpu",
        hidden_sizes=(32, 32),
        **kwargs,
    )


def random_clip(
    rng: np.random.Generator, true_rewards: np.ndarray | None = None, steps: int = 10
) -> Clip:
    obs = rng.normal(size=(steps + 1, 3)).astype(np.float32) * [1.0, 3.0, 0.2] + [0.0, 5.0, 0.0]
    rewards = obs[1:, 0].astype(np.float64) if true_rewards is None else true_rewards
    return Clip(ENV_ID, obs, rng.integers(0, 2, steps), rewards, states=np.zeros((steps + 1, 3)))


def labelled_pairs(
    clips: list[Clip], num_pairs: int, rng: np.random.Generator
) -> list[tuple[ClipPair, Answer]]:
    """Oracle-labelled random pairs (the oracle judges by ``true_rewards``)."""
    index = [rng.choice(len(clips), 2, replace=False) for _ in range(num_pairs)]
    pairs = [ClipPair(clips[i], clips[j]) for i, j in index]
    answers = ScriptedTeacher(rng=rng, name="oracle").label(pairs)
    return list(zip(pairs, answers, strict=True))


# Features --------------------------------------------------------------------------------


def test_features_one_hot_discrete_and_flatten_boxes_in_numpy_and_torch() -> None:
    features = TransitionFeatures(gym.spaces.Box(-1, 1, (2, 2)), gym.spaces.Discrete(3, start=1))
    obs, next_obs = np.arange(8.0).reshape(2, 2, 2), -np.arange(8.0).reshape(2, 2, 2)
    actions = np.array([3, 1])
    out = features(obs, actions, next_obs)
    assert out.shape == (2, 11)
    assert out.dtype == np.float32
    assert out[0].tolist() == [0, 1, 2, 3, 0, 0, 1, 0, -1, -2, -3]
    assert out[1, 4:7].tolist() == [1, 0, 0]
    as_tensor = features.tensor(torch.tensor(obs), torch.tensor(actions), torch.tensor(next_obs))
    assert np.array_equal(as_tensor.numpy(), out)
    assert np.array_equal(features(obs, actions[:, None], next_obs), out)  # SB3's (N, 1)
    assert features.continuous.tolist() == [True] * 4 + [False] * 3 + [True] * 4


def test_features_refuse_bad_shapes_and_out_of_range_actions() -> None:
    features = TransitionFeatures(OBS_SPACE, ACT_SPACE)
    with pytest.raises(ConfigError, match="observations must have shape"):
        features(np.zeros((2, 4)), np.zeros(2, np.int64), np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="outside"):
        features(np.zeros((2, 3)), np.array([0, 2]), np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="same length"):
        features(np.zeros((2, 3)), np.zeros(3, np.int64), np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="Box and Discrete"):
        TransitionFeatures(gym.spaces.MultiBinary(3), ACT_SPACE)


def test_true_rewards_never_reach_the_model() -> None:
    rng = np.random.default_rng(0)
    clip = random_clip(rng)
    twin = Clip(
        ENV_ID, clip.observations, clip.actions, rng.normal(size=10) * 100, states=clip.states
    )
    model = make_model()
    model.fit(labelled_pairs([clip, twin, random_clip(rng)], 6, rng), rng, FAST)
    assert np.array_equal(model.features.clip(clip), model.features.clip(twin))
    returns = model.member_clip_returns([clip, twin])
    assert np.array_equal(returns[:, 0], returns[:, 1])


# Ensemble network ------------------------------------------------------------------------


def test_batched_ensemble_equals_each_member_evaluated_alone() -> None:
    net = EnsembleMLP(5, num_members=4, hidden_sizes=(7, 6), seed=1)
    x = torch.randn(9, 5)
    out = net(x)
    for member in range(4):
        hidden = x
        for layer, (weight, bias) in enumerate(zip(net.weights, net.biases, strict=True)):
            if layer > 0:
                hidden = torch.nn.functional.leaky_relu(hidden, 0.01)
            hidden = hidden @ weight[member] + bias[member, 0]
        assert torch.allclose(out[member], hidden[:, 0], atol=1e-6)
    per_member = torch.randn(4, 9, 5)
    out = net(per_member)
    assert torch.allclose(out[2], net(per_member[2])[2], atol=1e-6)
    assert not torch.allclose(out[0], out[1])  # members are independent networks
    assert torch.equal(EnsembleMLP(5, num_members=4, hidden_sizes=(7, 6), seed=1)(x), net(x))


def test_rescale_inputs_keeps_the_function() -> None:
    net = EnsembleMLP(3, num_members=2, hidden_sizes=(8,), seed=2)
    x_new = torch.randn(20, 3, dtype=torch.float64).float()
    scale, shift = torch.tensor([2.0, 0.5, 3.0]), torch.tensor([1.0, -2.0, 0.0])
    before = net(x_new * scale + shift)
    net.rescale_inputs(scale, shift)
    assert torch.allclose(net(x_new), before, atol=1e-5)


def test_resolve_device_auto_is_cpu_without_a_gpu() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    with pytest.raises(ConfigError):
        resolve_device("tpu:7")


# Bradley-Terry ---------------------------------------------------------------------------


def test_loss_matches_the_naive_formula_where_that_is_accurate() -> None:
    logits = torch.linspace(-6, 6, 25, dtype=torch.float64)
    for eps in (0.0, 0.1, 0.3):
        for target in (1.0, 0.0, 0.5):
            p_left = (1 - eps) * torch.sigmoid(logits) + eps / 2
            naive = -(target * torch.log(p_left) + (1 - target) * torch.log(1 - p_left))
            loss = bradley_terry_loss(
                logits[:, None], torch.tensor([target]), random_answer_prob=eps
            )
            assert torch.allclose(loss, naive, atol=1e-10)


def test_loss_stays_finite_with_useful_gradients_for_huge_logits() -> None:
    logits = torch.tensor([[-1e4, 1e4]], requires_grad=True)
    loss = bradley_terry_loss(logits, torch.tensor([1.0, 0.0]), random_answer_prob=0.0)
    loss.sum().backward()
    assert torch.isfinite(loss).all()
    assert loss.item() == pytest.approx(1e4, rel=1e-6)
    assert logits.grad.tolist() == [[-0.5, 0.5]]
    noisy = bradley_terry_loss(logits.detach(), torch.tensor([1.0, 0.0]), random_answer_prob=0.1)
    assert noisy.item() == pytest.approx(-math.log(0.05), rel=1e-5)  # bounded by eps / 2
    assert answer_logits(torch.tensor([0.0]), 0.1).item() == 0.0


def test_equal_target_is_minimised_at_equal_returns() -> None:
    logits = torch.linspace(-3, 3, 61)[None, :].T.contiguous()
    loss = bradley_terry_loss(logits, torch.tensor([0.5]), random_answer_prob=0.1)
    assert logits[int(loss.argmin()), 0].item() == pytest.approx(0.0, abs=1e-6)


def test_accuracy_leaves_out_equal_pairs() -> None:
    assert preference_accuracy(torch.tensor([1.0, 1.0, -2.0]), torch.tensor([1.0, 0.5, 1.0])) == 0.5
    assert preference_accuracy(torch.tensor([1.0]), torch.tensor([0.5])) is None


# Fitting ---------------------------------------------------------------------------------


def test_split_holds_out_at_least_one_pair_from_five() -> None:
    assert [len(split_train_val(n, 0.2, np.random.default_rng(0))[1]) for n in (4, 5, 20)] == [
        0,
        1,
        4,
    ]
    with pytest.raises(ConfigError):
        FitConfig(val_fraction=1.0)


def test_fit_learns_an_observable_reward_and_normalises_outputs() -> None:
    rng = np.random.default_rng(1)
    clips = [random_clip(rng) for _ in range(80)]
    labelled = labelled_pairs(clips, 300, rng)
    labelled += [(labelled[0][0], Answer(Choice.SKIP, "oracle"))] * 3
    model = make_model()
    report = model.fit(labelled, rng, FAST)
    assert (report.num_pairs, report.num_skipped, report.num_val) == (303, 3, 60)
    assert report.num_train == 240
    assert model.last_fit == report
    assert model.num_fits == 1
    assert report.val_accuracy >= 0.9
    assert report.val_loss < math.log(2) < report.val_loss + 1
    assert report.epochs_run >= 1
    true_returns = np.array([clip.true_return for clip in clips])
    assert np.corrcoef(model.clip_returns(clips), true_returns)[0, 1] > 0.9
    obs = np.concatenate([clip.observations[:-1] for clip in clips])
    next_obs = np.concatenate([clip.observations[1:] for clip in clips])
    actions = np.concatenate([clip.actions for clip in clips])
    rewards = model.predict_rewards(obs, actions, next_obs)
    assert rewards.dtype == np.float32
    assert rewards.shape == (800,)
    assert abs(rewards.mean()) < 1e-4
    assert rewards.std() == pytest.approx(1.0, abs=1e-3)
    fast = model.predict_rewards_tensor(
        torch.from_numpy(obs), torch.from_numpy(actions), torch.from_numpy(next_obs)
    )
    assert np.allclose(fast.numpy(), rewards, atol=1e-5)


def test_a_goal_the_observations_cannot_reveal_is_not_learned() -> None:
    """Labels from a hidden per-clip score: on fresh clips the model ranks at chance."""
    rng = np.random.default_rng(2)

    def hidden_clips(count: int) -> list[Clip]:
        return [random_clip(rng, true_rewards=np.full(10, rng.normal())) for _ in range(count)]

    model = make_model()
    model.fit(labelled_pairs(hidden_clips(60), 300, rng), rng, FAST)
    fresh = labelled_pairs(hidden_clips(200), 1000, rng)
    assert model.pair_accuracy(fresh) < 0.6  # chance is 0.5
    # Control: clips judged by a score the observations reveal are ranked well.
    visible = make_model()
    visible.fit(labelled_pairs([random_clip(rng) for _ in range(60)], 300, rng), rng, FAST)
    assert (
        visible.pair_accuracy(labelled_pairs([random_clip(rng) for _ in range(200)], 1000, rng))
        > 0.85
    )


def test_member_probabilities_are_sigmoids_of_member_return_differences() -> None:
    rng = np.random.default_rng(3)
    clips = [random_clip(rng) for _ in range(4)]
    model = make_model()
    pairs = [
        ClipPair(clips[0], clips[1]),
        ClipPair(clips[2], clips[0]),
        ClipPair(clips[3], clips[3]),
    ]
    probs = model.member_preference_probs(pairs)
    returns = model.member_clip_returns(clips)
    assert probs.shape == (3, 3)
    expected = 1 / (1 + np.exp(-(returns[:, [0, 2, 3]] - returns[:, [1, 0, 3]])))
    assert np.allclose(probs, expected)
    assert np.allclose(probs[:, 2], 0.5)
    assert not np.allclose(probs[0], probs[1])


def test_clip_returns_of_mixed_lengths_sum_the_rewards_ppo_sees() -> None:
    rng = np.random.default_rng(9)
    clips = [random_clip(rng, steps=steps) for steps in (3, 12, 7)]
    model = make_model()
    model.fit(labelled_pairs(clips, 6, rng), rng, FitConfig(max_epochs=2))
    together = model.member_clip_returns(clips)
    alone = np.concatenate([model.member_clip_returns([clip]) for clip in clips], axis=1)
    assert np.allclose(together, alone, atol=1e-5)
    per_step = [
        model.predict_rewards(c.observations[:-1], c.actions, c.observations[1:]).sum()
        for c in clips
    ]
    assert np.allclose(model.clip_returns(clips), per_step, atol=1e-4)


def test_refit_warm_starts_through_a_new_input_normalisation() -> None:
    rng = np.random.default_rng(4)
    clips = [random_clip(rng) for _ in range(40)]
    model = make_model()
    model.fit(labelled_pairs(clips, 60, rng), rng, FAST)
    before = model.member_clip_returns(clips)
    shifted = [
        Clip(ENV_ID, c.observations * 2 + 3, c.actions, c.true_rewards, states=c.states)
        for c in clips[:20]
    ]
    frozen = FitConfig(max_epochs=1, learning_rate=1e-12, weight_decay=0.0)
    model.fit(labelled_pairs(shifted, 30, rng), rng, frozen)
    assert not np.allclose(model.input_normalizer.mean, 0.0)
    assert np.allclose(model.member_clip_returns(clips), before, rtol=1e-4, atol=1e-4)
    model.fit(labelled_pairs(shifted, 30, rng), rng, FitConfig(max_epochs=1, warm_start=False))
    assert not np.allclose(model.member_clip_returns(clips), before, rtol=0.1)  # control


def test_early_stopping_restores_the_best_weights(monkeypatch) -> None:
    """Validation answers contradict training ones: the best weights are after epoch 1."""
    monkeypatch.setattr(
        trainer, "split_train_val", lambda n, f, rng: (np.arange(8), np.arange(8, 10))
    )
    rng = np.random.default_rng(10)
    features = [rng.normal(size=(5, 3)).astype(np.float32) for _ in range(2)]
    data = trainer.PairData.from_arrays(
        features, [0] * 10, [1] * 10, [1.0] * 8 + [0.0] * 2, device=torch.device("cpu")
    )
    results = []
    for max_epochs in (1, 50):
        net = EnsembleMLP(3, num_members=2, hidden_sizes=(8,), seed=0)
        config = FitConfig(max_epochs=max_epochs, patience=4, batch_size=4)
        report = trainer.fit_ensemble(net, data, config=config, rng=np.random.default_rng(11))
        results.append(
            (report, net(data.features[0]).sum(dim=1) - net(data.features[1]).sum(dim=1))
        )
    (one_epoch, first_logits), (stopped, best_logits) = results
    assert stopped.epochs_run == 1 + 4
    assert torch.equal(best_logits, first_logits)
    assert stopped.val_loss == one_epoch.val_loss


def test_fit_refuses_all_skipped_or_foreign_clips() -> None:
    rng = np.random.default_rng(5)
    clips = [random_clip(rng) for _ in range(3)]
    skipped = [(ClipPair(clips[0], clips[1]), Answer(Choice.SKIP))]
    with pytest.raises(ConfigError, match="skipped"):
        make_model().fit(skipped, rng)
    foreign = make_model()
    foreign.env_id = "test/Other-v0"
    with pytest.raises(ConfigError, match="comes from"):
        foreign.fit(labelled_pairs(clips, 2, rng), rng)


def test_same_seeds_same_fit() -> None:
    rng = np.random.default_rng(6)
    clips = [random_clip(rng) for _ in range(20)]
    labelled = labelled_pairs(clips, 30, rng)
    results = []
    for _ in range(2):
        model = make_model(seed=3)
        report = model.fit(labelled, np.random.default_rng(7), FitConfig(max_epochs=5))
        results.append((model.member_clip_returns(clips), report.val_loss))
    assert np.array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]


# Checkpoints -----------------------------------------------------------------------------


@pytest.fixture
def fitted(tmp_path) -> tuple[RewardModel, list[Clip]]:
    rng = np.random.default_rng(8)
    clips = [random_clip(rng) for _ in range(20)]
    model = make_model(num_members=2)
    model.fit(labelled_pairs(clips, 30, rng), rng, FitConfig(max_epochs=3))
    return model, clips


def test_checkpoint_round_trip_gives_identical_predictions(tmp_path, fitted) -> None:
    model, clips = fitted
    model.save(tmp_path / "rm")
    meta = json.loads((tmp_path / "rm" / "meta.json").read_text())
    assert meta["env_id"] == ENV_ID
    assert meta["num_members"] == 2
    assert meta["versions"]["torch"] == torch.__version__
    assert meta["fit_report"]["num_pairs"] == 30
    for kwargs in (
        {},
        {"env_id": ENV_ID, "observation_space": OBS_SPACE, "action_space": ACT_SPACE},
    ):
        loaded = RewardModel.load(tmp_path / "rm", device="cpu", **kwargs)
        assert np.array_equal(loaded.member_clip_returns(clips), model.member_clip_returns(clips))
        assert np.array_equal(loaded.clip_returns(clips), model.clip_returns(clips))
        assert loaded.last_fit == model.last_fit
        assert loaded.num_fits == 1
        assert loaded.hidden_sizes == (32, 32)
        assert loaded.num_members == 2


def test_checkpoint_of_another_env_or_spaces_is_refused(tmp_path, fitted) -> None:
    model, _ = fitted
    model.save(tmp_path / "rm")
    with pytest.raises(CheckpointError, match="trained for 'test/Toy-v0'"):
        RewardModel.load(tmp_path / "rm", env_id="hfrl/CartPole-v0", device="cpu")
    with pytest.raises(CheckpointError, match="observation_space"):
        RewardModel.load(
            tmp_path / "rm", observation_space=gym.spaces.Box(-1, 1, (4,)), device="cpu"
        )
    with pytest.raises(CheckpointError, match="action_space"):
        RewardModel.load(tmp_path / "rm", action_space=gym.spaces.Discrete(3), device="cpu")


def test_missing_or_corrupt_checkpoint_files_are_refused(tmp_path, fitted) -> None:
    model, _ = fitted
    with pytest.raises(CheckpointError, match="missing"):
        RewardModel.load(tmp_path / "nothing", device="cpu")
    folder = model.save(tmp_path / "rm")
    weights = folder / "weights.pt"
    good = weights.read_bytes()
    weights.write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match="corrupt"):
        RewardModel.load(folder, device="cpu")
    weights.write_bytes(good)
    meta = folder / "meta.json"
    meta.write_text(meta.read_text()[:-20])
    with pytest.raises(CheckpointError, match="JSON"):
        RewardModel.load(folder, device="cpu")
    model.save(folder)  # saving again repairs the folder
    assert RewardModel.load(folder, device="cpu").num_fits == 1
    (folder / "weights.pt").unlink()
    with pytest.raises(CheckpointError, match="missing"):
        RewardModel.load(folder, device="cpu")


def test_weights_that_are_not_plain_tensors_are_refused(tmp_path, fitted) -> None:
    model, _ = fitted
    folder = model.save(tmp_path / "rm")
    meta = json.loads((folder / "meta.json").read_text())
    torch.save({"weights.0": [1, 2, 3]}, folder / "weights.pt")
    import hashlib

    meta["weights_sha256"] = hashlib.sha256((folder / "weights.pt").read_bytes()).hexdigest()
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="named tensors"):
        RewardModel.load(folder, device="cpu")
    torch.save({"weights.0": torch.zeros(1)}, folder / "weights.pt")
    meta["weights_sha256"] = hashlib.sha256((folder / "weights.pt").read_bytes()).hexdigest()
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="inconsistent"):
        RewardModel.load(folder, device="cpu")
