"""The `toolkit` entry point itself: subcommand dispatch and a closed output pipe."""

import subprocess
import sys

from helpers import quadrants

from toolkit.cli import COMMANDS, build_parser, main


def _subcommands(parser):
    (subparsers,) = (a for a in parser._actions if a.dest == "command")
    return subparsers.choices


def test_every_subcommand_is_listed_and_only_the_chosen_one_is_configured():
    for name in COMMANDS:
        commands = _subcommands(build_parser([name, "--help"]))
        assert list(commands) == list(COMMANDS)
        configured = [n for n, p in commands.items() if p.get_default("handler")]
        assert configured == [name]


def test_a_reader_that_stops_early_gets_no_traceback():
    code = "import sys; from toolkit.cli import main; sys.exit(main(['models']))"
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        proc.stdout.readline()
        proc.stdout.close()  # like `| head -1`
        stderr = proc.stderr.read().decode()
        returncode = proc.wait()
    assert "Traceback" not in stderr
    assert returncode in (0, 141)


def test_an_output_path_that_cannot_be_written_is_a_clear_error(write, tmp_path, capsys):
    image = write("photo.jpg", quadrants(), "JPEG")
    blocker = write("blocker.txt", b"a file, not a folder")
    assert main(["encode", str(image), "--out", str(blocker / "encoded")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("toolkit encode: error: ") and str(blocker) in err
    assert main(["request", str(image), "--model", "gpt-4o", "-o", str(tmp_path)]) == 2
    assert f"toolkit request: error: {tmp_path}: Is a directory" in capsys.readouterr().err
