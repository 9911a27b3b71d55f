"""Alteryx workflow packages (``.yxzp``): build, read and fingerprint them.

A ``.yxzp`` is a zip archive holding one main document -- ``.yxmd`` (a
workflow), ``.yxwz`` (an analytic app) or ``.yxmc`` (a macro) -- and any
files it uses.  The main document is XML (``<AlteryxDocument>``) whose
``Properties/MetaInfo`` describes the workflow and whose ``Questions`` list an
app's questions.

This module is pure (no HTTP, no pandas).  The emulator reads packages with it
to learn an upload's name, type and questions; the client uses
:func:`content_hash` to tell whether a package changed (deployment), and the
tests and sample data build small valid packages with :func:`build_package`.

Emulator hints: a document may hold ``<AxframeEmulator runSeconds="0.5"
disposition="Error" message="..."/>`` under ``Properties``.  Only the emulator
reads it (how long a job of this workflow runs, and how it ends); a real
Server ignores unknown properties.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from typing import Iterable, Mapping
from xml.etree import ElementTree as ET

from .errors import PackageError

__all__ = ["PackageError", "PackageInfo", "Question", "build_package", "read_package", "content_hash",
           "read_member"]

_KIND_BY_EXT = {".yxmd": "Module", ".yxwz": "App", ".yxmc": "Macro"}
_EXT_BY_KIND = {v: k for k, v in _KIND_BY_EXT.items()}
_KIND_ALIASES = {"workflow": "Module", "module": "Module", "app": "App", "macro": "Macro"}
MAX_PACKAGE_BYTES = 256 * 1024 * 1024
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024  # one unpacked workflow document
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024  # everything a package unpacks to (a zip bomb stops here)


@dataclass(frozen=True)
class Question:
    name: str
    type: str = "TextBox"
    description: str = ""
    default: str = ""
    items: tuple[str, ...] = ()
    multiple: bool = False


@dataclass(frozen=True)
class PackageInfo:
    main_file: str
    kind: str  # packageWorkflowType: App, Module or Macro
    name: str
    description: str = ""
    author: str = ""
    copyright: str = ""
    url: str = ""
    url_text: str = ""
    output_message: str = ""
    no_output_message: str = ""
    questions: tuple[Question, ...] = ()
    hints: Mapping[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()


def _text(parent: ET.Element | None, tag: str) -> str:
    if parent is None:
        return ""
    node = parent.find(tag)
    return (node.text or "").strip() if node is not None else ""


def build_package(
    name: str,
    *,
    kind: str = "workflow",
    questions: Iterable[Question | Mapping] = (),
    description: str = "",
    author: str = "axframe",
    hints: Mapping[str, object] | None = None,
    extra_files: Mapping[str, bytes] | None = None,
    file_name: str | None = None,
) -> bytes:
    """Build a small valid ``.yxzp`` and return its bytes.

    The bytes are deterministic for the same arguments (fixed zip timestamps),
    so a package built twice has the same :func:`content_hash`.
    """
    kind = _KIND_ALIASES.get(kind.lower(), kind)
    if kind not in _EXT_BY_KIND:
        raise ValueError(f"kind must be workflow, app or macro, not {kind!r}")
    qs = [q if isinstance(q, Question) else Question(
        name=str(q["name"]), type=str(q.get("type", "TextBox")),
        description=str(q.get("description", q["name"])), default=str(q.get("default", "")),
        items=tuple(str(i) for i in q.get("items", ())), multiple=bool(q.get("multiple", False)),
    ) for q in questions]

    root = ET.Element("AlteryxDocument", yxmdVer="2024.1")
    nodes = ET.SubElement(root, "Nodes")
    node = ET.SubElement(nodes, "Node", ToolID="1")
    ET.SubElement(node, "GuiSettings", Plugin="AlteryxBasePluginsGui.TextInput.TextInput")
    ET.SubElement(root, "Connections")
    props = ET.SubElement(root, "Properties")
    meta = ET.SubElement(props, "MetaInfo")
    for tag, value in (("Name", name), ("Description", description), ("Author", author),
                       ("Copyright", ""), ("Url", ""), ("UrlText", ""),
                       ("OutputMessage", ""), ("NoOutputFilesMessage", "")):
        ET.SubElement(meta, tag).text = value
    if hints:
        ET.SubElement(props, "AxframeEmulator", {k: str(v) for k, v in hints.items()})
    if qs:
        questions_el = ET.SubElement(root, "Questions")
        for i, q in enumerate(qs, start=1):
            qel = ET.SubElement(questions_el, "Question")
            ET.SubElement(qel, "Type").text = q.type
            ET.SubElement(qel, "Description").text = q.description or q.name
            ET.SubElement(qel, "Name").text = q.name
            ET.SubElement(qel, "ToolId", value=str(i + 1))
            if q.default:
                ET.SubElement(qel, "Default").text = q.default
            if q.multiple:
                ET.SubElement(qel, "Multiple").text = "True"
            if q.items:
                items_el = ET.SubElement(qel, "Items")
                for item in q.items:
                    ET.SubElement(items_el, "Item", key=item, value=item)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)

    main = file_name or f"{_safe_file_name(name)}{_EXT_BY_KIND[kind]}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        members = [(main, xml)] + sorted((extra_files or {}).items())
        for member, data in members:
            info = zipfile.ZipInfo(member, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _safe_file_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in " -_." else "_" for c in name).strip()
    return cleaned or "workflow"


_MAIN_PRIORITY = {".yxwz": 0, ".yxmd": 1, ".yxmc": 2}


def _ext(name: str) -> str:
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


def read_package(data: bytes) -> PackageInfo:
    """Read the main document of a package; raise :class:`PackageError` if unreadable."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise PackageError("the package is empty")
    if len(data) > MAX_PACKAGE_BYTES:
        raise PackageError("the package is too large")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise PackageError("the file is not a workflow package (.yxzp is a zip archive)") from exc
    with archive:
        # The top-most document wins; an app over a workflow over a macro.
        docs = [n for n in names if _ext(n) in _MAIN_PRIORITY]
        if not docs:
            raise PackageError("the package holds no .yxmd, .yxwz or .yxmc document")
        docs.sort(key=lambda n: (n.count("/"), _MAIN_PRIORITY[_ext(n)], n))
        main = docs[0]
        xml = read_member(archive, main)
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise PackageError(f"{main} is not valid XML") from exc
    meta = root.find("Properties/MetaInfo")
    hints_el = root.find("Properties/AxframeEmulator")
    questions = []
    for q in root.iter("Question"):
        qtype, qname = _text(q, "Type"), _text(q, "Name")
        if not qname or qtype in ("Tab", ""):
            continue
        items = tuple((i.get("value") or i.get("key") or "") for i in q.iter("Item"))
        questions.append(Question(
            name=qname, type=qtype, description=_text(q, "Description"),
            default=_text(q, "Default"), items=items,
            multiple=_text(q, "Multiple").lower() == "true",
        ))
    ext = _ext(main)
    name = _text(meta, "Name") or main.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return PackageInfo(
        main_file=main.rsplit("/", 1)[-1],
        kind=_KIND_BY_EXT[ext],
        name=name,
        description=_text(meta, "Description"),
        author=_text(meta, "Author"),
        copyright=_text(meta, "Copyright"),
        url=_text(meta, "Url"),
        url_text=_text(meta, "UrlText"),
        output_message=_text(meta, "OutputMessage"),
        no_output_message=_text(meta, "NoOutputFilesMessage"),
        questions=tuple(questions),
        hints=dict(hints_el.attrib) if hints_el is not None else {},
        files=tuple(names),
    )


