"""Model-facing tools: read, list, search, edit / write / delete / rename → patch, run_command."""

from gdm.tools.base import ToolRegistry
from gdm.tools.code import CodeMapTool, FileOutline, FindReferences, FindSymbol
from gdm.tools.edit import EditFile, WriteFile
from gdm.tools.fileops import DeleteFile, RenameFile
from gdm.tools.files import ListFiles, ReadFile
from gdm.tools.search import Search
from gdm.tools.shell import RunCommand


def default_tools(*, read_only: bool = False, shell: bool = False) -> ToolRegistry:
    """The tools of DESIGN.md: only the reading ones if `read_only`; `run_command` too if `shell`."""
    readers = [ReadFile(), ListFiles(), Search()]
    readers += [CodeMapTool(), FindSymbol(), FindReferences(), FileOutline()]
    if read_only:
        return ToolRegistry(readers)
    return ToolRegistry([*readers, EditFile(), WriteFile(), DeleteFile(), RenameFile(), *([RunCommand()] if shell else [])])
