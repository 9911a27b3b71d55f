"""Regenerate ``sample_data/`` from :mod:`axframe.samples` (the single source of the sample files).

Run from the repository root: ``python tools/make_sample_data.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from axframe.samples import write_samples  # noqa: E402


def main() -> int:
    for path in write_samples(ROOT / "sample_data"):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
