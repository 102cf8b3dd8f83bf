"""gdm's code map alone on Django 5.2's sdist (issue 18; NOT yet the side-by-side benchmarks/repo_map.py with Aider).

Usage: pip download --no-deps --no-binary :all: django==5.2.* -d /tmp/codemap-bench, unpack it there,
then python benchmarks/repo_map_quick.py CACHE_DIR (an empty CACHE_DIR = cold; run again = warm).
"""
import sys, time, resource
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from gdm.context.repomap.service import CodeMap
def main():
    root = Path("/tmp/codemap-bench/django-5.2.19"); cache = Path(sys.argv[1])
    t = time.perf_counter(); cm = CodeMap(root, cache_folder=cache); r = cm.map(max_tokens=1024); print("map1", round(time.perf_counter() - t, 2))
    t = time.perf_counter(); r = cm.map(max_tokens=1024); print("in-process again", round(time.perf_counter() - t, 2))
    f = root / "django/db/models/base.py"; s = f.read_text(); f.write_text(s + "\ndef added_fn_xyz(a):\n    return a\n")
    t = time.perf_counter(); r2 = cm.map(max_tokens=1024); print("after one-file edit", round(time.perf_counter() - t, 3))
    f.write_text(s)
    print("peak RSS MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    print("top10", r.files[:10])
if __name__ == "__main__": main()
