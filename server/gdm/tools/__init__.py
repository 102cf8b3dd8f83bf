"""Model-facing tools: read, list, search, edit → patch."""

from gdm.tools.base import ToolRegistry
from gdm.tools.edit import EditFile, WriteFile
from gdm.tools.files import ListFiles, ReadFile
from gdm.tools.search import Search


def default_tools() -> ToolRegistry:
    """The tools of DESIGN.md that the engine offers every task."""
    return ToolRegistry([ReadFile(), ListFiles(), Search(), EditFile(), WriteFile()])
