"""The output folder under stress, as a practice manager would meet it (issue 10).

A folder it may not write (F4), a full disk (F5), damaged bookkeeping (F6),
a doctored manifest (F7), two builds at once (F8), a name guessed from what
OUT holds (F11), file modes (F14), awkward clinician file names, kills at
chosen moments, and bugs met while building. Each test checks what a user
sees: the exit code, one line, files on disk, what ``verify`` says.
"""
from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import zipfile

import pikepdf
import pytest

import consentgen
from consentgen import manifest

from .conftest import EXAMPLE

PDF = ("--format", "pdf", "-q", "--jobs", "1")
NAMES = {"c-1": ("ana-nunez", "Quinn Avery"), "c-2": ("wren-kowalski", "Mei Hollander")}   # fictional


@pytest.fixture(autouse=True)
def private_key_file(tmp_path, monkeypatch):
    """The state's key in a folder of this test's own, never the tester's ~/.config."""
    path = tmp_path / "config" / "consentgen" / "key"
    monkeypatch.setenv("CONSENTGEN_STATE_KEY_FILE", str(path))
    return path


def small_practice(folder):
    """The example practice with two clinicians and a three-document packet: quick to build."""
    copy = shutil.copytree(EXAMPLE, folder)
    (copy / "clinicians" / "samuel-okafor.yaml").unlink()
    for layer in [copy / "practice.yaml", *(copy / "clinicians").glob("*.yaml")]:
        lines = ["packet: [contact]" if line.startswith("packet:") else line for line in layer.read_text().splitlines()]
        layer.write_text("\n".join(lines) + "\n")
    return copy


@pytest.fixture
def practice(tmp_path):
    return small_practice(tmp_path / "practice")


def edit(practice):
    """A change to the practice file that every packet shows."""
    layer = practice / "practice.yaml"
    layer.write_text(layer.read_text().replace('phone: "555-0100"', 'phone: "555-0199"', 1))


