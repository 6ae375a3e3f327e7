//! Classification of pickle globals into dangerous / unknown / safe.
//!
//! Lists follow domain.md §3, which merges picklescan's `_unsafe_globals` /
//! `_safe_globals` and modelscan's settings, plus a few additions marked below.
//! The unpickler resolves Python 2 names (`__builtin__`, `copy_reg`, ...) through
//! `_compat_pickle` for protocols < 3, so every global is classified both as
//! written and as remapped, and the more severe verdict wins: an attacker can
//! not hide `os.system` behind an alias the loader will translate.

use serde::Serialize;

/// Verdict for one imported global.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Classification {
    /// On the allowlist: plain data reconstruction.
    Safe,
    /// Not on either list: needs review (picklescan calls this "suspicious").
    Unknown,
    /// Can run code, touch files/network, or could not be resolved statically.
    Dangerous,
}

/// Builtins that execute code or reach arbitrary objects. `__import__` comes
/// from domain.md; `setattr`/`delattr`/`globals`/`locals`/`vars`/`execfile`/
/// `reload`/`input`/`file` are Vigil additions (object-graph surgery or I/O).
const DANGEROUS_BUILTINS: &[&str] = &[
    "eval",
    "exec",
    "compile",
    "open",
    "getattr",
    "apply",
    "breakpoint",
    "__import__",
    "setattr",
    "delattr",
    "globals",
    "locals",
    "vars",
    "execfile",
    "reload",
    "input",
    "raw_input",
    "file",
];

/// Modules dangerous in their entirety (and every submodule: `os.path` counts).
const DANGEROUS_MODULES: &[&str] = &[
    // domain.md / picklescan "*" entries
    "os",
    "posix",
    "nt",
    "subprocess",
    "sys",
    "pty",
    "commands",
    "ctypes",
    "runpy",
    "pdb",
    "bdb",
    "cProfile",
    "profile",
    "timeit",
    "socket",
    "ssl",
    "httplib",
    "requests.api",
    "urllib.request",
    "aiohttp",
    "asyncio",
    "webbrowser",
    "pickle",
    "_pickle",
    "cPickle",
    "pip",
    "venv",
    "shutil",
    "pydoc",
    "uuid",
    "numpy.f2py",
    "numpy.testing._private.utils",
    "test",
    "distutils.file_util",
    "_osx_support",
    "_aix_support",
    "_pyrepl",
    // Vigil additions: code loading, process spawning, raw network clients.
    "marshal",
    "importlib",
    "imp",
    "code",
    "codeop",
    "multiprocessing",
    "http.client",
    "ftplib",
    "smtplib",
    "telnetlib",
    "dill",
    "_posixsubprocess",
];

