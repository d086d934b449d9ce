"""Repository-wide pytest settings (applies to tests/ and plugins/*/tests)."""

from hypothesis import settings

# Property tests measure correctness, not speed: on a loaded 2-core CI machine a per-example
# deadline only produces flaky failures. Speed lives in benchmarks/.
settings.register_profile("fusionbench", deadline=None)
settings.load_profile("fusionbench")