def snapshot(out) -> dict[str, bytes]:
    """Every file in OUT but its bookkeeping: path -> bytes."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and ".consentgen" not in p.relative_to(out).parts}


def outputs_on_disk(out) -> set[str]:
    return set(snapshot(out)) - {"manifest.json"}


def packet_of(snap: dict[str, bytes], key: str) -> dict[str, bytes]:
    return {p: data for p, data in snap.items() if p.rsplit("/", 1)[0] == key}


def assert_one_line(result, code):
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and result.stderr.strip() == errors[0], result.stderr
    return errors[0]


def verify_lines(cli, out):
    result = cli("verify", out)
    assert "Traceback" not in result.output
    return result, result.stderr.splitlines()


# -- F4: a folder consentgen may not write ----------------------------------------------------

WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


@pytest.fixture
def read_only(monkeypatch):
    """Make a folder read-only, as `chmod -R a-w` does; as root (whom chmod cannot stop), the kernel's
    answer is given in its place: every change under the folder fails with EACCES."""
    restore = []

    def make(folder):
        if os.geteuid() != 0:
            for path in [folder, *folder.rglob("*")]:
                restore.append((path, path.stat().st_mode))
                path.chmod(path.stat().st_mode & ~0o222)
            return
        root = str(folder.resolve())

        def inside(path) -> bool:
            if isinstance(path, int):
                return False
            return os.path.abspath(os.fsdecode(path)) == root or os.path.abspath(os.fsdecode(path)).startswith(root + os.sep)

        def deny(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))

        real_open = os.open

        def fake_open(path, flags, *args, **kwargs):
            if flags & WRITING and inside(path):
                deny(path)
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", fake_open)
        for name in ("mkdir", "unlink", "remove", "rmdir", "rename", "replace", "link", "symlink"):
            real = getattr(os, name)

            def fake(src, *args, _real=real, **kwargs):
                if inside(src) or (args and isinstance(args[0], (str, bytes, os.PathLike)) and inside(args[0])):
                    deny(src)
                return _real(src, *args, **kwargs)

            monkeypatch.setattr(os, name, fake)

    yield make
    for path, mode in reversed(restore):
        path.chmod(mode)


def test_build_into_a_read_only_folder_is_one_line_and_writes_nothing(cli, practice, tmp_path, read_only):
    out = tmp_path / "handouts"
    out.mkdir()
    read_only(out)
    result = cli("build", practice, "-o", out, *PDF)
    line = assert_one_line(result, 2)
    assert "handouts" in line and "Permission denied" in line
    assert list(out.iterdir()) == []


def test_a_built_folder_made_read_only_is_left_as_it_was(cli, practice, tmp_path, read_only):
    out = tmp_path / "dist"
    assert cli("build", practice, "-o", out, *PDF).exit_code == 0
    before = snapshot(out)
    bookkeeping = {p: p.read_bytes() for p in (out / ".consentgen").rglob("*") if p.is_file()}
    read_only(out)
    result = cli("build", practice, "-o", out, *PDF, "--force")
    assert_one_line(result, 2)
    assert snapshot(out) == before
    assert {p: p.read_bytes() for p in (out / ".consentgen").rglob("*") if p.is_file()} == bookkeeping
    assert cli("verify", out).exit_code == 0


def test_a_packet_folder_it_may_not_write_stops_the_build_and_keeps_that_packet(cli, practice, tmp_path, read_only):
    out = tmp_path / "dist"
    assert cli("build", practice, "-o", out, *PDF).exit_code == 0
    before = snapshot(out)
    edit(practice)
    read_only(out / "wren-kowalski")
    result = cli("build", practice, "-o", out, *PDF)
    assert result.exit_code == 1 and "Traceback" not in result.output
    (failure,) = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert "wren-kowalski" in failure and "Permission denied" in failure
    assert result.stdout.startswith("built 1 packet (3 files)")
    assert packet_of(snapshot(out), "wren-kowalski") == packet_of(before, "wren-kowalski")
    assert packet_of(snapshot(out), "ana-nunez") != packet_of(before, "ana-nunez")
    assert cli("verify", out).exit_code == 0


# -- F5: a full disk ------------------------------------------------------------------------------

@pytest.fixture
def disk_full(monkeypatch):
    """From the moment a new file whose name holds ``name`` is created for the ``nth`` time, creating
    files fails with ENOSPC: for good, or (``once``) only that time, as when the disk frees up again."""

    def arm(name: str, nth: int, once: bool = False):
        real_open = os.open
        seen = {"count": 0, "full": False}

        def fake_open(path, flags, *args, **kwargs):
            if flags & os.O_CREAT and not isinstance(path, int) and not os.path.exists(path):
                if not seen["full"] and name in os.path.basename(os.fsdecode(path)):
                    seen["count"] += 1
                    if seen["count"] == nth:
                        seen["full"] = True
                        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fsdecode(path))
                elif seen["full"] and not once:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fsdecode(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", fake_open)
        return lambda: monkeypatch.setattr(os, "open", real_open)

    return arm


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    """A practice built into a folder ('old'), and the practice edited ('new': what it builds into a fresh folder).
    Built once per module: each test gets its own copy of the old folder."""
    from click.testing import CliRunner

    from consentgen.cli import main

    root = tmp_path_factory.mktemp("versions")
    before, after = small_practice(root / "before"), small_practice(root / "after")
    edit(after)
    env = {"CONSENTGEN_STATE_KEY_FILE": str(root / "config" / "key")}
    for practice, out in ((before, root / "old"), (after, root / "new")):
        result = CliRunner(env=env).invoke(main, ["build", str(practice), "-o", str(out), *PDF])
        assert result.exit_code == 0, result.output
    return after, root / "old", snapshot(root / "old"), snapshot(root / "new")


@pytest.fixture
def rebuilt_practice(two_versions, tmp_path):
    """(edited practice, a copy of the folder built before the edit, old files, new files)."""
    practice, built, old, new = two_versions
    out = shutil.copytree(built, tmp_path / "dist", symlinks=True)
    return practice, out, old, new


def test_a_disk_that_fills_mid_packet_leaves_it_whole_and_the_next_build_finishes(cli, rebuilt_practice, disk_full):
    practice, out, old, new = rebuilt_practice
    free_again = disk_full("contact.pdf", nth=2)     # full while the second packet is written, and after
    result = cli("build", practice, "-o", out, *PDF)
    free_again()
    assert result.exit_code == 1 and "Traceback" not in result.output
    failures = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert len(failures) == 2 and all("No space left on device" in line for line in failures)
    assert "wren-kowalski" in failures[0] and "manifest.json" in failures[1]
    assert result.stdout.startswith("built 1 packet (3 files)")                       # the summary is printed
    now = snapshot(out)
    assert packet_of(now, "wren-kowalski") == packet_of(old, "wren-kowalski")         # rolled back, in full
    assert packet_of(now, "ana-nunez") == packet_of(new, "ana-nunez")                 # built, in full
    checked, lines = verify_lines(cli, out)
    assert checked.exit_code == 1
    assert [line.split(":")[0:2] for line in lines] == [["rebuilt", " ana-nunez"]]    # verify tells which is new

    again = cli("build", practice, "-o", out, *PDF)
    assert again.exit_code == 0 and again.stdout.startswith("built 1 packet (3 files)")
    assert snapshot(out) == new                                   # the manifest too: builds are reproducible
    assert cli("verify", out).exit_code == 0
    assert {r.path for r in manifest.load(out)} == outputs_on_disk(out)


def test_a_disk_full_for_a_moment_keeps_the_manifest_of_what_built(cli, rebuilt_practice, disk_full):
    practice, out, old, new = rebuilt_practice
    disk_full("contact.pdf", nth=2, once=True)
    result = cli("build", practice, "-o", out, *PDF)
    assert result.exit_code == 1 and "Traceback" not in result.output
    (failure,) = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert "wren-kowalski" in failure and "No space left on device" in failure and "stopped" in failure
    assert result.stdout.startswith("built 1 packet (3 files)")
    now = snapshot(out)
    assert packet_of(now, "wren-kowalski") == packet_of(old, "wren-kowalski")
    assert packet_of(now, "ana-nunez") == packet_of(new, "ana-nunez")
    checked = cli("verify", out)
    assert checked.exit_code == 0 and checked.stderr == ""
    assert {r.path for r in manifest.load(out)} == outputs_on_disk(out)


# -- kills at chosen moments ----------------------------------------------------------------------

KILLER = textwrap.dedent("""
    import os, signal, sys
    out, point = os.path.abspath(os.environ["KILL_OUT"]), os.environ["KILL_AT"]
    real, seen = os.replace, [0]

    def replace(src, dst, *args, **kwargs):
        rel = os.path.relpath(os.path.abspath(dst), out)
        if rel == "manifest.json" or rel == os.path.join(".consentgen", "state.json"):
            here = rel
        elif not rel.startswith(("..", ".consentgen")):      # an output file put in its place
            seen[0] += 1
            here = f"out:{seen[0]}"
        else:
            here = None
        if here == point or (point == "state" and here and here.endswith("state.json")):
            os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst, *args, **kwargs)

    os.replace = replace
    from consentgen.cli import main
    main(sys.argv[1:], prog_name="consentgen")