def content_hash(data: bytes) -> str:
    """A SHA-256 of a package's members (names and contents), ignoring zip metadata.

    Two packages with the same files have the same hash even if they were
    zipped at different times or with different compression.  Bytes that are
    not a zip are hashed as they are.
    """
    digest = hashlib.sha256()
    budget = [MAX_UNPACKED_BYTES]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                if info.is_dir():
                    continue
                member = hashlib.sha256()
                for block in _blocks(archive, info, budget):
                    member.update(block)
                digest.update(info.filename.encode("utf-8") + b"\0")
                digest.update(member.digest())
    except (zipfile.BadZipFile, ValueError, OSError, RuntimeError):
        return hashlib.sha256(data).hexdigest()
    return digest.hexdigest()


def read_member(archive: zipfile.ZipFile, name: str | zipfile.ZipInfo, limit: int | None = None) -> bytes:
    """One member of a package, unpacked, refusing to unpack more than *limit* bytes (a zip bomb;
    default ``MAX_DOCUMENT_BYTES``).

    Raises :class:`PackageError` when the member is larger or cannot be read.
    """
    budget = [MAX_DOCUMENT_BYTES if limit is None else limit]
    try:
        return b"".join(_blocks(archive, name, budget))
    except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
        raise PackageError(f"cannot read {getattr(name, 'filename', name)} from the package") from exc


def _blocks(archive: zipfile.ZipFile, name: str | zipfile.ZipInfo, budget: list[int]):
    """The unpacked bytes of a member in blocks, spending *budget* (a one-item list shared by calls)."""
    info = name if isinstance(name, zipfile.ZipInfo) else archive.getinfo(name)
    if info.file_size > budget[0]:  # the declared size: no need to start
        raise PackageError(f"{info.filename} unpacks to more than a package may hold ({_mib(budget[0])})")
    with archive.open(info) as handle:
        while True:
            block = handle.read(1 << 20)
            if not block:
                return
            budget[0] -= len(block)
            if budget[0] < 0:  # a size that lied
                raise PackageError(f"{info.filename} unpacks to more than a package may hold")
            yield block


def _mib(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB"
