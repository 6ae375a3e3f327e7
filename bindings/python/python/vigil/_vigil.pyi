"""Type stubs for the compiled extension `vigil._vigil` (re-exported by `vigil`)."""

import datetime
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

__version__: str

KINDS: List[str]
"""Every document kind: ``"ModelCard"``, ``"MLBom"``, ``"ModelArtifact"``, ``"InferenceService"`` ..."""

StrPath = Union[str, "os.PathLike[str]"]
Paths = Union[StrPath, Sequence[StrPath]]
PolicyItem = Union[StrPath, Tuple[str, str]]
Now = Union[str, datetime.date, datetime.datetime, None]
JsonData = Union[Dict[str, Any], List[Any]]

class VigilError(Exception):
    """Base class of every error Vigil raises."""

class PolicyError(VigilError):
    """The policies do not compile.

    ``str(error)`` is every problem rendered with the offending policy lines; the attributes describe the
    first one, and ``diagnostics`` lists all of them.
    """

    file: str
    line: int
    column: int
    span: Tuple[int, int]
    """Byte offsets ``(start, end)`` into the policy text."""
    code: str
    """The problem's kind: ``"vigil::syntax"``, ``"vigil::unknown-name"``, ``"vigil::type"`` ..."""
    rendered: str
    diagnostics: List[Dict[str, Any]]
    """One dict per problem: code, message, file, line, column, span, help, rendered."""

class InputError(VigilError):
    """An input given to :meth:`PolicySet.evaluate` or :func:`inspect` could not be read or parsed."""

    file: str
    message: str
    line: Optional[int]
    column: Optional[int]
    span: Optional[Tuple[int, int]]
    """Byte offsets ``(start, end)`` into the input text, for syntax errors."""
    rendered: str

class Finding:
    """One rule failing on one document. Attributes are the keys of a finding in the JSON report."""

    rule: str
    title: str
    severity: str
    """``"info"``, ``"low"``, ``"medium"``, ``"high"`` or ``"critical"``."""
    cause: str
    """``"violation"``, ``"missing-data"``, ``"invalid-data"`` or ``"error"``."""
    message: str
    file: str
    document: int
    """Which document of the file (multi-document YAML), from 0."""
    kind: str
    line: Optional[int]
    column: Optional[int]
    end_line: Optional[int]
    end_column: Optional[int]
    pointer: str
    """JSON pointer to the offending value (``/model-index/0/results``); empty when the data is absent."""
    controls: List[str]
    """Framework controls: ``OWASP-LLM03``, ``EU-AI-Act-Art15`` ..."""
    remediation: Optional[str]
    waived: bool
    waiver: Optional[Dict[str, Any]]
    fingerprint: str
    """Stable across runs and line moves; what baselines record."""
    def to_dict(self) -> Dict[str, Any]:
        """The finding as a dict, with the same keys as in the JSON report."""
    def render(self) -> str:
        """The finding as the human report draws it: the message under the offending lines."""

class InputProblem:
    """An input that could not be read or parsed, in :attr:`Report.errors`."""

    file: str
    line: Optional[int]
    column: Optional[int]
    message: str
    def to_dict(self) -> Dict[str, Any]:
        """``{"file", "line", "column", "message"}``, as in the JSON report."""
    def render(self) -> str:
        """The problem as text, with the offending line when there is one."""

class Report:
    """What a check or an evaluation found."""

    @property
    def findings(self) -> List[Finding]:
        """The findings, in input order."""
    @property
    def errors(self) -> List[InputProblem]:
        """Inputs that could not be read or parsed. They make :attr:`passed` false: not knowing is not clean."""
    @property
    def skipped(self) -> List[Dict[str, str]]:
        """Files passed over while walking folders, with the reason: ``{"file", "reason"}``."""
    @property
    def summary(self) -> Dict[str, Any]:
        """files, documents, findings, errors, skipped, fail_on, failing, waived, by_severity, kinds."""
    @property
    def passed(self) -> bool:
        """Every input was read, some document was checked, and no unwaived finding is at or above ``fail_on``."""
    @property
    def exit_code(self) -> int:
        """What ``policy check`` would exit with: 0 passed, 1 failing findings, 2 unreadable inputs or nothing checked."""
    def to_json(self) -> str:
        """The JSON report, exactly as ``policy check --format json`` writes it."""
    def to_sarif(self) -> str:
        """SARIF 2.1.0 for code scanning; file locations relative to the repository root."""
    def to_junit(self) -> str:
        """JUnit XML for CI test reports."""
    def render(self) -> str:
        """The human report: each finding under the offending lines of its input, then the summary."""
    def __len__(self) -> int:
        """The number of findings."""

