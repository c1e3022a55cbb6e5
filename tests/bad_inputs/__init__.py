"""The table of bad inputs of ``tests/test_bad_inputs.py``, by command."""
