"""Bad input files, as a clumsy or hostile user writes them (issue 10): every one is refused
in one line naming file:line: key, with exit 2 (render, check) or that packet's own failure
(build), never a traceback, and never with a client's name."""
from __future__ import annotations

import io
import shutil

import pytest

from consentgen import manifest

from .conftest import EXAMPLE, MINIMAL

# MINIMAL's lines: 6 is clinician.name, 7 clinician.credentials; a line added at the end is line 8.
NAME_LINE, END_LINE = 6, 8
CLIENT = "Harriet Quillfeather"        # a fictional client: must appear in no message


def one_line(result, start: str) -> str:
    """The single error line of a refused run (exit 2), checked to start with ``start``."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(start), lines[0]
    return lines[0]


def profile(tmp_path, text: str | bytes, name: str = "p.yaml"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def render(cli, path, tmp_path, *formats: str):
    fmt = [a for f in (formats or ("pdf", "docx")) for a in ("--format", f)]
    return cli("render", path, "--doc", "contact", *fmt, "-o", tmp_path / "out")


def check_line(cli, path, start: str) -> str:
    """``check`` on a profile that is not valid: exit 2 and one line on stderr."""
    result = cli("check", path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(start), line
    return line


# ---- F1, F2: values PyYAML recognises but cannot build --------------------------------------

@pytest.mark.parametrize("value, reason", [
    ("2026-02-30", "day is out of range for month"),
    ("2026-13-01", "month must be in 1..12"),
    ("2026-01-01 25:00:00", "hour must be in 0..23"),
])
def test_f1_an_impossible_date_is_one_line_in_render_and_check(cli, tmp_path, value, reason):
    path = profile(tmp_path, MINIMAL + f"effective_date: {value}\n")
    start = f"{path}:{END_LINE}: effective_date: not a real date ({reason}); use YYYY-MM-DD"
    one_line(render(cli, path, tmp_path), f"error: {start}")
    check_line(cli, path, start)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("key, line, old, new", [
    ("policies.therapy.session_minutes", 10, None, "1" + "0" * 5000),
    ("policies.therapy.session_minutes", 10, None, "0x" + "f" * 4000),     # 4,800 digits once converted
    ("practice.phone", 4, '"555-0100"', "1" + "0" * 5000),                  # a number given for text
])
def test_f2_a_number_past_pythons_digit_limit_is_one_line(cli, tmp_path, key, line, old, new):
    text = MINIMAL.replace(old, new) if old else MINIMAL + f"policies:\n  therapy:\n    session_minutes: {new}\n"
    path = profile(tmp_path, text)
    start = f"{path}:{line}: {key}: a number of more than 50 characters; if it is text, put it in quotes"
    one_line(render(cli, path, tmp_path), f"error: {start}")
    check_line(cli, path, start)


# ---- F3, F15: control and damaged characters in profile text ---------------------------------

def test_f3_word_line_break_and_tab_in_a_name_become_spaces(cli, tmp_path):
    import docx

    path = profile(tmp_path, MINIMAL.replace("name: Robin Test", 'name: "Robin\\vTest"')
                   .replace("credentials: LPC", 'credentials: "MA,\\tLPC\\u2028"'))
    result = render(cli, path, tmp_path)
    assert result.exit_code == 0, result.output
    word = docx.Document(io.BytesIO((tmp_path / "out" / "robin-test-contact.docx").read_bytes()))
    assert word.core_properties.author == "Robin Test, MA, LPC"
    assert "invalid" not in cli("check", path).stdout


def test_f3_a_raw_word_line_break_in_the_file_becomes_a_space(cli, tmp_path):
    path = profile(tmp_path, MINIMAL.replace("name: Robin Test", "name: Robin\x0bTest"))
    result = render(cli, path, tmp_path, "docx")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "robin-test-contact.docx").is_file()


def test_f3_paragraph_breaks_in_a_note_are_kept_as_line_breaks(tmp_path):
    from consentgen.profiles import load_profile

    path = profile(tmp_path, MINIMAL + 'policies:\n  breaks:\n    note: "One.\\vTwo.\\u2029Three.\\r\\nFour.\\t "\n')
    assert load_profile(path).profile.policies.breaks.note == "One.\nTwo.\n\nThree.\nFour."


@pytest.mark.parametrize("escape, key, words", [
    ("\\x92", "clinician.name", "U+0092 (character 6), a control character; it is often a mis-decoded "
                                "apostrophe: retype it as ’ or '"),
    ("\\x00", "clinician.name", "U+0000 (character 6), a NUL character"),
    ("\\x85", "clinician.name", "U+0085 (character 6), a control character; it is often a mis-decoded ellipsis"),
    ("\\x07", "clinician.credentials", "U+0007 (character 3), a control character: delete it"),
    ("\\uFFFD", "clinician.credentials", "U+FFFD (character 3), the replacement character"),
    ("\\uF0B7", "clinician.name", "U+F0B7 (character 6), a private-use character"),
])
def test_f3_f15_a_refused_character_names_file_line_key_and_the_fix(cli, tmp_path, escape, key, words):
    field = "name: Robin Test" if key == "clinician.name" else "credentials: LPC"
    new = field.replace("Robin Test", f'"Robin{escape}"') if key == "clinician.name" else f'credentials: "LP{escape}"'
    path = profile(tmp_path, MINIMAL.replace(field, new))
    line = NAME_LINE if key == "clinician.name" else NAME_LINE + 1
    msg = one_line(render(cli, path, tmp_path), f"error: {path}:{line}: {key}: contains {words}")
    assert "installed font" not in msg and "\ufffd" not in msg and not any(c in msg for c in "\x00\x07\x85\x92")
    check_line(cli, path, f"{path}:{line}: {key}: contains U+")


def test_f15_a_raw_c1_character_in_the_file_names_line_and_key(cli, tmp_path):
    # Text copied through a Latin-1 decoder: Windows' apostrophe (0x92) arrives as U+0092.
    path = profile(tmp_path, MINIMAL.replace("Robin Test", "Robin\x92s Place"))
    one_line(render(cli, path, tmp_path), f"error: {path}:{NAME_LINE}: clinician.name: contains U+0092, "
                                          "a control character; it is often a mis-decoded apostrophe")


@pytest.mark.parametrize("data, line, words", [
    (MINIMAL.encode().replace(b"Robin", b"Rob\xed\xa0\x80in"), NAME_LINE, "not UTF-8 text: byte 0xED"),   # a lone surrogate
    (MINIMAL.encode().replace(b"Robin", b"Rob\x92in"), NAME_LINE, "not UTF-8 text: byte 0x92 cannot be read "
                                                                   "(in Windows text it is ’)"),
    (MINIMAL.encode("utf-16"), 1, "saved as UTF-16 text; save it as UTF-8"),
])
def test_bytes_that_are_not_utf8_name_their_line(cli, tmp_path, data, line, words):
    path = profile(tmp_path, data)
    one_line(render(cli, path, tmp_path), f"error: {path}:{line}: {words}")


def test_an_escaped_lone_surrogate_names_line_and_key(cli, tmp_path):
    path = profile(tmp_path, MINIMAL.replace("name: Robin Test", 'name: "Robin\\uD800"'))
    one_line(render(cli, path, tmp_path), f"error: {path}:{NAME_LINE}: clinician.name: invalid YAML:")


# ---- F13: each text field has a length that suits it ------------------------------------------

def test_f13_a_long_crisis_service_name_is_refused_by_the_schema(cli, tmp_path):
    text = MINIMAL + "emergency:\n  crisis_lines:\n    - name: " + "Crisis line " * 162 + "\n      number: '988'\n"
    path = profile(tmp_path, text)
    one_line(render(cli, path, tmp_path),
             f"error: {path}:10: emergency.crisis_lines[0].name: too long: 1943 characters (at most 120)")


@pytest.mark.parametrize("key, line, text, limit", [
    ("clinician.name", 4, "clinician:\n  name: VALUE\n", 120),
    ("practice.phone", 2, "practice: {name: P, phone: 'VALUE'}\nclinician: {name: N}\n", 40),
    ("policies.fees.services[0].name", 7, "policies:\n  fees:\n    services:\n      - {name: VALUE, fee: 1}\n", 200),
    ("clinician.education", 5, "clinician:\n  name: N\n  education: VALUE\n", 2000),
    ("policies.breaks.note", 6, "policies:\n  breaks:\n    note: VALUE\n", 4000),
])
def test_f13_per_field_limits_are_reported_with_file_line_key(tmp_path, key, line, text, limit):
    from consentgen.errors import ProfileError
    from consentgen.profiles import load_profile

    base = "schema: 1\n" + ("" if text.startswith("practice") else "practice: {name: P}\n")
    base += "" if "clinician" in text else "clinician: {name: N}\n"
    load_profile(profile(tmp_path, base + text.replace("VALUE", "x" * limit), "ok.yaml"))
    bad = profile(tmp_path, base + text.replace("VALUE", "x" * (limit + 1)), "bad.yaml")
    with pytest.raises(ProfileError) as info:
        load_profile(bad)
    assert info.value.errors == (f"{bad}:{line}: {key}: too long: {limit + 1} characters (at most {limit})",)


# ---- YAML that is not a profile at all ----------------------------------------------------------

HOSTILE = {
    "a list": ("- a\n- b\n", ":1: a profile must be a mapping"),
    "a scalar": ("hello\n", ":1: a profile must be a mapping"),
    "two documents": (MINIMAL + "---\n" + MINIMAL, ":8: a profile is one YAML document; a second one ('---')"),
    "10,000 nested lists": ("schema: 1\npractice: " + "[" * 10_000 + "]" * 10_000 + "\n", ":2"),
    "10,000 nested mappings": ("a: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n", ":1: a.a.a"),
    "empty": ("", ":1: file is empty"),
    "only comments": ("# nothing yet\n", ":1: file is empty"),
    "a repeated key": (MINIMAL + "schema: 1\n", ":8: schema: this key appears twice"),
    "a python tag": (MINIMAL + "x: !!python/object/apply:os.system ['true']\n", ":8: x: unsupported value: tag"),
    "a binary value": (MINIMAL.replace("LPC", "!!binary TFBD"), ":7: clinician.credentials: unsupported value: "
                                                              "tag '!!binary' is not allowed"),
    "a set": (MINIMAL + "packet: !!set {contact}\n", ":8: packet: unsupported value: tag '!!set'"),
    "a key with a line break": (MINIMAL + '"poli\\ncies": {}\n', ":8: a key must be plain text; this one contains "
                                                                 "U+000A"),
    "a very long key": (MINIMAL + "k" * 500 + ": 1\n", ":8: a key must be plain text of at most 100 characters"),
    "a JPEG named .yaml": (b"\xff\xd8\xff\xe0" + bytes(range(256)), ":1: not UTF-8 text: byte 0xFF"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_yaml_that_is_no_profile_is_refused_in_one_line(cli, tmp_path, case):
    text, expected = HOSTILE[case]
    path = profile(tmp_path, text)
    one_line(render(cli, path, tmp_path), f"error: {path}{expected}")
    check_line(cli, path, f"{path}{expected}")


def test_a_50_mb_file_is_refused_before_it_is_read(cli, tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.write(MINIMAL.encode())
        f.truncate(50 * 1024 * 1024)
    one_line(render(cli, path, tmp_path), f"error: {path}: file is larger than 512 KiB")


@pytest.mark.parametrize("value", ['"lic\\nensed"', f'"{CLIENT}"'])
def test_text_given_for_a_choice_is_never_repeated(cli, tmp_path, value):
    # A line break would split the message; a client's name pasted into a profile must not reach it.
    path = profile(tmp_path, MINIMAL + f"  status: {value}\n")
    msg = one_line(render(cli, path, tmp_path), f"error: {path}:8: clinician.status: expected 'licensed'")
    assert msg.endswith("'associate' or 'trainee'") and "ensed'" not in msg.replace("'licensed'", "")
    assert "Harriet" not in msg


def test_a_logo_path_with_a_nul_is_refused_by_the_schema(cli, tmp_path):
    path = profile(tmp_path, MINIMAL.replace("practice:\n", 'practice:\n  branding: {logo: "logo\\0.png"}\n'))
    one_line(render(cli, path, tmp_path), f"error: {path}:3: practice.branding.logo: contains U+0000")


# ---- practice builds: a bad file fails only its own packets ----------------------------------

@pytest.fixture
def practice(tmp_path):
    """The example practice, each packet cut to one handout (the build behaviour is what is tested)."""
    copy = shutil.copytree(EXAMPLE, tmp_path / "practice")
    for layer in [copy / "practice.yaml", *(copy / "clinicians").glob("*.yaml")]:
        lines = ["packet: [contact]" if line.startswith("packet:") else line for line in layer.read_text().splitlines()]
        layer.write_text("\n".join(lines) + "\n")
    return copy


def failures(result) -> list[str]:
    assert "Traceback" not in result.output
    return [line.removeprefix("failed: ") for line in result.stderr.splitlines() if line.startswith("failed:")]


def test_f1_in_build_a_bad_date_fails_only_that_clinicians_packet(cli, practice, tmp_path):
    samuel = practice / "clinicians" / "samuel-okafor.yaml"
    text = samuel.read_text() + "effective_date: 2026-02-30\n"
    samuel.write_text(text)
    out = tmp_path / "dist"
    result = cli("build", practice, "-o", out, "--format", "pdf", "-q", "--jobs", "1")
    assert result.exit_code == 1, result.output
    assert failures(result) == [f"{samuel}:{len(text.splitlines())}: effective_date: not a real date "
                                "(day is out of range for month); use YYYY-MM-DD, or quotes if it is text"]
    built = {r.path.split("/")[0] for r in manifest.load(out)}
    assert built == {"ana-nunez", "wren-kowalski"}


def test_f3_in_build_word_breaks_build_and_a_c1_character_fails_alone(cli, practice, tmp_path):
    ana, wren = practice / "clinicians" / "ana-nunez.yaml", practice / "clinicians" / "wren-kowalski.yaml"
    ana.write_text(ana.read_text().replace("name: Ana Núñez", 'name: "Ana\\vNúñez"')
                   .replace("credentials: MA, LMFT", 'credentials: "MA,\\vLMFT"'))
    lines = wren.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  name:"))
    lines[at] = '  name: "Wren\\x92s"'
    wren.write_text("\n".join(lines) + "\n")
    out = tmp_path / "dist"
    result = cli("build", practice, "-o", out, "--format", "pdf", "--format", "docx", "-q", "--jobs", "1")
    assert result.exit_code == 1, result.output
    assert failures(result) == [f"{wren}:{at + 1}: clinician.name: contains U+0092 (character 5), a control "
                                "character; it is often a mis-decoded apostrophe: retype it as ’ or '"]
    built = {r.path for r in manifest.load(out)}
    assert {"ana-nunez/contact.docx", "samuel-okafor/contact.pdf"} <= built
    assert not any(p.startswith("wren-kowalski/") for p in built)


# ---- the roster: line, column and client id, never a cell ---------------------------------------

def roster(tmp_path, text: str | bytes):
    path = tmp_path / "clients.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def build_roster(cli, practice, tmp_path, path):
    result = cli("build", practice, "-o", tmp_path / "dist", "--roster", path, "--format", "pdf", "-q", "--jobs", "1")
    assert "Traceback" not in result.output
    for part in (CLIENT, *CLIENT.split()):
        assert part not in result.output, result.output
    return result


def test_f10_a_roster_without_its_header_never_shows_the_first_row(cli, practice, tmp_path):
    path = roster(tmp_path, f"{CLIENT},c-1,ana-nunez\n")
    result = build_roster(cli, practice, tmp_path, path)
    one_line(result, f"error: {path}:1: the first line must be the header (client_id, clinician, client_name, "
                     "date, language, second_signer): column 1 is not one of them")


def test_f10_shifted_columns_fail_the_row_without_showing_the_cell(cli, practice, tmp_path):
    path = roster(tmp_path, f"client_id,clinician,client_name\nc-1,{CLIENT},ana-nunez\nc-2,ana-nunez,Bo Fine\n")
    result = build_roster(cli, practice, tmp_path, path)
    assert result.exit_code == 1
    assert failures(result) == [f"{path}:2: clinician: no clinician with that id in this practice "
                                "(known: ana-nunez, samuel-okafor, wren-kowalski); row skipped"]
    assert (tmp_path / "dist" / "ana-nunez" / "c-2" / "contact.pdf").is_file()


@pytest.mark.parametrize("row, column, words", [
    (f"c-1,ana-nunez,{CLIENT}\x92s", "client_name", "contains U+0092 (character 21), a control character"),
    (f"c-1,ana-nunez,{CLIENT}\x00", "client_name", "contains U+0000 (character 21), a NUL character"),
    (f"c-1,ana-nunez,{CLIENT * 7}", "client_name", "too long: 140 characters (at most 120)"),
    (f"c-1,ana-nunez,{CLIENT},{CLIENT}", "language", "not available (available: en)"),
])
def test_f10_a_bad_cell_names_line_and_column_only(cli, practice, tmp_path, row, column, words):
    path = roster(tmp_path, f"client_id,clinician,client_name,language\n{row}\nc-2,wren-kowalski,\n")
    result = build_roster(cli, practice, tmp_path, path)
    assert result.exit_code == 1
    (failure,) = failures(result)
    assert failure.startswith(f"{path}:2: {column}: {words}") and failure.endswith("; row skipped")
    assert (tmp_path / "dist" / "wren-kowalski" / "c-2" / "contact.pdf").is_file()


def test_a_word_line_break_in_a_client_name_becomes_a_space(tmp_path):
    from consentgen.roster import read_roster

    path = roster(tmp_path, 'client_id,clinician,client_name\nc-1,ana-nunez,"Harriet\x0bQuillfeather"\nc-2,ana-nunez,Bo\n')
    clients, problems = read_roster(path, {"ana-nunez"})
    assert problems == [] and [(c.line, c.name) for c in clients] == [(2, CLIENT), (3, "Bo")]


@pytest.mark.parametrize("text, line, words", [
    (f'client_id,clinician,client_name\nc-1,ana-nunez,"{CLIENT}\nc-2,ana-nunez,Bo\n', 2,
     'malformed CSV: a quoted cell that starts in this row is never closed'),
    (f'client_id,clinician,client_name\nc-1,ana-nunez,Bo\nc-2,ana-nunez,"{CLIENT}\n', 3,
     'malformed CSV: a quoted cell that starts in this row is never closed'),
    (f"client_id,clinician,client_name\nc-1,ana-nunez,{CLIENT}\x92s\n".encode("latin-1"), 2,
     "not UTF-8 text: byte 0x92 cannot be read (in Windows text it is \u2019); save the file as 'CSV UTF-8'"),
    (f"client_id;clinician;client_name\nc-1;ana-nunez;{CLIENT}\n", 1,
     "the first line must be the header"),
])
def test_a_roster_that_cannot_be_read_names_the_right_line(cli, practice, tmp_path, text, line, words):
    path = roster(tmp_path, text)
    one_line(build_roster(cli, practice, tmp_path, path), f"error: {path}:{line}: {words}")


# ---- more of the input path ---------------------------------------------------------------------

def test_a_quote_never_closed_is_reported_where_it_opens(cli, tmp_path):
    path = profile(tmp_path, MINIMAL.replace("name: Robin Test", 'name: "Robin Test'))
    one_line(render(cli, path, tmp_path), f"error: {path}:{NAME_LINE}: clinician.name: invalid YAML:")


def test_a_long_number_given_for_short_text_is_measured_not_crashed_on(cli, tmp_path):
    path = profile(tmp_path, MINIMAL.replace('"555-0100"', "0x" + "f" * 40))     # kept as typed, not converted
    one_line(render(cli, path, tmp_path), f"error: {path}:4: practice.phone: too long: 42 characters (at most 40)")


def test_a_path_whose_folder_name_is_too_long_is_one_line(cli, tmp_path):
    path = tmp_path / ("x" * 300) / "clinicians" / "a.yaml"
    one_line(cli("render", path, "-o", tmp_path / "out"), f"error: {path}: cannot read: File name too long")
    check_line(cli, path, f"{path}: cannot read: File name too long")


@pytest.mark.parametrize("value, words", [(f"!!int {CLIENT}", "not a whole number"),
                                          (f"!!timestamp {CLIENT}", "not a date; use YYYY-MM-DD")])
def test_a_value_pyyaml_cannot_build_is_not_quoted(cli, tmp_path, value, words):
    # int()'s own message would quote the value; a profile's text is never repeated.
    path = profile(tmp_path, MINIMAL + f"effective_date: {value}\n")
    msg = one_line(render(cli, path, tmp_path), f"error: {path}:{END_LINE}: effective_date: {words}")
    assert "Harriet" not in msg


# ---- YAML 1.1's number forms: no silent change to what the therapist typed -------------------

def test_a_leading_zero_or_a_colon_keeps_the_text_as_typed(tmp_path):
    from consentgen.profiles import load_profile

    # YAML 1.1 reads 0123 as octal (83) and 9:30 as base 60 (570): a license number or a
    # phone extension would print changed, with no error at all.
    for typed in ("0123", "12:34"):
        path = profile(tmp_path, MINIMAL + f"  license: {{type: LPC, number: {typed}, state: CO}}\n")
        assert load_profile(path).profile.clinician.license.number == typed


def test_yes_no_on_off_stay_text_where_text_is_wanted_and_answer_a_yes_no_key(tmp_path):
    from consentgen.profiles import load_profile

    # YAML 1.1 reads ON (Ontario), NO (Norway) and Yes as true or false: text would print as "True".
    path = profile(tmp_path, MINIMAL + "  training: ON\npolicies:\n  contact:\n    channels:\n"
                   "      portal: {use: scheduling, reply_within: 1 day, private: yes}\n")
    loaded = load_profile(path).profile
    assert loaded.clinician.training == "ON"
    assert loaded.policies.contact.channels.portal.private is True


def test_a_base_60_or_hex_number_for_a_count_is_refused_not_converted(cli, tmp_path):
    for value in ("1:30", "0x10"):
        path = profile(tmp_path, MINIMAL + f"policies:\n  termination: {{notice_sessions: {value}}}\n")
        line = check_line(cli, path, f"{path}:9: policies.termination.notice_sessions: expected a whole number")
        assert value not in line


def test_a_direction_override_in_a_profile_value_is_refused(cli, tmp_path):
    # U+202E shows "Robin Test" reversed after it: a name or a phone number could read as another.
    path = profile(tmp_path, MINIMAL.replace("name: Robin Test", 'name: "Robin \\u202eTest"'))
    line = check_line(cli, path, f"{path}:{NAME_LINE}: clinician.name: contains U+202E (character 7), an invisible "
                                 "control that changes the order text is shown in")
    assert "Robin" not in line


@pytest.mark.parametrize("name", ["Harriet \u202eQuillfeather", "Harriet \udcffQuillfeather", "\x00"])
def test_client_name_option_goes_through_the_same_gate_and_is_never_echoed(cli, tmp_path, name):
    path = profile(tmp_path, MINIMAL)
    result = cli("render", path, "--doc", "contact", "--client-name", name, "-o", tmp_path / "out")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Invalid value for '--client-name': contains U+" in result.stderr
    assert "Harriet" not in result.output and "Quillfeather" not in result.output
    assert not (tmp_path / "out").exists()


def test_client_ids_that_no_folder_can_hold_or_that_clash_by_case_are_refused(tmp_path):
    from consentgen.roster import read_roster

    path = roster(tmp_path, "client_id,clinician,client_name\n"
                            f"con,ana-nunez,{CLIENT}\nC-7,ana-nunez,{CLIENT}\nc-7,ana-nunez,{CLIENT}\n")
    clients, problems = read_roster(path, {"ana-nunez"})
    assert [c.client_id for c in clients] == ["C-7"]
    assert problems == [
        f"{path}:2: client_id: 'con' is a name Windows keeps for a device, so no folder can have it; use another; "
        "row skipped",
        f"{path}:4: client_id: 'c-7' is used twice (first on line 3); row skipped"]


def test_a_logo_in_a_folder_that_may_not_be_read_is_one_line(cli, tmp_path, monkeypatch):
    import errno
    import pathlib

    real = pathlib.Path.is_file

    def is_file(self):          # as root, chmod cannot make a folder unreadable: the kernel's refusal, simulated
        if "locked" in self.parts:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(self)

    monkeypatch.setattr(pathlib.Path, "is_file", is_file)
    path = profile(tmp_path, MINIMAL.replace("  phone:", "  branding: {logo: locked/logo.png}\n  phone:", 1))
    one_line(render(cli, path, tmp_path, "pdf"),
             f"error: {path}:4: practice.branding.logo: the image cannot be read (Permission denied)")


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_a_logo_that_is_no_usable_image_is_one_line_at_its_key(cli, tmp_path, fmt):
    from PIL import Image

    good = (EXAMPLE / "logo.png").read_bytes()
    gif = tmp_path / "gif"
    Image.new("RGB", (40, 20)).save(gif, format="GIF")
    cases = {b"Our logo is on the shared drive\n": "is not a PNG or JPEG image",
             good[:100]: "is damaged or cut short",
             gif.read_bytes(): "is a GIF image; use a PNG or JPEG"}
    path = profile(tmp_path, MINIMAL.replace("  phone:", "  branding: {logo: logo.png}\n  phone:", 1))
    for data, problem in cases.items():
        (tmp_path / "logo.png").write_bytes(data)
        one_line(render(cli, path, tmp_path, fmt), f"error: {path}:4: practice.branding.logo: the image {problem}")


def test_a_missing_logo_or_unknown_packet_document_is_not_repeated_back(cli, tmp_path):
    # Found by the long fuzz run: a profile value equal to the client's name reached the error.
    name = "Ossfengerdov Fenyardovger"                                     # fictional
    path = profile(tmp_path, MINIMAL.replace("  phone:", f'  branding: {{logo: "{name}"}}\n  phone:', 1))
    result = cli("render", path, "--doc", "contact", "--client-name", name, "-o", tmp_path / "out")
    assert "Ossfengerdov" not in one_line(result, f"error: {path}:4: practice.branding.logo: no such image file")
    path = profile(tmp_path, MINIMAL + "packet: [contact, ossfengerdov]\n")
    assert "ossfengerdov" not in one_line(cli("render", path, "-o", tmp_path / "out"),
                                          f"error: {path}:8: packet[1]: no such document")