class PolicySet:
    """Compiled policies: immutable, and safe to use from many threads at once (the GIL is released
    while Vigil works)."""

    def check(
        self,
        paths: Paths,
        *,
        fail_on: Optional[str] = "low",
        now: Now = None,
        exclude: Optional[Sequence[str]] = None,
        hash: bool = True,
        strict: bool = False,
        listed: bool = False,
        root: Optional[StrPath] = None,
    ) -> Report:
        """Checks files and folders as ``policy check`` does.

        Folders are walked honouring ``.gitignore``; model files are inspected, never loaded; rules that
        compare documents (``documents(...)``) see every input of the call.

        :param fail_on: ``"info"`` ... ``"critical"``, or ``"never"``/``None``: the threshold for
            :attr:`Report.passed` and the summary's ``failing``.
        :param now: pins "today" for date rules (``"2026-01-01"``, an RFC 3339 text, a ``date`` or
            ``datetime``; naive datetimes are UTC). The policies are compiled again for that clock.
        :param exclude: gitignore-style globs to leave out of folders.
        :param hash: compute SHA-256 digests of model files (digest rules cannot verify without).
        :param strict: a file found in a folder that does not parse is an error even when no rule reads it.
        :param listed: the paths are files listed from a folder (a work item of a distributed scan): each is
            treated as found by a walk, so one that is no input of any rule is skipped with the reason rather
            than an error, exactly as ``policy check FOLDER`` does.
        :param root: the repository root that fingerprints and SARIF name files from (``policy check --root``);
            by default the nearest folder above the working directory holding ``.git``, else the working directory.
        """
    def evaluate(
        self,
        data: Union[JsonData, str],
        *,
        kind: Optional[str] = None,
        name: Optional[str] = None,
        fail_on: Optional[str] = "low",
        now: Now = None,
    ) -> Report:
        """Evaluates one input already in memory, such as a model card before it is used.

        :param data: a dict or list (evaluated as a JSON document), or the text of a file (YAML, JSON, a
            Markdown model card with front matter ...).
        :param kind: the document kind (see :data:`KINDS`); detected from the content and ``name`` if not given.
        :param name: the file name findings carry; its extension picks the format of text
            (``"README.md"`` for a model card). Defaults to ``"<memory>"`` / ``"<memory>.json"``.
        :raises InputError: the text does not parse.
        """
    @property
    def rules(self) -> List[Dict[str, Any]]:
        """Every rule: id, title, description, severity, kinds, controls, remediation, tags, url, package, file, line."""
    @property
    def digest(self) -> str:
        """SHA-256 of the policy sources, as the audit log records it."""
    def __len__(self) -> int:
        """The number of rules."""

def compile(
    paths_or_sources: Union[PolicyItem, Sequence[PolicyItem], None] = None,
    *,
    params: Optional[Mapping[str, Any]] = None,
    builtin: bool = True,
    now: Now = None,
    disable: Optional[Sequence[str]] = None,
    enable: Optional[Sequence[str]] = None,
    severity: Optional[Mapping[str, str]] = None,
) -> PolicySet:
    """Compiles policies once, for many checks.

    :param paths_or_sources: ``.policy`` files and folders of them (``os.PathLike``, or a ``str`` without
        a line break), policy texts (a ``str`` with a line break), or ``(name, text)`` pairs.
    :param params: overrides of policy ``param`` values, by name (``"trusted_base_model_orgs"``) or
        qualified name; values are JSON-shaped Python data.
    :param builtin: include the bundled policy packs.
    :param now: pins "today" for date rules (see :meth:`PolicySet.check`).
    :param disable: rule ids or globs (``"MC-*"``) to switch off; ``enable`` switches them back on.
    :param severity: new severities by rule id or glob: ``{"ART-002": "critical"}``.
    :raises PolicyError: a policy does not compile; every problem is in ``diagnostics``.
    """

def inspect(path: StrPath, *, hash: bool = True) -> Dict[str, Any]:
    """Inspects a model file without loading or executing it.

    Pickles, PyTorch checkpoints, joblib, NumPy, safetensors, GGUF, ONNX, Keras and archives are read as
    bytes; a pickle's opcodes are disassembled, never run. Returns the facts policies see as the
    ``input`` of a ``ModelArtifact`` (docs/artifacts.md): ``format``, ``serialization``,
    ``executes_code_on_load``, ``verdict`` (``"dangerous"``, ``"suspicious"``, ``"uninspected"``, ``"clean"``),
    ``globals``, ``pickles``, ``sha256``, ``errors`` ...

    :param hash: compute the file's SHA-256 (streamed).
    :raises InputError: the file cannot be read.
    :raises VigilError: the file is not a model file.
    """
