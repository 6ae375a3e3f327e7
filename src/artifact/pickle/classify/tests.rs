//! Classification, data-driven: dangerous paths, benign reconstruction helpers.
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

/// Data-driven: (module, name) → dangerous, with the full dotted path
/// walked the way the unpickler resolves it.
#[test]
fn full_dotted_paths_and_loader_callables() {
    for (m, n) in [
        ("logging", "os.system"),
        ("logging", "config.dictConfig"),
        ("logging.config", "dictConfig"),
        ("logging.config", "listen"),
        ("torch", "hub.load"),
        ("torch.hub", "load_state_dict_from_url"),
        ("torch.storage", "_load_from_bytes"),
        ("torch", "storage._load_from_bytes"),
        ("cloudpickle", "loads"),
        ("joblib.numpy_pickle", "load"),
        ("numpy.lib.npyio", "load"),
        ("pandas.io.pickle", "read_pickle"),
        ("site", "addsitedir"),
        ("zipimport", "zipimporter"),
        ("_ctypes", "dlopen"),
        ("ctypes", "CDLL"),
        ("importlib.machinery", "SourceFileLoader"),
        ("_frozen_importlib_external", "SourceFileLoader"),
        ("_winapi", "CreateProcess"),
        ("unittest.mock", "_importer"),
        ("mailcap", "findmatch"),
        ("mymodule", "builtins.eval"),
        ("collections", "OrderedDict.__init__.__globals__"),
        ("numpy", "__dict__"),
        ("pip.__main__", "main"),
        ("mypkg.__main__", "run"),
        ("pathlib", "Path.write_text"),
        ("yaml", "unsafe_load"),
    ] {
        assert_eq!(c(m, n), Classification::Dangerous, "{m}.{n}");
    }
    let (_, why) = classify("logging", "os.system");
    assert_eq!(why.as_deref(), Some("module os is blocklisted (reached as logging.os.system)"));
}
#[test]
fn safe_and_unknown() {
    for (m, n) in [
        ("collections", "OrderedDict"),
        ("torch", "FloatStorage"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_tensor"),
        ("numpy", "dtype"),
        ("numpy", "float64"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("__builtin__", "dict"),
        ("builtins", "dict"),
    ] {
        assert_eq!(c(m, n), Classification::Safe, "{m}.{n}");
    }
    for (m, n) in [
        ("collections", "OrderedDict.fromkeys"),
        ("ospath", "x"),
        ("__main__", "MyModel"),
        ("pathlib", "PosixPath"),
        ("copyreg", "__newobj__"),
        ("copyreg", "_reconstructor"),
        ("transformers.models.code_llama", "CodeLlamaTokenizer"),
        ("builtins", "type"),
    ] {
        assert_eq!(c(m, n), Classification::Unknown, "{m}.{n}");
    }
}
