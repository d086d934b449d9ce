"""``fusionbench plugins new``: write a complete, installable plugin distribution.

Why templates in files (``templates/``) rather than strings in code: what the author gets is
what a reader of this package sees, and the test suite installs exactly these files in a fresh
virtual environment, checks them and runs them in their task's suite. Placeholders are
``@@name``; every one must be filled (a missing value is an error, not a literal ``@@``).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from ..errors import FusionbenchError
from ..tasks import TASKS, get_task

TEMPLATES = Path(__file__).resolve().parent / "templates"

SUITE_OF_TASK = {"pansharpening": "reduced-res", "mhif": "mhif", "ivf": "ivf", "mif": "mif"}
"""The default suite a new plugin of each task runs in (``fusionbench run --suite``)."""

NAME_RULE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

# What each task's model fuses: ``base`` (what the output starts from) and ``guide`` (whose high
# frequencies are injected), with the shapes and units the task hands out.
_FUSE_BODIES = {
    "pansharpening": (
        '        base = batch.inputs["lms"]    # (B, C, H, W) MS upsampled to PAN size, DN (0..card.max_value)\n'
        '        guide = batch.inputs["pan"]   # (B, 1, H, W) panchromatic band, DN'
    ),
    "mhif": (
        '        base = batch.inputs["hsi_up"]                               # (B, C, H, W) LR-HSI upsampled, reflectance\n'
        '        guide = batch.inputs["hrmsi"].mean(dim=1, keepdim=True)     # (B, 1, H, W) intensity of the HR RGB'
    ),
    "ivf": (
        '        ir, vi = batch.inputs["ir"], batch.inputs["vi"]   # (B, 1, H, W) each, grey levels 0..255\n'
        "        base, guide = 0.5 * (ir + vi), vi                 # the visible image carries the texture"
    ),
    "mif": (
        '        mri, other = batch.inputs["mri"], batch.inputs["other"]   # (B, 1, H, W) each, grey levels 0..255\n'
        "        base, guide = 0.5 * (mri + other), mri                    # the MRI carries the anatomy"
    ),
}


class _Template(string.Template):
    delimiter = "@@"


@dataclass(frozen=True)
class PluginNames:
    """The names a plugin called NAME gets, deliberately all different so a reader sees which
    is which: distribution ``fusionbench-NAME``, entry point ``NAME``, import package
    ``fusionbench_NAME``, model ``NAME-detail``."""

    name: str
    task: str

    @property
    def dist(self) -> str:
        return f"fusionbench-{self.name}"

    @property
    def entry_point(self) -> str:
        return self.name

    @property
    def package(self) -> str:
        return f"fusionbench_{self.name.replace('-', '_')}"

    @property
    def model(self) -> str:
        return f"{self.name}-detail"

    @property
    def class_name(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("-")) + "Detail"

    @property
    def suite(self) -> str:
        return SUITE_OF_TASK[self.task]


def _values(names: PluginNames) -> dict[str, str]:
    task = get_task(names.task)
    size = "inputs[" + repr(task.output_size_from) + "].shape[2:]"
    return {
        "name": names.name,
        "dist": names.dist,
        "entry_point": names.entry_point,
        "package": names.package,
        "model": names.model,
        "class_name": names.class_name,
        "task": names.task,
        "suite": names.suite,
        "description": f"{task.description}: detail-injection baseline",
        "output_shape": f"(B, channels of {task.output_channels_from!r}, size of {task.output_size_from!r})",
        "fuse_body": _FUSE_BODIES[names.task],
        "expected_shape_expr": f"(2, inputs[{task.output_channels_from!r}].shape[1], *{size})",
    }


def _layout(names: PluginNames) -> dict[str, str]:
    """Destination (relative to the plugin folder) of each template."""
    return {
        "pyproject.toml": "pyproject.toml.tmpl",
        "README.md": "README.md.tmpl",
        f"{names.package}/__init__.py": "package/__init__.py.tmpl",
        f"{names.package}/hooks.py": "package/hooks.py.tmpl",
        f"{names.package}/model.py": "package/model.py.tmpl",
        "tests/test_plugin.py": "tests/test_plugin.py.tmpl",
        ".github/workflows/test.yml": "workflow/test.yml.tmpl",
    }


def new_plugin(name: str, task: str, directory: Path | None = None) -> tuple[PluginNames, Path, list[Path]]:
    """Write the plugin NAME for TASK into ``directory`` (default ``./fusionbench-NAME``), which
    must not exist or be empty. Returns the names, the folder and the files written."""
    if not NAME_RULE.match(name):
        raise FusionbenchError(
            f"plugin name {name!r}: use lower-case letters, digits and single hyphens, starting with a letter (e.g. acme-fuse)"
        )
    if name.startswith("fusionbench"):
        raise FusionbenchError(
            f"plugin name {name!r}: leave out 'fusionbench' (the distribution is called fusionbench-NAME)"
        )
    if task not in TASKS:
        raise FusionbenchError(f"unknown task {task!r}; known tasks: {', '.join(sorted(TASKS))}")
    names = PluginNames(name, task)
    folder = Path(directory) if directory is not None else Path.cwd() / names.dist
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise FusionbenchError(f"{folder} exists and is not an empty folder; choose another with --dir")
    values = _values(names)
    written = []
    for target, source in _layout(names).items():
        text = _Template((TEMPLATES / source).read_text(encoding="utf-8")).substitute(values)
        path = folder / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return names, folder, written