/// Individual dangerous callables as (module, name). A dotted name such as
/// `Bdb.run` matches an entry equal to it or any entry that is its prefix.
const DANGEROUS_NAMES: &[(&str, &str)] = &[
    ("functools", "partial"),
    ("_functools", "partial"),
    ("operator", "attrgetter"),
    ("operator", "itemgetter"),
    ("operator", "methodcaller"),
    ("_operator", "attrgetter"),
    ("_operator", "itemgetter"),
    ("_operator", "methodcaller"),
    ("types", "CodeType"),
    ("types", "FunctionType"),
    ("torch.serialization", "load"),
    ("torch", "load"),
    ("numpy", "load"),
    ("joblib", "load"),
    ("pandas", "read_pickle"),
    ("torch._inductor.codecache", "compile_file"),
    ("logging", "FileHandler"),
    ("_io", "FileIO"),
    ("io", "FileIO"),
    ("_io", "open"),
    ("io", "open"),
    ("cloudpickle.cloudpickle", "_builtin_type"),
    ("cloudpickle.cloudpickle", "_make_function"),
    ("cloudpickle.cloudpickle", "_function_setstate"),
    ("cloudpickle.cloudpickle", "_make_cell"),
    ("cloudpickle.cloudpickle", "_make_empty_cell"),
    ("cloudpickle.cloudpickle", "subimport"),
    ("code", "InteractiveInterpreter.runcode"),
    ("doctest", "debug_script"),
    ("ensurepip", "_run_pip"),
    ("idlelib.autocomplete", "AutoComplete.get_entity"),
    ("idlelib.autocomplete", "AutoComplete.fetch_completions"),
    ("idlelib.calltip", "Calltip.fetch_tip"),
    ("idlelib.calltip", "get_entity"),
    ("idlelib.debugobj", "ObjectTreeItem.SetText"),
    ("idlelib.pyshell", "ModifiedInterpreter.runcode"),
    ("idlelib.pyshell", "ModifiedInterpreter.runcommand"),
    ("idlelib.run", "Executive.runcode"),
    ("imaplib", "IMAP4_stream"),
    ("lib2to3.pgen2.grammar", "Grammar.loads"),
    ("lib2to3.pgen2.pgen", "ParserGenerator.make_label"),
    ("pkgutil", "resolve_name"),
    ("torch._dynamo.guards", "GuardBuilder.get"),
    ("torch.fx.experimental.symbolic_shapes", "ShapeEnv.evaluate_guards_expression"),
    ("torch.jit.unsupported_tensor_ops", "execWrapper"),
    ("torch.utils._config_module", "ConfigModule.load_config"),
    ("torch.utils.bottleneck.__main__", "run_cprofile"),
    ("torch.utils.bottleneck.__main__", "run_autograd_prof"),
    ("torch.utils.collect_env", "run"),
    ("torch.utils.data.datapipes.utils.decoder", "basichandlers"),
    ("trace", "Trace.run"),
    ("trace", "Trace.runctx"),
];

