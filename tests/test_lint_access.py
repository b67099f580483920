"""Rules L30 (a logo without spoken text) and L31 (an accent colour too light to read), and contrast.py."""
from __future__ import annotations

import base64
import json
import textwrap

import pytest

from consentgen import contrast
from consentgen.errors import display_path

from .linting import line_of, place, run

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def profile(write, tmp_path, branding: str):
    (tmp_path / "logo.png").write_bytes(PNG)
    return write("p.yaml", textwrap.dedent("""\
        schema: 1
        practice:
          name: Test Practice
          phone: "555-0100"
          branding:
        {branding}
        clinician:
          name: Robin Test
          credentials: LPC
        packet: [contact]
        """).format(branding=textwrap.indent(textwrap.dedent(branding).strip(), " " * 4)))


def test_l30_a_logo_without_alt_text(write, tmp_path):
    path = profile(write, tmp_path, "logo: logo.png")
    [found] = run(path, "L30")
    assert place(found) == ("L30", "warning", display_path(path), line_of(path, "logo: logo.png"),
                            "practice.branding.logo")
    assert '"Test Practice logo"' in found.message


@pytest.mark.parametrize("branding", ["logo: logo.png\nlogo_alt: \"Test Practice logo: a lighthouse\"",
                                      "accent_color: \"#2F5D62\""])
def test_l30_quiet_with_alt_text_or_without_a_logo(write, tmp_path, branding):
    assert run(profile(write, tmp_path, branding), "L30") == []


@pytest.mark.parametrize("accent, ratio", [("#FFD700", "1.40"), ("#777777", "4.47"), ("#88CCEE", "1.76")])
def test_l31_an_accent_below_4_5_to_1_on_white(write, tmp_path, accent, ratio):
    path = profile(write, tmp_path, f'accent_color: "{accent}"')
    [found] = run(path, "L31")
    assert place(found) == ("L31", "warning", display_path(path), line_of(path, "accent_color"),
                            "practice.branding.accent_color")
    assert f"{ratio}:1" in found.message
    darker = found.message.split("; ")[1].split(" ")[0]
    assert contrast.ratio(darker, "#FFFFFF") >= 4.5


@pytest.mark.parametrize("accent", ["#767676", "#2F5D62", "#000000"])
def test_l31_quiet_at_4_5_to_1_or_more(write, tmp_path, accent):
    assert run(profile(write, tmp_path, f'accent_color: "{accent}"'), "L31") == []


def test_check_warns_about_both_and_nothing_crashes(write, tmp_path, cli):
    path = profile(write, tmp_path, 'logo: logo.png\naccent_color: "#FFFF00"')
    result = cli("check", "--format", "json", path)
    assert "Traceback" not in result.output
    found = {f["rule"]: f for f in json.loads(result.stdout)["profiles"][0]["findings"]}
    assert found["L30"]["severity"] == found["L31"]["severity"] == "warning"
    assert "#FFFF00 have a contrast of 1.07:1 on white" in found["L31"]["message"]


# -- contrast.py -------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b, expected", [
    ("#000000", "#FFFFFF", 21.0), ("#FFFFFF", "#FFFFFF", 1.0), ("#767676", "#FFFFFF", 4.54),
    ("#2F5D62", "#FFFFFF", 7.34), ("#FFFFFF", "#767676", 4.54)])
def test_ratio_is_wcag_s(a, b, expected):
    assert contrast.ratio(a, b) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("colour", ["#FFD700", "#88CCEE", "#FFFFFF", "#FF0000", "#00FF00"])
def test_readable_is_the_lightest_shade_that_passes(colour):
    shade = contrast.readable(colour)
    assert contrast.ratio(shade, contrast.WHITE) >= 4.5
    lighter = contrast.to_hex(tuple(min(255, c + 3) for c in contrast.parse(shade)))
    assert contrast.ratio(lighter, contrast.WHITE) < 4.5          # not darker than it needs to be


def test_readable_keeps_a_colour_that_passes_and_checks_every_background():
    assert contrast.readable("#2f5d62") == "#2F5D62"
    tint = "#E0E0E0"
    assert contrast.ratio(contrast.readable("#777777", contrast.WHITE, tint), tint) >= 4.5


def test_a_colour_that_is_not_one_is_a_value_error():
    with pytest.raises(ValueError, match="#2F5D62"):
        contrast.parse("teal")
