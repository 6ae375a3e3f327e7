//! `Report`, `Finding` and `InputProblem`: what a check or an evaluation found, for Python.
//!
//! Every field Python sees is read from the JSON report (`vigil::unstable::report::json`), so a finding's
//! attributes, `to_dict()`, `to_json()` and `policy check --format json` can never disagree. The JSON is
//! rendered on first access only: an embedding that just asks `report.passed` does not pay for it.

use std::sync::{Arc, OnceLock};

use pyo3::exceptions::PyAttributeError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use vigil::unstable::report::{human, json, paths::Paths, sarif};
use vigil::{RuleInfo, Severity};

use crate::convert::to_python;

/// How findings and errors are drawn as text: no colour (the text may end up anywhere), 100 columns.
const STYLE: human::Style = human::Style { color: false, width: 100 };

/// A finished run: the engine's report plus what the writers need.
#[pyclass(frozen, module = "vigil")]
pub struct Report {
    report: vigil::Report,
    rules: Vec<Arc<RuleInfo>>,
    fail_on: Option<Severity>,
    /// The policy set's digest, recorded in the JSON report as `policy check` records it.
    policy_digest: String,
    json: OnceLock<serde_json::Value>,
    findings: OnceLock<Py<PyList>>,
    errors: OnceLock<Py<PyList>>,
}

impl Report {
    /// `root`: the repository root fingerprints and SARIF name files from; by default the nearest folder
    /// above the working directory holding `.git`, else the working directory (as `policy check --root`).
    pub fn new(
        mut report: vigil::Report,
        rules: Vec<Arc<RuleInfo>>,
        fail_on: Option<Severity>,
        root: Option<&std::path::Path>,
        policy_digest: String,
    ) -> Report {
        report.paths = paths(root);
        let (json, findings, errors) = (OnceLock::new(), OnceLock::new(), OnceLock::new());
        Report { report, rules, fail_on, policy_digest, json, findings, errors }
    }

    /// The JSON report, exactly as `policy check --format json` writes it (docs/output.md).
    fn render_json(&self) -> String {
        let run = json::Run { policy_digest: Some(&self.policy_digest), ..Default::default() };
        json::render_run(&self.report, self.fail_on, run)
    }

    fn json(&self) -> &serde_json::Value {
        self.json.get_or_init(|| serde_json::from_str(&self.render_json()).unwrap_or(serde_json::Value::Null))
    }

    fn section(&self, key: &str) -> Vec<serde_json::Value> {
        self.json().get(key).and_then(|v| v.as_array()).cloned().unwrap_or_default()
    }
}

/// `Paths::detect` for the working directory, remembered for the last (working directory, root): it
/// resolves every folder up to the git top level, about 10 µs from a deep folder, which `evaluate` would
/// otherwise pay on every call. A `.git` created later in a folder already seen is not noticed.
fn paths(root: Option<&std::path::Path>) -> Paths {
    type Seen = Option<(std::path::PathBuf, Option<std::path::PathBuf>, Paths)>;
    static LAST: std::sync::Mutex<Seen> = std::sync::Mutex::new(None);
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    match &*last {
        Some((c, r, paths)) if *c == cwd && r.as_deref() == root => paths.clone(),
        _ => {
            let paths = Paths::detect(&cwd, root);
            *last = Some((cwd, root.map(Into::into), paths.clone()));
            paths
        }
    }
}

#[pymethods]
impl Report {
    /// The findings, in input order.
    #[getter]
    fn findings(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        if let Some(list) = self.findings.get() {
            return Ok(list.clone_ref(py));
        }
        let items = self.section("findings");
        let list = PyList::empty(py);
        for (inner, data) in self.report.findings.iter().zip(items) {
            list.append(Py::new(py, Finding { inner: inner.clone(), data })?)?;
        }
        Ok(self.findings.get_or_init(|| list.unbind()).clone_ref(py))
    }

    /// Inputs that could not be read or parsed. Not knowing is not clean: they make `passed` false.
    #[getter]
    fn errors(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        if let Some(list) = self.errors.get() {
            return Ok(list.clone_ref(py));
        }
        let items = self.section("errors");
        let list = PyList::empty(py);
        for (inner, data) in self.report.errors.iter().zip(items) {
            list.append(Py::new(py, InputProblem { inner: inner.clone(), data })?)?;
        }
        Ok(self.errors.get_or_init(|| list.unbind()).clone_ref(py))
    }

    /// Files passed over while walking folders: a list of `{"file", "reason"}` dicts.
    #[getter]
    fn skipped(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_python(py, &serde_json::Value::Array(self.section("skipped")))
    }

