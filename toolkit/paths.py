"""Project folders, anchored on the package location, never on the working directory."""

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_DIR / "data"
SAMPLES_DIR = DATA_DIR / "samples"
NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"
PARAMS_DIR = NOTEBOOKS_DIR / "params"
REPORTS_DIR = PROJECT_DIR / "reports"
INTERACTIVE_DIR = REPORTS_DIR / "interactive"  # where a notebook run by hand writes
RULES_DIR = Path(__file__).resolve().parent / "rules"


def presets() -> list[str]:
    """The names of the report presets in `notebooks/params/` (`toolkit report --preset`)."""
    return sorted(path.stem for path in PARAMS_DIR.glob("*.yaml"))
