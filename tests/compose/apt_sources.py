"""This machine's apt sources, read at run time for CI's Debian base image (tests/compose/run).

    python3 tests/compose/apt_sources.py plan            # SUITE=… MIRROR=… for debootstrap
    python3 tests/compose/apt_sources.py install ROOTFS  # the same sources and settings inside

No host is written in the repository: the mirror is whatever /etc/apt/sources.list(.d) names for
this machine's Debian suite. Standard library only (it runs before any virtual environment).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

APT = Path("/etc/apt")
# apt settings the image needs to read the same mirror as the host (a snapshot mirror's Release
# files may be past their Valid-Until; a proxy, where the host has one).
SETTINGS = re.compile(r"^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy)\b")


def suite() -> str:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip().strip('"')
    sys.exit("apt_sources: /etc/os-release names no VERSION_CODENAME")


def files() -> list[Path]:
    """The enabled source files: sources.list, then sources.list.d/*.list and *.sources."""
    found = [APT / "sources.list"] if (APT / "sources.list").is_file() else []
    found += sorted(p for p in (APT / "sources.list.d").glob("*") if p.suffix in (".list", ".sources"))
    return found


def entries(path: Path) -> list[dict]:
    """Each `deb` source of a file as {uris, suites, components, signed_by}."""
    text = path.read_text(encoding="utf-8", errors="replace")
    out = []
    if path.suffix == ".sources":
        for stanza in re.split(r"\n\s*\n", text):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line or line[0].isspace():
                    continue
                key, value = line.split(":", 1)
                fields[key.strip().lower()] = value.strip()
            if "deb" in fields.get("types", "").split() and fields.get("enabled", "yes") != "no":
                out.append(
                    {
                        "uris": fields.get("uris", "").split(),
                        "suites": fields.get("suites", "").split(),
                        "components": fields.get("components", "").split(),
                        "signed_by": fields.get("signed-by", ""),
                    }
                )
    else:
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if not words or words[0] != "deb":
                continue
            words = words[1:]
            options = ""
            if words and words[0].startswith("["):
                while words and not words[0].endswith("]"):
                    options += " " + words.pop(0)
                options += " " + words.pop(0)
            signed = re.search(r"signed-by=(\S+?)\]?(\s|$)", options)
            if len(words) >= 2:
                out.append(
                    {
                        "uris": [words[0]],
                        "suites": [words[1]],
                        "components": words[2:],
                        "signed_by": signed.group(1) if signed else "",
                    }
                )
    return out


def mirror(codename: str) -> str:
    for path in files():
        for entry in entries(path):
            if codename in entry["suites"] and "main" in entry["components"] and entry["uris"]:
                return entry["uris"][0]
    sys.exit(f"apt_sources: no apt source of this machine serves {codename} main (/etc/apt/sources.list*)")


def install(rootfs: Path) -> None:
    """The host's Debian sources (those for this suite whose key the image has) and settings."""
    codename = suite()
    target = rootfs / "etc/apt/sources.list.d"
    target.mkdir(parents=True, exist_ok=True)
    (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
    for old in target.glob("*"):
        old.unlink()
    copied = []
    for path in files():
        usable = [
            e
            for e in entries(path)
            if any(s == codename or s.startswith(codename + "-") for s in e["suites"])
            and (not e["signed_by"].startswith("/") or (rootfs / e["signed_by"].lstrip("/")).is_file())
        ]
        if usable:
            name = path.name if path.name != "sources.list" else "host.list"
            shutil.copyfile(path, target / name)
            copied.append(str(path))
    if not copied:
        sys.exit("apt_sources: none of this machine's apt sources can be used inside the image")
    dump = subprocess.run(["apt-config", "dump"], capture_output=True, text=True, check=True).stdout
    settings = [line for line in dump.splitlines() if SETTINGS.match(line)]
    (rootfs / "etc/apt/apt.conf.d/99host-settings").write_text("".join(f"{s}\n" for s in settings))
    print(f"apt inside the image: {', '.join(copied)}; {len(settings)} settings from the host")


def main(argv: list[str]) -> None:
    if argv[:1] == ["plan"]:
        codename = suite()
        print(f"SUITE={shlex.quote(codename)} MIRROR={shlex.quote(mirror(codename))}")
    elif argv[:1] == ["install"] and len(argv) == 2:
        install(Path(argv[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
