"""Vigil: policy-as-code for AI systems.

Compile policies once, then check files and folders, evaluate data already in memory, and inspect model
files without ever loading them::

    import vigil

    ps = vigil.compile(["policies/"], params={"trusted_base_model_orgs": ["acme"]})
    report = ps.check(["models/"], fail_on="high")
    for f in report.findings:
        print(f.file, f.line, f.rule, f.severity, f.message)

    facts = vigil.inspect("downloads/pytorch_model.bin")   # never unpickled
    if facts["verdict"] != "clean": ...

See docs/python.md in the repository.
"""

from ._vigil import (
    KINDS,
    Finding,
    InputError,
    InputProblem,
    PolicyError,
    PolicySet,
    Report,
    VigilError,
    __version__,
    compile,
    inspect,
)

__all__ = [
    "KINDS",
    "Finding",
    "InputError",
    "InputProblem",
    "PolicyError",
    "PolicySet",
    "Report",
    "VigilError",
    "__version__",
    "compile",
    "inspect",
]
