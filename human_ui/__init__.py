"""human_ui."""
