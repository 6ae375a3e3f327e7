//! The `vigil` Python package: compile policies once, check files and folders, evaluate data already in
//! memory, and inspect model files without loading them (docs/python.md).
//!
//! Built only from the library: the public API, plus `vigil::unstable` for the tool layer the command line
//! also uses (the bundled packs, report writers, the check pipeline). The GIL is released (`py.detach`,
//! formerly `allow_threads`) around every call into the engine, so Python threads run checks in parallel.

mod convert;
mod report;

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use vigil::unstable::input::{self as input, Input, LoadOptions, Loaded};
use vigil::unstable::pipeline::{CheckOptions, check};
use vigil::unstable::report::human;
use vigil::{Engine, Kind, RuleSettings, Severity, Value};

use crate::report::{Finding, InputProblem, Report};

pyo3::create_exception!(vigil, VigilError, PyException, "Base class of every error Vigil raises.");
pyo3::create_exception!(
    vigil,
    PolicyError,
    VigilError,
    "The policies do not compile. `diagnostics` lists every problem with its file, line, column and span."
);
pyo3::create_exception!(
    vigil,
    InputError,
    VigilError,
    "An input given to `evaluate` or `inspect` could not be read or parsed; `file`, `line`, `column` and \
     `span` say where."
);

const STYLE: human::Style = human::Style { color: false, width: 100 };

/// What a policy set was compiled from, kept so `check(now=...)` can compile it again for another clock:
/// constants and parameters may be computed from `now()`, so the clock cannot change after compiling.
struct Recipe {
    sources: Vec<(String, String)>,
    params: Vec<(String, Value)>,
    settings: RuleSettings,
    now: Option<jiff::Timestamp>,
}

/// Why a recipe did not compile; turned into a Python exception once the GIL is held again.
enum Failure {
    Policies(vigil::Diagnostics),
    Settings(String),
}

impl Failure {
    fn into_py(self, py: Python<'_>) -> PyErr {
        match self {
            Failure::Policies(d) => policy_error(py, &d).unwrap_or_else(|e| e),
            Failure::Settings(e) => PolicyError::new_err(format!("rule settings: {e}")),
        }
    }
}

impl Recipe {
    fn compile(&self, now: Option<jiff::Timestamp>) -> Result<vigil::PolicySet, Failure> {
        let mut builder = Engine::builder();
        for (name, value) in &self.params {
            builder = builder.param(name.clone(), value.clone());
        }
        if let Some(now) = now {
            builder = builder.now(now);
        }
        let sources = self.sources.iter().map(|(n, t)| (n.as_str(), t.as_str()));
        let set = builder.build().compile(sources).map_err(Failure::Policies)?;
        set.with_settings(&self.settings).map_err(|e| Failure::Settings(e.to_string()))
    }
}

/// Compiled policies: immutable and safe to share between threads. Compile once, check many times.
#[pyclass(frozen, module = "vigil")]
struct PolicySet {
    set: vigil::PolicySet,
    recipe: Arc<Recipe>,
}

impl PolicySet {
    /// The set to run with: this one, or one compiled again when `now` pins another clock.
    fn for_now(&self, now: Option<jiff::Timestamp>) -> Result<vigil::PolicySet, Failure> {
        match now {
            Some(now) if Some(now) != self.recipe.now => self.recipe.compile(Some(now)),
            _ => Ok(self.set.clone()),
        }
    }

    fn rules_vec(&self) -> Vec<Arc<vigil::RuleInfo>> {
        self.set.rules().cloned().collect()
    }
}