    /// Counts: files, documents, findings, errors, skipped, fail_on, failing, waived, by_severity, kinds.
    #[getter]
    fn summary(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_python(py, self.json().get("summary").unwrap_or(&serde_json::Value::Null))
    }

    /// True when every input was read, some document was checked, and no unwaived finding is at or
    /// above `fail_on`.
    #[getter]
    fn passed(&self) -> bool {
        self.exit_code() == 0
    }

    /// What `policy check` would exit with: 2 when an input could not be read or no document was
    /// checked, 1 when an unwaived finding is at or above `fail_on` or a rule could not be evaluated,
    /// else 0.
    #[getter]
    fn exit_code(&self) -> i32 {
        // An empty run is not a pass either: `policy check` without --allow-empty.
        if self.report.documents() == 0 { 2 } else { i32::from(self.report.exit_code(self.fail_on)) }
    }

    /// The JSON report, exactly as `policy check --format json` writes it (docs/output.md).
    fn to_json(&self, py: Python<'_>) -> String {
        py.detach(|| self.render_json())
    }

    /// SARIF 2.1.0, for code scanning; file locations are relative to the repository root.
    fn to_sarif(&self, py: Python<'_>) -> String {
        py.detach(|| {
            let rules: Vec<&RuleInfo> = self.rules.iter().map(|r| &**r).collect();
            sarif::render(&self.report, &rules, &std::env::current_dir().unwrap_or_default())
        })
    }

    /// JUnit XML, for CI test reports.
    fn to_junit(&self, py: Python<'_>) -> String {
        py.detach(|| {
            let rules: Vec<&RuleInfo> = self.rules.iter().map(|r| &**r).collect();
            vigil::unstable::report::junit::render(&self.report, &rules)
        })
    }

    /// The human report: each finding with the offending lines of its input, then the summary.
    fn render(&self, py: Python<'_>) -> String {
        py.detach(|| human::render(&self.report, STYLE))
    }

    fn __len__(&self) -> usize {
        self.report.findings.len()
    }

    fn __bool__(&self) -> bool {
        // A report is always a report; `if report:` must not silently mean "has findings".
        true
    }

    fn __repr__(&self) -> String {
        format!(
            "<vigil.Report: {} findings, {} errors, {} documents, {}>",
            self.report.findings.len(),
            self.report.errors.len(),
            self.report.documents(),
            if self.passed() { "passed" } else { "failed" }
        )
    }
}

/// One rule failing on one document.
#[pyclass(frozen, module = "vigil")]
pub struct Finding {
    inner: vigil::Finding,
    data: serde_json::Value,
}

#[pymethods]
impl Finding {
    /// The finding as a dict, with the same keys as in the JSON report.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_python(py, &self.data)
    }

    /// The finding as the human report draws it: the message under the offending lines of the input.
    fn render(&self, py: Python<'_>) -> String {
        py.detach(|| human::render_finding(&self.inner, STYLE))
    }

    /// Any key of the JSON finding: rule, title, severity, cause, message, file, document, kind, line,
    /// column, end_line, end_column, pointer, controls, remediation, waived, waiver, fingerprint.
    fn __getattr__(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        match self.data.get(name) {
            Some(v) => to_python(py, v),
            None => Err(PyAttributeError::new_err(format!("'vigil.Finding' object has no attribute '{name}'"))),
        }
    }

    fn __repr__(&self) -> String {
        let at = |k: &str| self.data.get(k).and_then(|v| v.as_u64()).map_or(String::new(), |n| format!(":{n}"));
        format!(
            "<vigil.Finding {} [{}] {}{}{}: {}>",
            self.inner.rule.id,
            self.inner.severity.name(),
            self.inner.file(),
            at("line"),
            at("column"),
            self.inner.message
        )
    }
}

/// An input that could not be read or parsed.
#[pyclass(frozen, module = "vigil")]
pub struct InputProblem {
    inner: vigil::LoadError,
    data: serde_json::Value,
}

#[pymethods]
impl InputProblem {
    /// `{"file", "line", "column", "message"}`, as in the JSON report.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_python(py, &self.data)
    }

    /// The diagnostic as text, with the offending line when the file had one.
    fn render(&self) -> String {
        STYLE.render(&self.inner)
    }

    /// file, line, column or message.
    fn __getattr__(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        match self.data.get(name) {
            Some(v) => to_python(py, v),
            None => Err(PyAttributeError::new_err(format!("'vigil.InputProblem' object has no attribute '{name}'"))),
        }
    }

    fn __repr__(&self) -> String {
        format!("<vigil.InputProblem {}: {}>", self.inner.file, self.inner.message)
    }
}