""")


def _complete(path) -> bool:
    if path.suffix == ".pdf":
        try:
            with pikepdf.open(path) as pdf:
                return len(pdf.pages) > 0
        except pikepdf.PdfError:
            return False
    if path.suffix == ".docx":
        with zipfile.ZipFile(path) as z:
            return z.testzip() is None
    return json.loads(path.read_text()) is not None


@pytest.mark.parametrize("point", ["out:2", "out:4", "manifest.json", "state"])
def test_a_kill_leaves_each_packet_old_or_new_and_verify_tells_which(cli, rebuilt_practice, point):
    """Killed while the 2nd file of the 1st packet, or the 1st of the 2nd, is put in place; while the
    manifest or the state is written."""
    practice, out, old, new = rebuilt_practice
    env = dict(os.environ, KILL_OUT=str(out), KILL_AT=point)
    child = subprocess.run([sys.executable, "-c", KILLER, "build", str(practice), "-o", str(out), *PDF],
                           env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr

    now = snapshot(out)
    assert all(_complete(out / p) for p in now)                  # never half a file
    checked, lines = verify_lines(cli, out)
    said = {line.split(":")[0]: set() for line in lines}
    for line in lines:
        said[line.split(":")[0]].add(line.split(": ")[1])
    assert set(said) <= {"rebuilt", "interrupted"}, lines        # nothing changed or missing behind the build's back
    for key in ("ana-nunez", "wren-kowalski"):
        mine, was, will = packet_of(now, key), packet_of(old, key), packet_of(new, key)
        if key in said.get("interrupted", ()):
            continue                                             # being swapped at the kill: verify says so
        assert mine in (was, will), key                          # otherwise old in full or new in full
        assert (key in said.get("rebuilt", ())) == (mine == will and checked.exit_code != 0), key
    assert checked.exit_code == (1 if lines else 0)

    after = cli("build", practice, "-o", out, *PDF)
    assert after.exit_code == 0, after.output
    assert snapshot(out) == new
    assert cli("verify", out).exit_code == 0
    assert {r.path for r in manifest.load(out)} == outputs_on_disk(out)
    assert not (out / ".consentgen" / "tmp").exists() and not (out / ".consentgen" / "journal").exists()


# -- F6: damaged bookkeeping ----------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["[]", '{"x": 5}', '{"state": 2, "packets": {"ana-nunez": 5}}', "key folder"])
def test_damaged_state_is_untracked_rebuilt_and_said(cli, practice, tmp_path, damage):
    out = tmp_path / "dist"
    assert cli("build", practice, "-o", out, *PDF).exit_code == 0
    state_dir = out / ".consentgen"
    if damage == "key folder":
        (state_dir / "key").mkdir()
    else:
        (state_dir / "state.json").write_text(damage)
    result = cli("build", practice, "-o", out, *PDF)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    if damage != "key folder":
        notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
        assert notes and all("state.json" in line for line in notes)
        assert "built" in result.stdout and "packet" in result.stdout and "nothing to do" not in result.stdout
    assert cli("verify", out).exit_code == 0
    assert cli("build", practice, "-o", out, *PDF).stdout.startswith("nothing to do")


@pytest.mark.parametrize("damage", ["state.json is a folder", ".consentgen is a file", "lock is a folder"])
def test_unusable_bookkeeping_is_one_line_and_exit_2(cli, practice, tmp_path, damage):
    out = tmp_path / "dist"
    assert cli("build", practice, "-o", out, *PDF).exit_code == 0
    state_dir = out / ".consentgen"
    if damage == ".consentgen is a file":
        shutil.rmtree(state_dir)
        state_dir.write_text("not a folder")
    else:
        target = state_dir / damage.split()[0]
        target.unlink()
        target.mkdir()
    before = snapshot(out)
    line = assert_one_line(cli("build", practice, "-o", out, *PDF, "--force"), 2)
    assert damage.split()[0] in line
    assert snapshot(out) == before


# -- F7: a doctored manifest ----------------------------------------------------------------------

def test_doctored_manifest_entries_are_ignored_named_and_rebuilt(cli, practice, tmp_path):
    out = tmp_path / "dist"
    assert cli("build", practice, "-o", out, *PDF).exit_code == 0
    elsewhere = tmp_path / "elsewhere.pdf"
    elsewhere.write_bytes(b"not in OUT")
    body = json.loads((out / "manifest.json").read_text())
    entries = body["outputs"]
    assert [e["path"] for e in entries][:4] == ["ana-nunez/acknowledgement.pdf", "ana-nunez/contact.pdf",
                                                "ana-nunez/key-points.pdf", "wren-kowalski/acknowledgement.pdf"]
    entries[0]["path"] = 5
    entries[1]["path"] = "../../../../etc/hostname"
    entries[2]["path"] = None
    entries[3]["path"] = "wren-kowalski"                 # a folder
    entries[4]["sha256"] = "not a hash"
    entries.append(None)
    entries.append(dict(entries[5], path="wren-kowalski/escape.pdf"))
    (out / "wren-kowalski" / "escape.pdf").symlink_to(elsewhere)
    (out / "manifest.json").write_text(json.dumps(body))

    checked, lines = verify_lines(cli, out)
    assert checked.exit_code == 1
    ignored = [line for line in lines if line.startswith("ignored:")]
    assert [re.search(r"outputs\[(\d+)\]", line).group(1) for line in ignored] == ["0", "1", "2", "3", "4", "6", "7"]
    assert "'../../../../etc/hostname'" in ignored[1] and "outside" in ignored[6]
    assert not any(line.startswith(("changed:", "missing:")) for line in lines)   # nothing outside OUT was hashed

    result = cli("build", practice, "-o", out, *PDF)
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert sum(line.startswith("note:") for line in result.stderr.splitlines()) == 7
    assert result.stdout.startswith("built 2 packets")            # both had an entry dropped: both rebuilt
    assert {r.path for r in manifest.load(out)} == outputs_on_disk(out) - {"wren-kowalski/escape.pdf"}
    again, lines = verify_lines(cli, out)
    assert again.exit_code == 0 and lines == ["untracked: wren-kowalski/escape.pdf"]


# -- F8: two builds at once -----------------------------------------------------------------------

PAUSED = textwrap.dedent("""
    import sys
    import consentgen.stamp as stamp
    real = stamp.packet_files

    def paused(*args, **kwargs):
        print("rendering", flush=True)
        sys.stdin.readline()
        return real(*args, **kwargs)

    stamp.packet_files = paused
    from consentgen.cli import main
    main(sys.argv[1:], prog_name="consentgen")
