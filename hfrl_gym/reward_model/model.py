"""The reward model: what the RLHF loop fits on answers and PPO is rewarded by.

Classes:
    RewardModel: an ensemble reward over ``(observation, action, next observation)`` for one
        env's spaces; predicts normalised rewards, scores clips and pairs, fits on answered
        pairs, saves and loads checkpoints.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from hfrl_gym.answers import Answer
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.errors import CheckpointError, ConfigError
from hfrl_gym.reward_model.checkpoint import check_matches, read_checkpoint, write_checkpoint
from hfrl_gym.reward_model.features import (
    TransitionFeatures,
    describe_space,
    space_from_description,
)
from hfrl_gym.reward_model.net import EnsembleMLP, resolve_device
from hfrl_gym.reward_model.normalize import RewardScale, Standardizer
from hfrl_gym.reward_model.refit import refit_ensemble
from hfrl_gym.reward_model.trainer import FitConfig, FitReport, PairData, fit_ensemble

PREDICT_CHUNK = 65_536
"""Transitions per forward pass when scoring many at once."""


class RewardModel:
    """An ensemble of MLP rewards for one env, fit with the Bradley-Terry model.

    Args:
        observation_space: the env's observation space (Box or Discrete).
        action_space: the env's action space (Box or Discrete, one-hot encoded).
        env_id: the suite id; checkpoints and fits refuse clips and envs of other ids.
        num_members: ensemble size ``M``.
        hidden_sizes: hidden layer widths of each member.
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda"``.
        seed: seeds the initial weights.

    The raw reward of member ``m`` is ``r_m(x)`` on normalised features ``x``. What PPO gets
    (``predict_rewards``) is the ensemble mean, standardised with the mean and std it had
    over the training transitions at the last fit. Bradley-Terry quantities
    (``member_clip_returns``, ``member_preference_probs``) use the raw rewards.

    Example:
        >>> model = RewardModel(gym.spaces.Box(-1, 1, (4,)), gym.spaces.Discrete(2),
        ...                     env_id="hfrl/CartPole-v0", seed=0, device="cpu")
        >>> model.predict_rewards(np.zeros((5, 4)), np.zeros(5, np.int64), np.zeros((5, 4))).shape
        (5,)
        >>> clip = Clip("hfrl/CartPole-v0", np.zeros((4, 4)), np.zeros(3, np.int64), np.ones(3),
        ...             states=np.zeros((4, 4)))
        >>> model.member_clip_returns([clip, clip]).shape
        (3, 2)
    """

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        *,
        env_id: str,
        num_members: int = 3,
        hidden_sizes: Sequence[int] = (64, 64),
        device: str | torch.device = "auto",
        seed: int,
    ) -> None:
        if not env_id:
            raise ConfigError("a reward model needs the env id it is trained for")
        self.env_id = env_id
        self.observation_space = observation_space
        self.action_space = action_space
        self.features = TransitionFeatures(observation_space, action_space)
        self.device = resolve_device(device)
        self.seed = int(seed)
        self.net = EnsembleMLP(
            self.features.dim, num_members=num_members, hidden_sizes=hidden_sizes, seed=seed
        ).to(self.device)
        self.input_normalizer = Standardizer.identity(self.features.dim)
        self.reward_scale = RewardScale()
        self.last_fit: FitReport | None = None
        self.num_fits = 0
        self._set_input_normalizer(self.input_normalizer)

    def __repr__(self) -> str:
        return (
            f"RewardModel(env_id={self.env_id!r}, num_members={self.num_members}, "
            f"hidden_sizes={self.hidden_sizes}, device={str(self.device)!r}, "
            f"num_fits={self.num_fits})"
        )

    @property
    def num_members(self) -> int:
        """Ensemble size ``M``."""
        return self.net.num_members

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        """Hidden layer widths of each member."""
        return self.net.hidden_sizes

    def _set_input_normalizer(self, normalizer: Standardizer) -> None:
        self.input_normalizer = normalizer
        self._input_mean = torch.as_tensor(normalizer.mean, dtype=torch.float32).to(self.device)
        self._input_std = torch.as_tensor(normalizer.std, dtype=torch.float32).to(self.device)

    # Scoring ---------------------------------------------------------------------------

    def _member_rewards(self, features: np.ndarray) -> np.ndarray:
        """``(M, N)`` float64 raw rewards of ``(N, D)`` un-normalised features."""
        normalised = self.input_normalizer.apply(features)
        out = np.empty((self.num_members, normalised.shape[0]), dtype=np.float64)
        with torch.no_grad():
            for start in range(0, normalised.shape[0], PREDICT_CHUNK):
                chunk = torch.from_numpy(normalised[start : start + PREDICT_CHUNK])
                rewards = self.net(chunk.to(self.device))
                out[:, start : start + PREDICT_CHUNK] = rewards.cpu().numpy()
        return out

    def predict_rewards(
        self,
        observations: np.ndarray,
        actions: np.ndarray,
        next_observations: np.ndarray,
        *,
        disagreement_bonus: float = 0.0,
    ) -> np.ndarray:
        """Normalised ensemble-mean reward of ``N`` transitions.

        Args:
            observations: ``(N, *obs_shape)`` observations before the actions.
            actions: ``(N, *action_shape)`` actions (``(N,)`` or ``(N, 1)`` integers for
                Discrete).
            next_observations: ``(N, *obs_shape)`` observations after the actions.
            disagreement_bonus: adds this times the members' standard deviation, in the same
                normalised units (an exploration bonus where the ensemble is unsure, RUNE:
                Liang et al. 2022); 0: the mean alone.

        Returns:
            ``(N,)`` float32 rewards (about zero mean, unit std on the training transitions).
        """
        features = self.features(observations, actions, next_observations)
        members = self._member_rewards(features)
        rewards = self.reward_scale.apply(members.mean(axis=0))
        if disagreement_bonus:
            rewards = rewards + disagreement_bonus * members.std(axis=0) / self.reward_scale.std
        return rewards.astype(np.float32)

    def predict_rewards_tensor(
        self,
        observations: torch.Tensor,
        actions: torch.Tensor,
        next_observations: torch.Tensor,
    ) -> torch.Tensor:
        """:meth:`predict_rewards` for tensors: one forward pass on the model's device.

        Inputs are moved to the model's device if they are elsewhere; the ``(N,)`` float32
        result stays there. No gradient is tracked.
        """
        with torch.no_grad():
            features = self.features.tensor(
                observations.to(self.device),
                actions.to(self.device),
                next_observations.to(self.device),
            )
            raw = self.net((features - self._input_mean) / self._input_std).mean(dim=0)
            return (raw - self.reward_scale.mean) / self.reward_scale.std

    def _check_clip(self, clip: Clip) -> None:
        if clip.env_id != self.env_id:
            raise ConfigError(
                f"clip {clip.uid} comes from {clip.env_id!r} but this reward model is for "
                f"{self.env_id!r}"
            )

    def member_clip_returns(self, clips: Sequence[Clip]) -> np.ndarray:
        """``(M, K)`` float64 raw return (sum of raw rewards) of each clip for each member."""
        if not clips:
            return np.zeros((self.num_members, 0))
        for clip in clips:
            self._check_clip(clip)
        features = np.concatenate([self.features.clip(clip) for clip in clips])
        rewards = self._member_rewards(features)
        starts = np.cumsum([0] + [clip.num_steps for clip in clips[:-1]])
        return np.add.reduceat(rewards, starts, axis=1)

    def clip_returns(self, clips: Sequence[Clip]) -> np.ndarray:
        """``(K,)`` float64 return of each clip under the normalised reward PPO sees."""
        raw = self.member_clip_returns(clips).mean(axis=0)
        steps = np.array([clip.num_steps for clip in clips], dtype=np.float64)
        return (raw - steps * self.reward_scale.mean) / self.reward_scale.std

    def member_pair_logits(self, pairs: Sequence[ClipPair]) -> np.ndarray:
        """``(M, K)`` Bradley-Terry logits ``R_left - R_right`` of raw returns, per member."""
        unique: dict[str, int] = {}
        clips: list[Clip] = []
        for pair in pairs:
            for clip in (pair.left, pair.right):
                if clip.uid not in unique:
                    unique[clip.uid] = len(clips)
                    clips.append(clip)
        returns = self.member_clip_returns(clips)
        left = [unique[pair.left.uid] for pair in pairs]
        right = [unique[pair.right.uid] for pair in pairs]
        return returns[:, left] - returns[:, right]

    def member_preference_probs(self, pairs: Sequence[ClipPair]) -> np.ndarray:
        """``(M, K)`` Bradley-Terry ``P(left better) = sigmoid(R_left - R_right)`` per member.

        The assumed chance of a random answer is not mixed in: these are the members'
        beliefs about the clips, as used for query selection.
        """
        return np.exp(-np.logaddexp(0.0, -self.member_pair_logits(pairs)))

    def pair_accuracy(self, labelled: Sequence[tuple[ClipPair, Answer]]) -> float | None:
        """Share of ``left``/``right`` answers (any confidence) whose preferred clip has the
        larger ensemble-mean return (``equal`` and ``skip`` answers left out; a tie counts as
        wrong).

        Returns:
            The accuracy in [0, 1], or ``None`` when no answer is ``left`` or ``right``.
        """
        decided = [(pair, answer) for pair, answer in labelled if answer.decided]
        if not decided:
            return None
        logits = self.member_pair_logits([pair for pair, _ in decided]).mean(axis=0)
        targets = np.array([answer.target for _, answer in decided])
        return float(np.mean((logits > 0) == (targets > 0.5)))

    # Fitting ---------------------------------------------------------------------------

    def fit(
        self,
        labelled: Sequence[tuple[ClipPair, Answer]],
        rng: np.random.Generator,
        config: FitConfig | None = None,
    ) -> FitReport:
        """Fit on answered pairs (skips are dropped), then renormalise the outputs.

        Each answer's :attr:`~hfrl_gym.answers.Answer.target` is its Bradley-Terry target: 1 or
        0 for ``left``/``right`` (0.75 or 0.25 when answered "slightly better"), 0.5 for
        ``equal``.

        The input normalisation is recomputed from the transitions of the labelled clips.
        With ``config.warm_start`` (the default) training continues from the current weights,
        the first layer being rescaled so that the new normalisation leaves the function as
        it was; otherwise the weights restart from a seed drawn from ``rng``. A warm refit
        with ``config.budget`` (``refit.refit_ensemble``) takes steps in proportion to the
        answers new since the last fit: ``labelled`` is taken to grow at its end (a store's
        ``labelled_pairs()``), so the entries past the last fit's ``num_pairs`` are the new
        ones. After the fit the output normalisation is set from the ensemble-mean rewards of
        those transitions.

        Args:
            labelled: ``(pair, answer)`` for every answer to use (several per pair allowed).
            rng: source of the split, bootstrap samples, minibatch order and any re-seed.
            config: fit settings; ``FitConfig()`` when ``None``.

        Returns:
            The fit's report, also kept as ``last_fit`` and saved in checkpoints.
        """
        started = time.perf_counter()
        config = FitConfig() if config is None else config
        index: dict[str, int] = {}
        clips: list[Clip] = []
        left, right, targets, used = [], [], [], []
        for position, (pair, answer) in enumerate(labelled):
            if answer.target is None:
                continue
            used.append(position)
            for clip in (pair.left, pair.right):
                self._check_clip(clip)
                if clip.uid not in index:
                    index[clip.uid] = len(clips)
                    clips.append(clip)
            left.append(index[pair.left.uid])
            right.append(index[pair.right.uid])
            targets.append(answer.target)
        if not targets:
            raise ConfigError(
                f"no answered pairs to fit on: all {len(labelled)} were skipped or none given"
            )
        raw_features = [self.features.clip(clip) for clip in clips]
        all_features = np.concatenate(raw_features)
        normalizer = Standardizer.fit(all_features, continuous=self.features.continuous)
        if not config.warm_start:
            self.net.reset_parameters(int(rng.integers(2**31)))
        elif self.num_fits > 0:
            old = self.input_normalizer
            scale = torch.as_tensor(normalizer.std / old.std, dtype=torch.float32)
            shift = torch.as_tensor((normalizer.mean - old.mean) / old.std, dtype=torch.float32)
            self.net.rescale_inputs(scale, shift)
        self._set_input_normalizer(normalizer)
        data = PairData.from_arrays(
            [normalizer.apply(features) for features in raw_features],
            left,
            right,
            targets,
            device=self.device,
        )
        num_skipped = len(labelled) - len(targets)
        if config.warm_start and config.budget is not None and self.last_fit is not None:
            new_pairs = np.flatnonzero(np.array(used) >= self.last_fit.num_pairs)
            report = refit_ensemble(
                self.net,
                data,
                new_pairs,
                config=config,
                budget=config.budget,
                rng=rng,
                num_skipped=num_skipped,
            )
        else:
            report = fit_ensemble(self.net, data, config=config, rng=rng, num_skipped=num_skipped)
        self.reward_scale = RewardScale.fit(self._member_rewards(all_features).mean(axis=0))
        report = dataclasses.replace(report, seconds=time.perf_counter() - started)
        self.last_fit = report
        self.num_fits += 1
        return report

    # Checkpoints -----------------------------------------------------------------------

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write a checkpoint folder (``weights.pt`` + ``meta.json``, see ``checkpoint``)."""
        import hfrl_gym  # the package version, for the metadata

        meta = {
            "env_id": self.env_id,
            "observation_space": describe_space(self.observation_space),
            "action_space": describe_space(self.action_space),
            "num_members": self.num_members,
            "hidden_sizes": list(self.hidden_sizes),
            "activation": "leaky_relu",
            "seed": self.seed,
            "input_normalization": self.input_normalizer.to_dict(),
            "reward_normalization": self.reward_scale.to_dict(),
            "num_fits": self.num_fits,
            "fit_report": None if self.last_fit is None else self.last_fit.to_dict(),
            "versions": {
                "hfrl_gym": getattr(hfrl_gym, "__version__", "unknown"),
                "torch": torch.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
            },
        }
        return write_checkpoint(directory, self.net.state_dict(), meta)

    @classmethod
    def load(
        cls,
        directory: str | os.PathLike[str],
        *,
        env_id: str | None = None,
        observation_space: gym.Space | None = None,
        action_space: gym.Space | None = None,
        device: str | torch.device = "auto",
    ) -> RewardModel:
        """A model from a checkpoint folder, refusing one made for another env.

        Args:
            directory: the folder written by :meth:`save`.
            env_id: when given, the checkpoint's env id must be this.
            observation_space: when given, must match the checkpoint's (and is used).
            action_space: likewise.
            device: where the loaded model lives.

        Raises:
            CheckpointError: missing or corrupt files, or another env id or spaces.
        """
        state, meta = read_checkpoint(directory)
        check_matches(
            meta, env_id=env_id, observation_space=observation_space, action_space=action_space
        )
        try:
            model = cls(
                observation_space or space_from_description(meta["observation_space"]),
                action_space or space_from_description(meta["action_space"]),
                env_id=str(meta["env_id"]),
                num_members=int(meta["num_members"]),
                hidden_sizes=tuple(int(size) for size in meta["hidden_sizes"]),
                device=device,
                seed=int(meta["seed"]),
            )
            model.net.load_state_dict(state)
            fit_report = meta.get("fit_report")
            model.last_fit = None if fit_report is None else FitReport(**fit_report)
            model.num_fits = int(meta.get("num_fits", 0))
            input_normalization = meta["input_normalization"]
            reward_normalization = meta["reward_normalization"]
        except (KeyError, TypeError, ValueError, RuntimeError, ConfigError) as error:
            raise CheckpointError(
                f"{directory} holds an inconsistent checkpoint ({error}); save the model again"
            ) from error
        model._set_input_normalizer(
            Standardizer.from_dict(input_normalization, dim=model.features.dim)
        )
        model.reward_scale = RewardScale.from_dict(reward_normalization)
        return model