/// Known-safe reconstruction helpers (exact match only: a dotted attribute path
/// hanging off a safe class is *not* safe). The first block is domain.md's list;
/// the second holds Vigil additions that ordinary `torch.save` / numpy pickles
/// reference and that only rebuild plain data.
const SAFE_NAMES: &[(&str, &str)] = &[
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._tensor", "_rebuild_from_type_v2"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    // Vigil additions.
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch", "Size"),
    ("torch", "device"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "slice"),
    ("builtins", "complex"),
    ("builtins", "bytearray"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("joblib.numpy_pickle", "NumpyArrayWrapper"),
    ("sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper"),
];

/// torch dtype objects (`torch.float16`, ...) are pickled as globals.
const TORCH_DTYPES: &[&str] = &[
    "float16",
    "float32",
    "float64",
    "bfloat16",
    "half",
    "float",
    "double",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "bool",
    "complex64",
    "complex128",
];

/// Why a global got its classification (shown to policy authors).
pub(super) fn classify(module: &str, name: &str) -> (Classification, Option<String>) {
    let direct = classify_one(module, name);
    let (m2, n2) = remap_py2(module, name);
    if m2 == module && n2 == name {
        return direct;
    }
    let mapped = classify_one(m2, n2);
    // Protocol < 3 loads the remapped name, so an allowlisted target makes
    // the alias safe; otherwise the more severe verdict wins.
    if direct.0 == Classification::Unknown && mapped.0 == Classification::Safe {
        return mapped;
    }
    if mapped.0 > direct.0 {
        let why = mapped.1.map(|r| format!("{r} (loaded as {m2}.{n2})"));
        return (mapped.0, why);
    }
    direct
}

fn classify_one(module: &str, name: &str) -> (Classification, Option<String>) {
    let module_is_builtins = matches!(module, "builtins" | "__builtin__" | "exceptions");
    let first_name = name.split('.').next().unwrap_or(name);
    if module_is_builtins && DANGEROUS_BUILTINS.contains(&first_name) {
        return danger(format!("builtin {first_name} runs code or reaches arbitrary objects"));
    }
    // Every dotted prefix of the module: `os.path` is dangerous because `os` is.
    let mut end = 0usize;
    for (i, part) in module.split('.').enumerate() {
        end = if i == 0 { part.len() } else { end + 1 + part.len() };
        let prefix = module.get(..end).unwrap_or(module);
        if DANGEROUS_MODULES.contains(&prefix) {
            return danger(format!("module {prefix} is blocklisted"));
        }
    }
    for (m, n) in DANGEROUS_NAMES {
        if *m == module && (name == *n || dotted_prefix(name, n)) {
            return danger(format!("{m}.{n} is blocklisted"));
        }
    }
    // Attribute traversal through dunders (`X.__globals__`, `__subclasses__`)
    // reaches arbitrary objects from any starting point.
    if name.split('.').skip(1).any(|p| p.starts_with("__")) {
        return danger("dotted name walks through a dunder attribute".to_string());
    }
    let safe = SAFE_NAMES.iter().any(|(m, n)| *m == module && *n == name)
        || (module == "torch" && !name.contains('.') && (name.ends_with("Storage") || TORCH_DTYPES.contains(&name)));
    if safe {
        return (Classification::Safe, None);
    }
    (Classification::Unknown, None)
}

fn danger(reason: String) -> (Classification, Option<String>) {
    (Classification::Dangerous, Some(reason))
}

/// `name` starts with `entry` followed by a dot (`Bdb.run` under `Bdb`).
fn dotted_prefix(name: &str, entry: &str) -> bool {
    name.strip_prefix(entry).is_some_and(|rest| rest.starts_with('.'))
}

/// The subset of CPython's `_compat_pickle` mappings that matter for safety.
fn remap_py2<'a>(module: &'a str, name: &'a str) -> (&'a str, &'a str) {
    match (module, name) {
        ("__builtin__", "reduce") => return ("functools", "reduce"),
        ("__builtin__", "intern") => return ("sys", "intern"),
        ("urllib", "urlopen" | "urlretrieve" | "URLopener" | "FancyURLopener") => {
            return ("urllib.request", name);
        }
        _ => {}
    }
    let m = match module {
        "__builtin__" | "exceptions" => "builtins",
        "copy_reg" => "copyreg",
        "cPickle" => "pickle",
        "httplib" => "http.client",
        "commands" => "subprocess",
        "urllib2" => "urllib.request",
        "cStringIO" | "StringIO" => "io",
        "UserDict" | "UserList" | "UserString" => "collections",
        _ => module,
    };
    (m, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(m: &str, n: &str) -> Classification {
        classify(m, n).0
    }

    #[test]
    fn dangerous_lists() {
        assert_eq!(c("os", "system"), Classification::Dangerous);
        assert_eq!(c("os.path", "join"), Classification::Dangerous);
        assert_eq!(c("posix", "system"), Classification::Dangerous);
        assert_eq!(c("builtins", "eval"), Classification::Dangerous);
        assert_eq!(c("__builtin__", "getattr"), Classification::Dangerous);
        assert_eq!(c("builtins", "__import__"), Classification::Dangerous);
        assert_eq!(c("functools", "partial"), Classification::Dangerous);
        assert_eq!(c("bdb", "Bdb.run"), Classification::Dangerous);
        assert_eq!(c("aiohttp.client", "ClientSession"), Classification::Dangerous);
        assert_eq!(c("torch.serialization", "load"), Classification::Dangerous);
        assert_eq!(c("__builtin__", "intern"), Classification::Dangerous);
        assert_eq!(c("numpy", "dtype.__class__"), Classification::Dangerous);
    }

    #[test]
    fn safe_and_unknown() {
        assert_eq!(c("collections", "OrderedDict"), Classification::Safe);
        assert_eq!(c("torch", "FloatStorage"), Classification::Safe);
        assert_eq!(c("torch._utils", "_rebuild_tensor_v2"), Classification::Safe);
        assert_eq!(c("numpy", "dtype"), Classification::Safe);
        assert_eq!(c("torch._utils", "_rebuild_tensor"), Classification::Unknown);
        assert_eq!(c("collections", "OrderedDict.fromkeys"), Classification::Unknown);
        assert_eq!(c("ospath", "x"), Classification::Unknown);
        assert_eq!(c("__builtin__", "dict"), Classification::Unknown);
    }
}
