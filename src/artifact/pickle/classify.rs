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
/// `reload`/`input`/`file`/`help` are Vigil additions (object-graph surgery,
/// I/O, or a pager process).
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
    "help",
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
    // Vigil additions: code loading and import machinery, process spawning,
    // foreign-function interfaces, raw network clients.
    "marshal",
    "importlib",
    "imp",
    "_imp",
    "_frozen_importlib",
    "_frozen_importlib_external",
    "zipimport",
    "pkgutil",
    "site",
    "code",
    "codeop",
    "multiprocessing",
    "http.client",
    "http.server",
    "ftplib",
    "smtplib",
    "poplib",
    "nntplib",
    "telnetlib",
    "socketserver",
    "xmlrpc",
    "xmlrpclib",
    "dill",
    "_posixsubprocess",
    "_ctypes",
    "cffi",
    "numpy.ctypeslib",
    "_winapi",
    "winreg",
    "_winreg",
    "unittest.mock",
    "mock",
    "gc",
    "platform",
    "logging.config",
    "logging.handlers",
    "torch.hub",
    "torch.package",
    "torch.utils.cpp_extension",
    "setuptools.sandbox",
    "distutils.core",
];

/// Individual dangerous callables as (module, name). A path equal to one of
/// these, or continuing it with more attributes, is dangerous.
const DANGEROUS_NAMES: &[(&str, &str)] = &[
    ("functools", "partial"),
    ("_functools", "partial"),
    ("operator", "attrgetter"),
    ("operator", "itemgetter"),
    ("operator", "methodcaller"),
    ("operator", "call"),
    ("_operator", "attrgetter"),
    ("_operator", "itemgetter"),
    ("_operator", "methodcaller"),
    ("_operator", "call"),
    ("types", "CodeType"),
    ("types", "FunctionType"),
    // Loaders that read another pickle (or model) and so run its code.
    ("torch.serialization", "load"),
    ("torch.serialization", "_load"),
    ("torch.serialization", "_legacy_load"),
    ("torch", "load"),
    ("torch.storage", "_load_from_bytes"),
    ("torch.jit", "load"),
    ("torch.ops", "load_library"),
    ("torch.classes", "load_library"),
    ("numpy", "load"),
    ("numpy", "loads"),
    ("numpy.lib.npyio", "load"),
    ("numpy.lib._npyio_impl", "load"),
    ("numpy.lib.format", "read_array"),
    ("numpy.testing", "runstring"),
    ("joblib", "load"),
    ("joblib.numpy_pickle", "load"),
    ("sklearn.externals.joblib", "load"),
    ("pandas", "read_pickle"),
    ("pandas.io.pickle", "read_pickle"),
    ("pandas.compat.pickle_compat", "load"),
    ("pandas.compat.pickle_compat", "loads"),
    ("cloudpickle", "load"),
    ("cloudpickle", "loads"),
    ("cloudpickle.cloudpickle", "_builtin_type"),
    ("cloudpickle.cloudpickle", "_make_function"),
    ("cloudpickle.cloudpickle", "_function_setstate"),
    ("cloudpickle.cloudpickle", "_make_cell"),
    ("cloudpickle.cloudpickle", "_make_empty_cell"),
    ("cloudpickle.cloudpickle", "subimport"),
    ("jsonpickle", "decode"),
    ("jsonpickle", "loads"),
    ("yaml", "load"),
    ("yaml", "load_all"),
    ("yaml", "unsafe_load"),
    ("yaml", "unsafe_load_all"),
    ("yaml", "full_load"),
    ("yaml", "full_load_all"),
    ("keras.models", "load_model"),
    ("keras.saving", "load_model"),
    ("tensorflow.keras.models", "load_model"),
    ("torch._inductor.codecache", "compile_file"),
    // File writes and commands.
    ("logging", "FileHandler"),
    ("_io", "FileIO"),
    ("io", "FileIO"),
    ("_io", "open"),
    ("io", "open"),
    ("codecs", "open"),
    ("mailcap", "findmatch"),
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

/// Modules whose classes are ordinary data (`pathlib.PosixPath` in a saved
/// config) but whose methods, reached by a dotted name, write files
/// (`pathlib.Path.write_text`): any attribute walk below them is dangerous.
const DANGEROUS_METHODS_OF: &[&str] = &["pathlib", "_pathlib"];

/// Top-level module names that look like dunders but are ordinary places to
/// find classes (`__main__.MyModel` pickled from a notebook).
const DUNDER_MODULES: &[&str] = &["__main__", "__mp_main__", "__builtin__"];

/// `copyreg.__newobj__` does what the NEWOBJ opcode does (`cls.__new__(cls, *args)`).
const DUNDER_EXEMPT: &[(&str, &str)] =
    &[("copyreg", "__newobj__"), ("copyreg", "__newobj_ex__"), ("copy_reg", "__newobj__")];

/// Longest dotted path classified component by component; longer ones are
/// dangerous outright (no real class needs 64 levels of attributes).
const MAX_COMPONENTS: usize = 64;

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
    ("torch._utils", "_rebuild_tensor"),
    // Plain data types: calling them only builds a value.
    ("builtins", "dict"),
    ("builtins", "list"),
    ("builtins", "tuple"),
    ("builtins", "int"),
    ("builtins", "float"),
    ("builtins", "str"),
    ("builtins", "bool"),
    ("builtins", "bytes"),
    ("builtins", "range"),
];

