"""Where the shipped files are: the example agreements and the email templates.

In a source checkout they sit at the top level (config/, templates/); an installed wheel
carries them inside the package (workflow/_resources/), so `pip install .` alone works.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGED = Path(__file__).with_name("_resources")
_CHECKOUT = Path(__file__).resolve().parent.parent


def _first_existing(name: str) -> Path:
    for base in (_PACKAGED, _CHECKOUT):
        candidate = base / name
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"trygg is installed without its {name}/ folder")


def config_dir() -> Path:
    return _first_existing("config")


def templates_dir() -> Path:
    return _first_existing("templates")


def shipped_agreements() -> dict[str, Path]:
    """Example agreements shipped with trygg, by name (file name without .yaml)."""
    folder = config_dir() / "agreements"
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def find_agreement_file(name_or_path: str | Path) -> Path:
    """A path as given, or else the shipped agreement of that name ('harnosand-2012-2013')."""
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = shipped_agreements().get(path.name.removesuffix(".yaml"))
    return shipped if shipped is not None else path
