"""Where things are: what ships with the toolkit (rules, notebooks, presets, sample images and
video) and where outputs go (the working folder), wherever the package is installed.

In a source checkout the notebooks and data are the checkout's own folders; a wheel carries
copies of them inside the package (`toolkit/_shipped/`, see pyproject.toml). Outputs never go
beside the code: reports are written to `./reports/` of the working folder.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
RULES_DIR = PACKAGE_DIR / "rules"
# A source checkout holds the package beside its pyproject.toml; an installed wheel does not.
CHECKOUT_DIR = PACKAGE_DIR.parent if (PACKAGE_DIR.parent / "pyproject.toml").is_file() else None
SHIPPED_DIR = CHECKOUT_DIR or PACKAGE_DIR / "_shipped"  # holds notebooks/ and data/
NOTEBOOKS_DIR = SHIPPED_DIR / "notebooks"
PARAMS_DIR = NOTEBOOKS_DIR / "params"
DATA_DIR = SHIPPED_DIR / "data"
SAMPLES_DIR = DATA_DIR / "samples"


def presets() -> list[str]:
    """The names of the report presets in `notebooks/params/` (`toolkit report --preset`)."""
    return sorted(path.stem for path in PARAMS_DIR.glob("*.yaml"))


def reports_dir() -> Path:
    """Where reports go by default: `reports/` in the working folder."""
    return Path.cwd() / "reports"


def input_path(path: str | Path) -> Path:
    """A file or folder a preset or a notebook names: absolute as given; a relative one from
    the working folder when it is there, else from the toolkit's shipped files (so
    `data/samples` is the sample images wherever the toolkit is installed)."""
    path = Path(path).expanduser()
    if path.is_absolute() or path.exists():
        return path.absolute()
    shipped = SHIPPED_DIR / path
    return shipped if shipped.exists() else path.absolute()


def shown_path(path: str | Path) -> str:
    """`path` for a command line typed in the working folder: relative when inside it, else
    absolute."""
    path, here = Path(path).absolute(), Path.cwd()
    return path.relative_to(here).as_posix() if path.is_relative_to(here) else str(path)