/// numpy scalar types (`numpy.float64`), pickled as globals with a value.
const NUMPY_SCALARS: &[&str] = &[
    "bool_",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "longdouble",
    "complex64",
    "complex128",
    "str_",
    "bytes_",
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
pub(in crate::artifact) fn classify(module: &str, name: &str) -> (Classification, Option<String>) {
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
    // The unpickler imports `module`, then walks `name` attribute by attribute
    // (protocol 4 STACK_GLOBAL, and GLOBAL in recent Pythons), so what is
    // reached is the full dotted path: `logging` + `os.system` is `os.system`.
    let parts: Vec<&str> = module.split('.').chain(name.split('.')).collect();
    let in_module = module.split('.').count();
    if parts.len() > MAX_COMPONENTS {
        return danger(format!("dotted path has more than {MAX_COMPONENTS} components"));
    }
    if let Some(d) = dunder(&parts, module, name) {
        return danger(format!("path walks through the dunder `{d}`"));
    }
    // Every prefix of the full path (`torch` + `hub.load` is under `torch.hub`),
    // then every path that starts at an attribute the walk reaches
    // (`logging` + `os.system` reaches `os.system`, `x` + `builtins.eval`).
    for start in std::iter::once(0).chain(in_module..parts.len().saturating_sub(1)) {
        if let Some(why) = dangerous_path(parts.get(start..).unwrap_or_default()) {
            return danger(if start == 0 { why } else { format!("{why} (reached as {module}.{name})") });
        }
    }
    if name.contains('.') && DANGEROUS_METHODS_OF.contains(&module) {
        return danger(format!("method {name} of module {module} can write files"));
    }
    let safe = SAFE_NAMES.iter().any(|(m, n)| *m == module && *n == name)
        || (module == "torch"
            && !name.contains('.')
            && (name.ends_with("Storage") || name.ends_with("Tensor") || TORCH_DTYPES.contains(&name)))
        || (module == "numpy" && NUMPY_SCALARS.contains(&name));
    if safe {
        return (Classification::Safe, None);
    }
    (Classification::Unknown, None)
}

/// The first dunder component the path walks through, if any: any attribute
/// (`__globals__`, `__subclasses__`, `__dict__`) and any submodule
/// (`pkg.__main__` runs the package's script when imported).
fn dunder<'p>(parts: &[&'p str], module: &str, name: &str) -> Option<&'p str> {
    if DUNDER_EXEMPT.contains(&(module, name)) {
        return None;
    }
    parts
        .iter()
        .enumerate()
        .find_map(|(i, p)| (p.starts_with("__") && !(i == 0 && DUNDER_MODULES.contains(p))).then_some(*p))
}

/// Why `path` (module components, then attributes) is dangerous: a dangerous
/// builtin, or a dangerous module or callable that is one of its prefixes.
fn dangerous_path(path: &[&str]) -> Option<String> {
    let [first, rest @ ..] = path else { return None };
    if matches!(*first, "builtins" | "__builtin__" | "exceptions")
        && let Some(b) = rest.first().filter(|b| DANGEROUS_BUILTINS.contains(b))
    {
        return Some(format!("builtin {b} runs code or reaches arbitrary objects"));
    }
    let mut prefix = String::new();
    for (i, part) in path.iter().enumerate() {
        if i > 0 {
            prefix.push('.');
        }
        prefix.push_str(part);
        if DANGEROUS_MODULES.contains(&prefix.as_str()) {
            return Some(format!("module {prefix} is blocklisted"));
        }
        let named = DANGEROUS_NAMES.iter().any(|(m, n)| {
            prefix.len() == m.len() + 1 + n.len()
                && prefix.starts_with(m)
                && prefix.as_bytes().get(m.len()) == Some(&b'.')
                && prefix.ends_with(n)
        });
        if named {
            return Some(format!("{prefix} is blocklisted"));
        }
    }
    None
}

fn danger(reason: String) -> (Classification, Option<String>) {
    (Classification::Dangerous, Some(reason))
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
mod tests;
