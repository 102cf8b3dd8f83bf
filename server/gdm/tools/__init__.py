"""Model-facing tools: read, list, search, edit / write / delete / rename → patch, run_command.

The tools are imported when a registry is first built: `gdm.tools.base` (what the LSP side needs
to answer approvals) must not pull the code map and tree-sitter in before `initialize` is answered.
"""

from gdm.tools.base import ToolRegistry


def default_tools(*, read_only: bool = False, shell: bool = False) -> ToolRegistry:
    """The tools of DESIGN.md: only the reading ones if `read_only`; `run_command` too if `shell`."""
    from gdm.tools.code import CodeMapTool, FileOutline, FindReferences, FindSymbol  # noqa: PLC0415
    from gdm.tools.edit import EditFile, WriteFile  # noqa: PLC0415
    from gdm.tools.fileops import DeleteFile, RenameFile  # noqa: PLC0415
    from gdm.tools.files import ListFiles, ReadFile  # noqa: PLC0415
    from gdm.tools.search import Search  # noqa: PLC0415
    from gdm.tools.shell import RunCommand  # noqa: PLC0415

    readers = [ReadFile(), ListFiles(), Search()]
    readers += [CodeMapTool(), FindSymbol(), FindReferences(), FileOutline()]
    if read_only:
        return ToolRegistry(readers)
    return ToolRegistry([*readers, EditFile(), WriteFile(), DeleteFile(), RenameFile(), *([RunCommand()] if shell else [])])