""")


def _consentgen(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "consentgen", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def _paused_build(practice, out):
    first = subprocess.Popen([sys.executable, "-c", PAUSED, "build", str(practice), "-o", str(out), *PDF],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert first.stdout.readline() == "rendering\n"          # it is inside its build now
    return first


def test_a_second_build_refuses_while_one_runs(cli, practice, tmp_path):
    out = tmp_path / "dist"
    first = _paused_build(practice, out)
    try:
        second = _consentgen("build", practice, "-o", out, *PDF)
        _, err = second.communicate(timeout=300)
        assert second.returncode == 2
        assert err.strip() == (f"error: {out} is being built by another consentgen (pid {first.pid}); "
                               "wait for it (build --wait SECONDS) or use another folder")
        rendered = cli("render", practice / "clinicians" / "ana-nunez.yaml", "-o", out)
        assert_one_line(rendered, 2)
        assert "being built by another consentgen" in rendered.stderr
    finally:
        first.stdin.write("\n" * 10)
        first.stdin.close()
        first.wait(timeout=300)
    assert first.returncode == 0, first.stderr.read()
    assert cli("verify", out).exit_code == 0
    assert {r.path for r in manifest.load(out)} == outputs_on_disk(out)


def test_a_second_build_with_wait_runs_after_the_first(cli, practice, tmp_path):
    out = tmp_path / "dist"
    first = _paused_build(practice, out)
    second = _consentgen("build", practice, "-o", out, *PDF, "--wait", "300")
    first.stdin.write("\n" * 10)
    first.stdin.close()
    assert first.wait(timeout=300) == 0
    answer, _ = second.communicate(timeout=300)
    assert second.returncode == 0 and answer.startswith("nothing to do")      # it found the first one's work done
    assert cli("verify", out).exit_code == 0


def test_two_builds_started_together_leave_a_folder_that_verifies(cli, practice, tmp_path):
    out = tmp_path / "dist"
    other = tmp_path / "other"
    shutil.copytree(practice, other)
    edit(other)                                                   # different inputs, as in the issue
    runs = [_consentgen("build", p, "-o", out, *PDF) for p in (practice, other)]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    assert sorted(code for code, _ in results) in ([0, 0], [0, 2])
    for code, err in results:
        assert "Traceback" not in err
        if code == 2:
            assert "is being built by another consentgen" in err
    assert cli("verify", out).exit_code == 0
    assert {r.path for r in manifest.load(out)} == outputs_on_disk(out)


# -- F11: nothing in OUT confirms a guessed name -------------------------------------------------

def _hex_strings(out) -> set[str]:
    found = set()
    for path in out.rglob("*"):
        if path.is_file() and (path.name == "manifest.json" or ".consentgen" in path.relative_to(out).parts):
            found.update(re.findall(r"[0-9a-f]{64}", path.read_bytes().decode("latin-1")))
    return found


def confirmed_names(out, practice, candidates, extra_keys=()) -> set[str]:
    """The guessing attack of the issue: with everything OUT holds (each of its files a possible key),
    recompute the state's fingerprints for each candidate name and look for them in the bookkeeping."""
    from consentgen.api import Job, documents_for, load_profile

    keys = [p.read_bytes() for p in out.rglob("*") if p.is_file()] + list(extra_keys)
    stored = _hex_strings(out)
    found = set()
    for record in manifest.load(out):
        if record.client_id is None:
            continue
        docs = documents_for(load_profile(practice / "clinicians" / f"{record.clinician}.yaml"), Job())
        for name in candidates:
            base = {"version": consentgen.__version__, "docs": docs, "effective": record.effective_date,
                    "formats": ["pdf"], "combined": False, "page_size": "letter", "large_print": False,
                    "sources": False,
                    "client_id": record.client_id, "second_signer": None}
            old = json.dumps({**base, "client_name": name, "inputs": {d: record.inputs for d in (*docs, "packet")}},
                             sort_keys=True, default=str).encode()
            new = json.dumps({**base, "inputs": {d: record.inputs for d in (*docs, "packet")}},
                             sort_keys=True, default=str).encode() + b"\0" + name.encode()
            digests = {hashlib.sha256(name.encode()).hexdigest(), hashlib.sha256(old).hexdigest(),
                       hashlib.sha256(new).hexdigest()}
            for key in keys:
                digests |= {hmac.new(key, data, hashlib.sha256).hexdigest() for data in (old, new, name.encode())}
            if digests & stored:
                found.add(name)
    return found


