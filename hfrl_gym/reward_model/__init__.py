"""hfrl_gym/reward_model."""