#[pymethods]
impl PolicySet {
    /// Checks files and folders as `policy check` does: folders are walked (honouring .gitignore),
    /// model files are inspected without being loaded, cross-document rules see every input.
    #[pyo3(signature = (paths, *, fail_on = Some("low"), now = None, exclude = None, hash = true, strict = false, listed = false, root = None))]
    #[allow(clippy::too_many_arguments)]
    fn check(
        &self,
        py: Python<'_>,
        paths: &Bound<'_, PyAny>,
        fail_on: Option<&str>,
        now: Option<&Bound<'_, PyAny>>,
        exclude: Option<Vec<String>>,
        hash: bool,
        strict: bool,
        listed: bool,
        root: Option<PathBuf>,
    ) -> PyResult<Report> {
        let paths = convert::paths(paths)?;
        let fail_on = convert::fail_on(fail_on)?;
        let now = convert::now(now)?;
        let mut load = LoadOptions::default();
        load.artifacts.hash = hash;
        let options = CheckOptions::new(paths)
            .with_excludes(exclude.unwrap_or_default())
            .with_load(load)
            .with_strict(strict)
            // Files from a listing of a folder are what a walk of that folder finds: one that is no input of
            // any rule (a README without front matter, an unknown format) is skipped, not an error.
            .with_named_as_found(listed);
        let set = py.detach(|| self.for_now(now)).map_err(|f| f.into_py(py))?;
        let report = py.detach(|| check(&set, &options));
        Ok(Report::new(report, self.rules_vec(), fail_on, root.as_deref(), set.digest().to_string()))
    }