def test_nothing_in_out_confirms_a_guessed_client_name(cli, practice, tmp_path, private_key_file):
    roster = tmp_path / "roster.csv"
    roster.write_text("client_id,clinician,client_name,date\n"
                      + "".join(f"{cid},{clin},{name},2026-02-02\n" for cid, (clin, name) in NAMES.items()))
    out = tmp_path / "dist"
    (out / ".consentgen").mkdir(parents=True)
    (out / ".consentgen" / "key").write_bytes(os.urandom(32))     # where an earlier version kept its key
    result = cli("build", practice, "-o", out, "--roster", roster, *PDF)
    assert result.exit_code == 0, result.output

    names = [name for _, name in NAMES.values()]
    candidates = names + ["Ivy Castellanos", "Otto Brandt", "Quinn Avary", "Mei Holland"]
    assert confirmed_names(out, practice, candidates) == set()
    assert not (out / ".consentgen" / "key").exists()
    # The attack itself works: with the key that stays in the user's config folder, both names are confirmed.
    assert private_key_file.is_file() and not private_key_file.resolve().is_relative_to(out.resolve())
    assert stat.S_IMODE(private_key_file.stat().st_mode) == 0o600
    assert confirmed_names(out, practice, candidates, [private_key_file.read_bytes()]) == set(names)

    bookkeeping = [p.read_bytes().decode("latin-1") for p in out.rglob("*")
                   if p.is_file() and (p.name == "manifest.json" or ".consentgen" in p.parts)]
    places = bookkeeping + [p.relative_to(out).as_posix() for p in out.rglob("*")] + [result.output]
    for name in names:
        for part in (name, *name.split()):
            assert not any(part in text for text in places), part
    # And the packets stay incremental: the same roster again rebuilds nothing.
    assert cli("build", practice, "-o", out, "--roster", roster, *PDF).stdout.startswith("nothing to do")


# -- F14: modes follow the umask ------------------------------------------------------------------

@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_file_modes_follow_the_umask(cli, practice, tmp_path, umask, mode):
    out = tmp_path / "dist"
    previous = os.umask(umask)
    try:
        assert cli("build", practice, "-o", out, *PDF).exit_code == 0
        rendered = cli("render", practice / "clinicians" / "ana-nunez.yaml", "-o", tmp_path / "single")
        assert rendered.exit_code == 0
    finally:
        os.umask(previous)
    files = [out / p for p in snapshot(out)] + [out / ".consentgen" / "state.json", out / ".consentgen" / "lock"]
    files += list((tmp_path / "single").iterdir())
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: oct(mode) for p in files}


# -- clinician file names -------------------------------------------------------------------------

def test_device_names_and_non_latin_file_names_make_safe_distinct_folders(cli, practice, tmp_path):
    clinicians = practice / "clinicians"
    text = (clinicians / "ana-nunez.yaml").read_text()
    (clinicians / "wren-kowalski.yaml").unlink()
    for stem in ("con", "aux", "Анна", "Борис"):
        (clinicians / f"{stem}.yaml").write_text(text)
    (clinicians / "ana-nunez.yaml").unlink()
    out = tmp_path / "dist"
    result = cli("build", practice, "-o", out, *PDF)
    assert result.exit_code == 0, result.output
    folders = {p.name for p in out.iterdir() if p.is_dir() and p.name != ".consentgen"}
    assert {"aux_", "con_"} <= folders
    others = folders - {"aux_", "con_"}
    assert len(others) == 2 and all(re.fullmatch(r"clinician-[0-9a-f]{8}", f) for f in others)
    assert not {"con", "aux", "prn", "nul"} & {f.lower() for f in folders}
    assert cli("build", practice, "-o", out, *PDF).stdout.startswith("nothing to do: all 4 packets unchanged")


def test_slug_avoids_windows_device_names_and_keeps_unlike_names_apart():
    from consentgen.output import slug

    assert [slug(s) for s in ("CON", "Com1", "lpt9", "nul", "console")] == ["con_", "com1_", "lpt9_", "nul_", "console"]
    assert slug("Анна") != slug("Борис") and slug("Анна") == slug("Анна")
    assert slug("Ana Núñez") == "ana-nunez"


# -- internal errors --------------------------------------------------------------------------------

SECRET = "Quinn Avery"          # a client's name, as an exception's message might quote one


def test_a_bug_while_loading_one_profile_fails_only_its_packet(cli, practice, tmp_path, monkeypatch):
    import consentgen.build as build

    real = build.load_profile

    def buggy(path):
        if "wren" in str(path):
            raise KeyError(SECRET)
        return real(path)

    monkeypatch.setattr(build, "load_profile", buggy)
    result = cli("build", practice, "-o", tmp_path / "dist", *PDF)
    assert result.exit_code == 1 and "Traceback" not in result.output and SECRET not in result.output
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert "wren-kowalski.yaml" in line and "packet wren-kowalski" in line and "internal error (KeyError)" in line
    assert "CONSENTGEN_DEBUG=1" in line and "report it to" in line
    assert result.stdout.startswith("built 1 packet")


