"""Repository-wide pytest settings (applies to tests/ and plugins/*/tests)."""

from hypothesis import settings

# Property tests measure correctness, not speed: on a loaded 2-core CI machine a per-example
# deadline only produces flaky failures. Speed lives in benchmarks/.
settings.register_profile("fusionbench", deadline=None)
settings.load_profile("fusionbench")

# Tests exercise the training paths: the checkpoints the plugins ship for the embedded datasets
# are only used where a test asks for them (it deletes this variable).
import os  # noqa: E402

os.environ.setdefault("FUSIONBENCH_NO_SHIPPED_CHECKPOINTS", "1")