    /// Evaluates one input already in memory: a dict or list (handed over as JSON), or the text of a
    /// file (YAML, JSON, a Markdown model card ...). `name` is the file name findings carry; its
    /// extension picks the format of text. `kind` overrides kind detection.
    #[pyo3(signature = (data, *, kind = None, name = None, fail_on = Some("low"), now = None))]
    fn evaluate(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        kind: Option<&str>,
        name: Option<String>,
        fail_on: Option<&str>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Report> {
        let kind = convert::kind(kind)?;
        let fail_on = convert::fail_on(fail_on)?;
        let now = convert::now(now)?;
        let (name, text) = if data.is_instance_of::<PyString>() {
            (name.unwrap_or_else(|| "<memory>".into()), data.extract::<String>()?)
        } else if data.is_instance_of::<PyDict>() || data.is_instance_of::<PyList>() {
            let json = convert::to_json(data)?;
            // Pretty, so a rendered finding shows the offending key on its own line.
            let text = serde_json::to_string_pretty(&json).map_err(|e| PyValueError::new_err(e.to_string()))?;
            (name.unwrap_or_else(|| "<memory>.json".into()), text)
        } else {
            return Err(PyTypeError::new_err(format!(
                "data must be a dict, a list or the text of a document, not {}",
                convert::type_name(data)
            )));
        };
        let options = LoadOptions::default().with_kind(kind);
        // One release of the GIL for the whole call: each costs a little, and this is the hot path of embedding.
        let report = py
            .detach(|| {
                let set = self.for_now(now).map_err(Err)?;
                let docs = vigil::Document::parse(&name, &text, &options).map_err(Ok)?;
                Ok((set.evaluate(&docs), set.digest().to_string()))
            })
            .map_err(|e| match e {
                Ok(load) => input_error(py, &load),
                Err(failure) => failure.into_py(py),
            })?;
        let (report, digest) = report;
        Ok(Report::new(report, self.rules_vec(), fail_on, None, digest))
    }

    /// For the benchmark (bench.py): evaluates each text in a Rust loop, as `evaluate(text, name=name)`
    /// does but without Python in between, and returns the nanoseconds each took, parse to report. The
    /// difference from timing `evaluate` in Python is the cost of crossing into Python and back.
    fn _evaluate_native(&self, py: Python<'_>, texts: Vec<String>, name: &str) -> Vec<u64> {
        let options = LoadOptions::default();
        py.detach(|| {
            texts
                .iter()
                .map(|text| {
                    let start = std::time::Instant::now();
                    let report = vigil::Document::parse(name, text, &options).map(|docs| self.set.evaluate(&docs));
                    std::hint::black_box(report.map(|r| r.findings.len()).ok());
                    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
                })
                .collect()
        })
    }

    /// Every rule: id, title, description, severity, kinds, controls, remediation, tags, url, package,
    /// file, line.
    #[getter]
    fn rules(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let rules: Vec<&vigil::RuleInfo> = self.set.rules().map(|r| &**r).collect();
        convert::serialize_to_python(py, &rules)
    }

    /// SHA-256 of the policy sources (names and texts, in order), as the audit log records it.
    #[getter]
    fn digest(&self, py: Python<'_>) -> String {
        py.detach(|| self.set.digest().to_string())
    }

    fn __len__(&self) -> usize {
        self.set.rules().count()
    }

    fn __repr__(&self) -> String {
        format!("<vigil.PolicySet: {} rules from {} files>", self.set.rules().count(), self.recipe.sources.len())
    }
}

/// Compiles policies: `.policy` files, folders of them, and policy texts.
#[pyfunction]
#[pyo3(signature = (paths_or_sources = None, *, params = None, builtin = true, now = None, disable = None, enable = None, severity = None))]
#[allow(clippy::too_many_arguments)]
fn compile(
    py: Python<'_>,
    paths_or_sources: Option<&Bound<'_, PyAny>>,
    params: Option<&Bound<'_, PyDict>>,
    builtin: bool,
    now: Option<&Bound<'_, PyAny>>,
    disable: Option<Vec<String>>,
    enable: Option<Vec<String>>,
    severity: Option<std::collections::BTreeMap<String, String>>,
) -> PyResult<PolicySet> {
    let mut sources: Vec<(String, String)> = Vec::new();
    if builtin {
        sources.extend(vigil::unstable::bundled::BUNDLED.iter().map(|(n, t)| (n.to_string(), t.to_string())));
    }
    let mut files: Vec<PathBuf> = Vec::new();
    if let Some(items) = paths_or_sources {
        let items: Vec<Bound<'_, PyAny>> = if items.is_instance_of::<PyList>() || items.is_instance_of::<PyTuple>() {
            // A 2-tuple of strings is one `(name, text)` source, not two paths.
            if items.is_instance_of::<PyTuple>() && items.extract::<(String, String)>().is_ok() {
                vec![items.clone()]
            } else {
                items.try_iter()?.collect::<PyResult<_>>()?
            }
        } else {
            vec![items.clone()]
        };
        for item in items {
            source_item(&item, &mut sources, &mut files)?;
        }
    }
    let texts = py.detach(|| {
        let mut read = Vec::new();
        for path in &files {
            vigil::unstable::bundled::read_policies(path, None, &mut read)?;
        }
        Ok::<_, String>(read)
    });
    sources.extend(texts.map_err(VigilError::new_err)?);
    if sources.is_empty() {
        return Err(PyValueError::new_err("no policies: with builtin=False, give at least one policy file or text"));
    }
    let mut values = Vec::new();
    for (k, v) in params.map(|d| d.iter().collect::<Vec<_>>()).unwrap_or_default() {
        let name: String = k.extract().map_err(|_| PyTypeError::new_err("params: names must be str"))?;
        values.push((name, Value::from(convert::to_json(&v)?)));
    }
    let mut settings =
        RuleSettings::default().with_disable(disable.unwrap_or_default()).with_enable(enable.unwrap_or_default());
    for (rule, level) in severity.unwrap_or_default() {
        let level: Severity = level.parse().map_err(|_| {
            PyValueError::new_err(format!("severity[{rule}]: `{level}` is not info, low, medium, high or critical"))
        })?;
        settings.severity.push((rule, level));
    }
    let recipe = Recipe { sources, params: values, settings, now: convert::now(now)? };
    let set = py.detach(|| recipe.compile(recipe.now)).map_err(|f| f.into_py(py))?;
    Ok(PolicySet { set, recipe: Arc::new(recipe) })
}

/// One item given to `compile`: a path (`os.PathLike`, or a `str` on one line), a policy text (a `str`
/// with a line break), or a `(name, text)` pair.
fn source_item(item: &Bound<'_, PyAny>, sources: &mut Vec<(String, String)>, files: &mut Vec<PathBuf>) -> PyResult<()> {
    if let Ok((name, text)) = item.extract::<(String, String)>() {
        sources.push((name, text));
    } else if item.is_instance_of::<PyString>() {
        let text: String = item.extract()?;
        if text.contains('\n') {
            sources.push((format!("<source {}>", sources.len() + 1), text));
        } else {
            files.push(PathBuf::from(text));
        }
    } else if let Ok(path) = item.extract::<PathBuf>() {
        files.push(path);
    } else {
        return Err(PyTypeError::new_err(format!(
            "policies must be paths, policy texts or (name, text) pairs, not {}",
            convert::type_name(item)
        )));
    }
    Ok(())
}