def test_a_bug_while_rendering_one_packet_names_the_packet(cli, practice, tmp_path, monkeypatch):
    import consentgen.stamp as stamp

    real = stamp.packet_files

    def buggy(packet, *args, **kwargs):
        if packet.key == "ana-nunez/c-1":
            raise ValueError(SECRET)
        return real(packet, *args, **kwargs)

    monkeypatch.setattr(stamp, "packet_files", buggy)
    roster = tmp_path / "roster.csv"
    roster.write_text("client_id,clinician,client_name\nc-1,ana-nunez,Quinn Avery\nc-2,wren-kowalski,Mei Hollander\n")
    result = cli("build", practice, "-o", tmp_path / "dist", "--roster", roster, *PDF)
    assert result.exit_code == 1 and "Traceback" not in result.output and SECRET not in result.output
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert "ana-nunez.yaml" in line and "packet ana-nunez/c-1" in line and "internal error (ValueError)" in line
    assert "CONSENTGEN_DEBUG=1" in line
    assert (tmp_path / "dist" / "wren-kowalski" / "c-2" / "contact.pdf").is_file()


def test_a_bug_stamping_one_client_fails_only_that_client_of_the_group(cli, practice, tmp_path, monkeypatch):
    import consentgen.stamp as stamp

    real = stamp._Base.stamp

    def buggy(self, packet):
        if packet.client_id == "c-2":
            raise ValueError(SECRET)
        return real(self, packet)

    monkeypatch.setattr(stamp._Base, "stamp", buggy)
    roster = tmp_path / "roster.csv"
    roster.write_text("client_id,clinician,client_name,date\n" + "".join(
        f"c-{i},wren-kowalski,Client {i},2026-03-02\n" for i in (1, 2, 3)))
    result = cli("build", practice, "-o", tmp_path / "dist", "--roster", roster, *PDF)
    assert result.exit_code == 1 and "Traceback" not in result.output and SECRET not in result.output
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert "packet wren-kowalski/c-2" in line and "internal error (ValueError)" in line
    assert result.stdout.startswith("built 2 packets")          # the client after it in the group still builds
    assert not (tmp_path / "dist" / "wren-kowalski" / "c-2").exists()
    assert (tmp_path / "dist" / "wren-kowalski" / "c-3" / "key-points.pdf").is_file()


@pytest.mark.parametrize("command", ["render", "verify", "check"])
def test_a_bug_in_any_command_is_one_line(cli, practice, tmp_path, monkeypatch, command):
    def buggy(*args, **kwargs):
        raise RuntimeError(SECRET)

    profile = practice / "clinicians" / "ana-nunez.yaml"
    if command == "render":
        monkeypatch.setattr("consentgen.api.render_bytes", buggy)
        args = ("render", profile, "-o", tmp_path / "single")
    elif command == "verify":
        assert cli("build", practice, "-o", tmp_path / "dist", *PDF).exit_code == 0
        monkeypatch.setattr("consentgen.verify.sha256_file", buggy)
        args = ("verify", tmp_path / "dist")
    else:
        monkeypatch.setattr("consentgen.lint.check_context", buggy)
        args = ("check", profile)
    result = cli(*args)
    line = assert_one_line(result, 1)
    assert line == (f"error: consentgen {command}: internal error (RuntimeError); re-run with CONSENTGEN_DEBUG=1 "
                    "for the traceback and report it to the consentgen developers")
    assert SECRET not in result.output
    monkeypatch.setenv("CONSENTGEN_DEBUG", "1")
    assert "Traceback" in cli(*args).stderr


def test_a_manifest_path_is_an_output_only_if_it_stays_inside_out_and_out_of_its_bookkeeping(tmp_path):
    out = tmp_path / "dist"
    (out / ".consentgen").mkdir(parents=True)
    (out / "ana").mkdir()
    (out / "ana" / "contact.pdf").write_bytes(b"%PDF")
    (out / "ana" / "state.json").symlink_to(out / ".consentgen" / "state.json")      # a link into the bookkeeping
    (out / "ana" / "top.pdf").symlink_to(out)                                         # a link to OUT itself
    (out / "ana" / "loop.pdf").symlink_to(out / "ana" / "loop.pdf")                   # a link to itself
    (out / "books").symlink_to(out / ".consentgen", target_is_directory=True)         # a folder that leads there
    (out / "dist-x").mkdir()                                                          # OUT's name, longer
    (tmp_path / "dist-elsewhere").mkdir()
    (out / "near").symlink_to(tmp_path / "dist-elsewhere", target_is_directory=True)  # a sibling sharing OUT's name
    within = manifest.Within(out)
    for rel in ("ana/contact.pdf", "ana/new.pdf", "dist-x/a.pdf"):
        assert manifest.path_problem(out, rel, within) is None, rel
    for rel in ("ana/state.json", "ana/top.pdf", "books/state.json", "near/a.pdf"):
        assert "leads outside the output folder" in manifest.path_problem(out, rel, within), rel
    assert "cannot be followed" in manifest.path_problem(out, "ana/loop.pdf", within)
    for rel in ("/ana/contact.pdf", "ana//contact.pdf", "ana/./contact.pdf", ".consentgen/state.json", "contact.pdf"):
        assert "is not a file inside the output folder" in manifest.path_problem(out, rel, within), rel


def test_a_manifest_entry_whose_inputs_are_not_all_text_is_ignored(tmp_path):
    (tmp_path / "ana").mkdir()
    entry = {"path": "ana/contact.pdf", "format": "pdf", "document": "contact", "clinician": "ana",
             "client_id": None, "sha256": "0" * 64, "size": 4, "pages": 1, "effective_date": "2026-01-05",
             "consentgen": consentgen.__version__, "inputs": {"profile": "a" * 64, "template:contact.md": "b" * 64}}
    assert manifest.entry_problem(tmp_path, entry) is None
    for bad in ({"profile": 7}, {"profile": ["a"]}, {"profile": "\ud800"}, {"profile": "a", "x": {"y": "z"}}, ["a"]):
        assert manifest.entry_problem(tmp_path, dict(entry, inputs=bad)) == "inputs is not a table of hashes", bad


