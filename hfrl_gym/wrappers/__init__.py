"""hfrl_gym/wrappers."""
