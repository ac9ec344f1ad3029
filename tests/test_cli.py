"""The `toolkit` entry point itself: subcommand dispatch and a closed output pipe."""

import subprocess
import sys

import pytest
from helpers import quadrants

from toolkit.cli import COMMANDS, build_parser, main
from toolkit.cli.args import HelpFormatter
from toolkit.paths import presets


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


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_has_help_and_shows_its_default(name):
    parser = _subcommands(build_parser([name]))[name]
    assert parser.description and "register(" not in parser.description
    options = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    formatter = HelpFormatter(parser.prog)
    for action in options:
        assert action.help, f"{name} --{action.dest} has no help"
        if action.default is not None and action.default is not False:
            assert "default" in formatter._get_help_string(action), action.dest


def test_report_help_lists_the_presets(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    out = capsys.readouterr().out
    assert presets() and all(preset in out for preset in presets()), out


def test_an_unknown_model_suggests_the_closest_names(capsys):
    assert main(["tokens", "1024x1024", "--model", "gpt4o"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'gpt4o' (did you mean 'gpt-4o'" in err


@pytest.mark.parametrize("command", ["request", "batch"])
def test_images_without_a_prompt_are_a_warning_unless_meant(command, write, tmp_path, capsys):
    image = write("photo.jpg", quadrants(), "JPEG")
    out = tmp_path / ("out" if command == "batch" else "body.json")
    argv = [command, str(image), "--model", "gpt-4o", "-o", str(out), "--json"]
    assert main(argv) == 0
    assert "warning: no --prompt" in capsys.readouterr().err
    assert main([*argv, "--no-prompt"]) == 0
    assert capsys.readouterr().err == ""
    assert main([*argv, "--prompt", "Describe"]) == 0
    assert capsys.readouterr().err == ""
