"""Stand-in for ``ayx.Package``: records installs, never installs anything."""

from __future__ import annotations

from typing import Any

installs: list[tuple[list[str], str | None]] = []


def installPackages(package: Any, install_type: Any = None, debug: Any = None) -> None:
    """Record a ``pip install`` the real tool would run with Designer's Python."""
    if isinstance(package, str):
        names = package.split(" ")
    elif isinstance(package, list) and all(isinstance(p, str) for p in package):
        names = list(package)
    else:
        raise TypeError("Package name argument must be a string or list of strings.")
    if install_type is not None and not isinstance(install_type, (str, list)):
        raise TypeError("install_type must be a string or list of strings")
    installs.append((names, install_type if isinstance(install_type, str) or install_type is None
                     else " ".join(install_type)))