# -- review of the output-folder hardening ----------------------------------------------------------

@pytest.mark.parametrize("name", ["lock", "journal"])
def test_a_linked_lock_or_journal_is_refused_and_its_target_untouched(cli, practice, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)                 # paths are shown relative to here: the link's, not its target's
    out = tmp_path / "dist"
    assert cli("build", practice, "-o", out, *PDF).exit_code == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = out / ".consentgen" / name
    link.unlink(missing_ok=True)
    link.symlink_to(victim)
    before = snapshot(out)
    for args in (("build", practice, "-o", out, *PDF, "--force"), ("verify", out)):
        line = assert_one_line(cli(*args), 2)
        assert f"dist/.consentgen/{name}: is not a file" in line and "victim" not in line, line
    assert victim.read_text() == "precious\n" and link.is_symlink()
    assert snapshot(out) == before


def _doctor(out, damage):
    """Write one doctored value into OUT's bookkeeping (JSON escapes keep a lone surrogate as it is)."""
    if damage.startswith("journal "):
        (out / ".consentgen" / "journal").write_text(damage.split(" ", 1)[1] + "\n")
        return
    where, field = damage.split(".")
    path = out / (".consentgen/state.json" if where == "state" else "manifest.json")
    body = json.loads(path.read_text())
    if where == "state":
        body["packets"]["ana-nunez"]["files"][0] = "ana-nunez/\ud800.pdf"
    else:
        entry = body["outputs"][0]
        entry[field] = "ana-nunez/\ud800.pdf" if field == "path" else (
            {"profile:\ud800": "0" * 64} if field == "inputs" else "\ud800")
    path.write_text(json.dumps(body))


@pytest.mark.parametrize("damage", ['journal {"abort": []}', 'journal {"commit": {}, "records": [], "state": {}}',
                                    "manifest.path", "manifest.document", "manifest.client_id", "manifest.inputs",
                                    "state.files"])
def test_doctored_bookkeeping_of_an_unknown_shape_is_untracked_never_an_internal_error(cli, practice, tmp_path,
                                                                                          damage):
    out = tmp_path / "dist"
    assert cli("build", practice, "-o", out, *PDF).exit_code == 0
    _doctor(out, damage)
    checked = cli("verify", out)
    assert checked.exit_code in (0, 1) and "internal error" not in checked.output, checked.output
    if not damage.startswith("state"):
        assert any(line.startswith("ignored:") for line in checked.stderr.splitlines()), checked.stderr
    result = cli("build", practice, "-o", out, *PDF)
    assert result.exit_code == 0 and "internal error" not in result.output, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and ("journal:1" in notes[0] or "rebuilt" in notes[0]), result.stderr
    if not damage.startswith("journal"):
        assert result.stdout.startswith("built 1 packet")            # the packet it no longer vouches for
    assert cli("verify", out).exit_code == 0
    assert cli("build", practice, "-o", out, *PDF).stdout.startswith("nothing to do")


def test_a_lock_file_it_may_only_read_still_locks(practice, tmp_path, monkeypatch):
    """A colleague's lock file (its mode follows their umask: readable, not writable, by others) is locked
    all the same; as root no mode stops us, so the kernel's answer to a write-open is given in its place."""
    import fcntl

    from consentgen import lock

    state_dir = tmp_path / "dist" / ".consentgen"
    state_dir.mkdir(parents=True)
    path = state_dir / "lock"
    path.write_text("4242\n")
    path.chmod(0o444)
    real_open = os.open

    def no_write(file, flags, *args, **kwargs):
        if os.fsdecode(file) == str(path) and flags & (os.O_WRONLY | os.O_RDWR):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_write)
    with lock.hold(state_dir.parent, state_dir):
        other = real_open(path, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_SH | fcntl.LOCK_NB)
        finally:
            os.close(other)
    assert path.read_text() == "4242\n"                  # not its own: left as it was


@pytest.mark.parametrize("left", ["as the last build left it", "a killed build's pid"])
def test_a_build_refused_while_verify_reads_claims_no_pid_it_cannot_know(cli, practice, tmp_path, left):
    from consentgen import lock

    out = tmp_path / "dist"
    assert cli("build", practice, "-o", out, *PDF).exit_code == 0       # in this process: its pid is alive
    state_dir = out / ".consentgen"
    if left != "as the last build left it":
        (state_dir / "lock").write_text("999999999\n")
    with lock.hold(out, state_dir, shared=True, doing="verify"):
        line = assert_one_line(cli("build", practice, "-o", out, *PDF), 2)
    assert line == (f"error: {out} is being verified by another consentgen; "
                    "wait for it (build --wait SECONDS) or use another folder")


def test_a_build_refused_while_render_writes_says_so(cli, practice, tmp_path):
    from consentgen import lock

    out = tmp_path / "dist"
    assert cli("build", practice, "-o", out, *PDF).exit_code == 0
    with lock.hold(out, out / ".consentgen", doing="render"):
        line = assert_one_line(cli("build", practice, "-o", out, *PDF), 2)
    assert line == (f"error: {out} is being rendered into by another consentgen (pid {os.getpid()}); "
                    "wait for it (build --wait SECONDS) or use another folder")
    assert (out / ".consentgen" / "lock").read_bytes() == b""          # released: it names no one


