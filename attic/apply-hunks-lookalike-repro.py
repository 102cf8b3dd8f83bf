import sys
sys.path.insert(0,'tests/unit'); sys.path.insert(0,'server')
from test_patches_apply_props import build, make_patch, apply_hunks
base=[]
for i in range(5):
    base += [f"def block_{i}():\n", *[f"    {k} alpha\n" for k in range(8)], "\n"]
replaced={48: ['patch_0 alpha\n']}; inserted={44: ['patch_1 alpha\n'], 46: ['patch_2 alpha\n']}
patch = make_patch(patch_id="p", task_id="t", path="f.py", base_text="".join(base), new_text=build(base, replaced, inserted))
for h in patch.hunks: print(h.index, h.old_start, h.before, h.old_lines, h.new_lines, h.after)
ur={1: [], 10: ['user_0 alpha\n'], 20: []}
ui={29: ['user_1 alpha\n'],30: ['user_2 alpha\n'],31: ['user_3 alpha\n'],33: ['user_4 alpha\n', 'user_5 alpha\n'],40: ['user_6 alpha\n'],41: ['user_7 alpha\n']}
ui[40] = ui[40] + [f"user_typed_{k}\n" for k in range(4)]
current = build(base, ur, ui)
r = apply_hunks(patch, current)
print(r.applied)
exp = build(base, ur, ui, [h for h in patch.hunks if h.index in r.applied])
import difflib
print(''.join(difflib.unified_diff(exp.splitlines(1), r.text.splitlines(1), 'expected','got')))
