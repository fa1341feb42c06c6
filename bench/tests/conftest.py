import sys
from pathlib import Path

# The benchmark scripts run as plain scripts from bench/ and import their helper modules by that
# folder, so the tests put it on the path the same way.
sys.path.insert(0, str(Path(__file__).parents[1]))
