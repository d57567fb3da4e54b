"""The ``Config(usage_tracking=...)`` levels, at Parsl's import path. Chervil never sends anything."""
DISABLED = 0
LEVEL_1 = 1
LEVEL_2 = 2
LEVEL_3 = 3