/// Inspects a model file (pickle, PyTorch, safetensors, GGUF, ONNX, Keras ...) without loading or
/// executing it, and returns its facts as policies see them (`input` of a ModelArtifact).
#[pyfunction]
#[pyo3(signature = (path, *, hash = true))]
fn inspect(py: Python<'_>, path: PathBuf, hash: bool) -> PyResult<Py<PyAny>> {
    let mut options = LoadOptions::default();
    options.artifacts.hash = hash;
    let input = Input { path: path.clone(), explicit: true };
    let loaded = py.detach(|| input::load(&input, &options)).map_err(|e| input_error(py, &e))?;
    let docs = match loaded {
        Loaded::Documents(docs) => docs,
        Loaded::Skipped(s) => return Err(VigilError::new_err(format!("{}: skipped: {}", path.display(), s.reason))),
    };
    match docs.first() {
        Some(doc) if doc.kind() == Kind::ModelArtifact => convert::serialize_to_python(py, doc.data()),
        Some(doc) => Err(VigilError::new_err(format!(
            "{}: a {} document, not a model file; check it with PolicySet.check or evaluate",
            path.display(),
            doc.kind().name()
        ))),
        None => Err(VigilError::new_err(format!("{}: no document", path.display()))),
    }
}

/// A `PolicyError` carrying every diagnostic: code, message, file, line, column, span, help, rendered.
fn policy_error(py: Python<'_>, diagnostics: &vigil::Diagnostics) -> PyResult<PyErr> {
    let mut rendered = String::new();
    let list = PyList::empty(py);
    for d in diagnostics.iter() {
        let text = STYLE.render(d);
        rendered.push_str(&text);
        let (line, column) = d.source.line_col(d.span.start);
        let entry = PyDict::new(py);
        entry.set_item("code", d.code.as_str())?;
        entry.set_item("message", &d.message)?;
        entry.set_item("file", d.source.name())?;
        entry.set_item("line", line)?;
        entry.set_item("column", column)?;
        entry.set_item("span", (d.span.start, d.span.end))?;
        entry.set_item("help", d.help.as_deref())?;
        entry.set_item("rendered", text)?;
        list.append(entry)?;
    }
    let err = PolicyError::new_err(rendered.clone());
    let value = err.value(py);
    let first = list.get_item(0)?;
    for key in ["file", "line", "column", "span", "code"] {
        value.setattr(key, first.get_item(key)?)?;
    }
    value.setattr("rendered", rendered)?;
    value.setattr("diagnostics", list)?;
    Ok(err)
}

/// An `InputError` for an input that did not load: file, line, column, span (`None` when unknown), rendered.
fn input_error(py: Python<'_>, e: &vigil::LoadError) -> PyErr {
    let rendered = STYLE.render(e);
    let err = InputError::new_err(rendered.clone());
    let value = err.value(py);
    let at = e.line_col();
    let set = || -> PyResult<()> {
        value.setattr("file", e.file.as_ref())?;
        value.setattr("message", &e.message)?;
        value.setattr("line", at.map(|p| p.0))?;
        value.setattr("column", at.map(|p| p.1))?;
        value.setattr("span", e.span.map(|s| (s.start, s.end)))?;
        value.setattr("rendered", rendered)
    };
    match set() {
        Ok(()) => err,
        Err(other) => other,
    }
}

#[pymodule]
fn _vigil(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(compile, m)?)?;
    m.add_function(wrap_pyfunction!(inspect, m)?)?;
    m.add_class::<PolicySet>()?;
    m.add_class::<Report>()?;
    m.add_class::<Finding>()?;
    m.add_class::<InputProblem>()?;
    m.add("VigilError", py.get_type::<VigilError>())?;
    m.add("PolicyError", py.get_type::<PolicyError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
    m.add("KINDS", kinds)?;
    Ok(())
}