@pytest.mark.parametrize("code, stops", [(errno.ENAMETOOLONG, False), (errno.ENOSPC, True)])
def test_one_rule_decides_whether_a_staging_write_error_stops_the_build(cli, practice, tmp_path, monkeypatch,
                                                                          code, stops):
    import consentgen.stamp as stamp
    from consentgen.errors import WriteError

    real = stamp.packet_files

    def failing(packet, *args, **kwargs):
        if packet.key == "ana-nunez":
            raise WriteError(f"cannot write ({os.strerror(code)})", code)
        return real(packet, *args, **kwargs)

    monkeypatch.setattr(stamp, "packet_files", failing)
    result = cli("build", practice, "-o", tmp_path / "dist", *PDF)
    assert result.exit_code == (2 if stops else 1) and "Traceback" not in result.output, result.output
    (failure,) = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert "ana-nunez" in failure and os.strerror(code) in failure
    assert ("the build stopped" in failure) == stops
    assert result.stdout.startswith("built 0 packets" if stops else "built 1 packet (3 files)"), result.stdout


@pytest.mark.parametrize("folder", ["holding an earlier render", "new"])
def test_render_on_a_full_disk_leaves_the_folder_as_it_was(cli, practice, tmp_path, disk_full, folder):
    profile = practice / "clinicians" / "ana-nunez.yaml"
    out = tmp_path / "handouts"
    if folder != "new":
        assert cli("render", profile, "-o", out, "--format", "pdf").exit_code == 0
        edit(practice)
    before = {p.name: p.read_bytes() for p in out.iterdir()} if out.exists() else None
    disk_full(".part", nth=3)                    # the third of its three files finds the disk full
    line = assert_one_line(cli("render", profile, "-o", out, "--format", "pdf"), 2)
    assert "No space left on device" in line
    assert ({p.name: p.read_bytes() for p in out.iterdir()} if out.exists() else None) == before


def test_render_failing_to_rename_its_last_file_puts_the_others_back(cli, practice, tmp_path, monkeypatch):
    profile = practice / "clinicians" / "ana-nunez.yaml"
    out = tmp_path / "handouts"
    assert cli("render", profile, "-o", out, "--format", "pdf").exit_code == 0
    (out / "notes.txt").write_text("the user's own file\n")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    edit(practice)
    real, renamed = os.replace, []

    def replace(src, dst, *args, **kwargs):
        if os.fsdecode(src).endswith(".part"):
            renamed.append(dst)
            if len(renamed) == 3:
                raise OSError(errno.EIO, os.strerror(errno.EIO), os.fsdecode(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    line = assert_one_line(cli("render", profile, "-o", out, "--format", "pdf"), 2)
    assert "Input/output error" in line and len(renamed) == 3
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_swap_undone_but_not_recorded_never_costs_the_earlier_files(cli, practice, tmp_path, monkeypatch):
    """The undo of a failed swap could not be recorded (a full disk); the staging folder is then deleted
    (which the README calls harmless) and the next build cannot build that packet: its files stay."""
    import consentgen.journal as journal

    out = tmp_path / "dist"
    assert cli("build", practice, "-o", out, *PDF).exit_code == 0
    before = packet_of(snapshot(out), "wren-kowalski")
    edit(practice)
    real_replace, real_append, placed = os.replace, journal.append_line, []

    def replace(src, dst, *args, **kwargs):
        if os.path.dirname(os.fsdecode(dst)) == str(out / "wren-kowalski") and "/new/" in os.fsdecode(src):
            placed.append(dst)
            if len(placed) == 2:
                raise OSError(errno.EIO, os.strerror(errno.EIO), os.fsdecode(dst))
        return real_replace(src, dst, *args, **kwargs)

    def append_line(path, line):
        if b'"abort"' in line:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fsdecode(path))
        return real_append(path, line)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", replace)
        patch.setattr(journal, "append_line", append_line)
        failed = cli("build", practice, "-o", out, *PDF)
    assert failed.exit_code == 1 and len(placed) == 2, failed.output
    assert packet_of(snapshot(out), "wren-kowalski") == before          # undone at once
    shutil.rmtree(out / ".consentgen" / "tmp")
    (practice / "clinicians" / "wren-kowalski.yaml").write_text("clinician: [\n")
    result = cli("build", practice, "-o", out, *PDF)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert packet_of(snapshot(out), "wren-kowalski") == before
    assert cli("verify", out).exit_code == 0


def test_a_failed_swap_into_empty_places_removes_just_its_new_files(cli, practice, tmp_path, monkeypatch):
    out = tmp_path / "dist"
    (out / "wren-kowalski").mkdir(parents=True)
    (out / "wren-kowalski" / "notes.txt").write_text("the user's own file\n")
    real_replace, placed = os.replace, []

    def replace(src, dst, *args, **kwargs):
        if os.path.dirname(os.fsdecode(dst)) == str(out / "wren-kowalski") and "/new/" in os.fsdecode(src):
            placed.append(dst)
            if len(placed) == 3:
                raise OSError(errno.EIO, os.strerror(errno.EIO), os.fsdecode(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    result = cli("build", practice, "-o", out, *PDF)
    assert result.exit_code == 1 and len(placed) == 3, result.output
    assert sorted(p.name for p in (out / "wren-kowalski").iterdir()) == ["notes.txt"]
    assert not (out / ".consentgen" / "journal").exists() and not (out / ".consentgen" / "tmp").exists()
