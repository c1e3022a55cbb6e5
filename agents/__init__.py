"""agents: training from preferences on top of ``hfrl_gym`` (Stable-Baselines3, matplotlib).

The RLHF loop and its parts (docs/ARCHITECTURE.md):
    rlhf_loop: ``run_rounds`` (the loop), ``build_parts``, ``train``.
    plan: ``RunPlan``, the budget arithmetic of a run.
    ppo_agent: ``PPOAgent``, PPO on the current reward; records and evaluates.
    pair_selector: ``PairSelector`` and ``post_pairs``, the round's queries.
    answerers: the ``Answerer`` protocol; scripted teachers, other processes via the store.
    reward_fitter: ``RewardFitter``, refits on every answer.
    checkpoint: ``RunCheckpoint``, ``RunState``, ``WallClock``.

Around it:
    config: ``TrainConfig``; ppo: PPO settings per env; vec_learned_reward, rewards: the
    reward PPO sees; callbacks, evaluate, run_folder, summary, report, video; bc, kl_penalty;
    label_quality, label_quality_figures; lessons; cli (``hfrl train/report/video/demo``).
"""
