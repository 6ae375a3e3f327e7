//! Loading and calling plugins with wasmtime.
//!
//! Loading: digest check (before anything is parsed), manifest and imports, compilation (through wasmtime's
//! on-disk cache), then the exports' signatures. Calling: one instance per plugin per thread, replaced at
//! the start of each document and after any failure; every call gets fresh fuel and a fresh deadline.

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use wasmtime::{ExternType, Instance, Memory, Module, ResourceLimiter, Store, Trap, TypedFunc, ValType};

use super::manifest::{self, Signature};
use super::{Limits, PluginError, PluginOptions, PluginSource, sha256_hex};
use crate::functions::{Function, Ty, describe_value};
use crate::value::Value;

/// How often the epoch advances: the resolution of the per-call deadline.
const TICK: Duration = Duration::from_millis(10);
/// Largest module file read.
const MAX_MODULE: u64 = 256 << 20;

/// A loaded plugin: a compiled module and the functions its manifest declares. Cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<Inner>,
}

struct Inner {
    /// Identifies the plugin in each thread's instance table.
    id: u64,
    label: String,
    digest: String,
    module: Module,
    signatures: Vec<Signature>,
    limits: Limits,
    has_free: bool,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plugin({}, sha256 {})", self.inner.label, self.inner.digest)
    }
}

impl Plugin {
    /// Loads a plugin: checks the pin, reads the manifest, compiles (or fetches the cached compilation) and
    /// checks the exports. Nothing of the module runs yet.
    pub fn load(source: &PluginSource, options: &PluginOptions) -> Result<Plugin, PluginError> {
        let label = &source.label;
        let bytes: Arc<[u8]> = match (&source.bytes, &source.path) {
            (Some(bytes), _) => bytes.clone(),
            (None, Some(path)) => read(path, label)?.into(),
            (None, None) => return Err(PluginError::new(format!("plugin `{label}` has no module"))),
        };
        let digest = sha256_hex(&bytes);
        let pinned = source.sha256.clone().or_else(|| {
            let path = source.path.as_ref()?;
            let absolute = std::fs::canonicalize(path).ok();
            options.pins.iter().find(|(p, _)| std::fs::canonicalize(p).ok() == absolute).map(|(_, d)| d.clone())
        });
        match pinned {
            Some(pin) if !pin.trim().eq_ignore_ascii_case(&digest) => {
                return Err(PluginError::new(format!(
                    "plugin `{label}` does not match its pin: pinned sha256 {}, the module's is {digest}",
                    pin.trim()
                ))
                .help("rebuild the module that was pinned, or update the pin after reviewing the new module"));
            }
            Some(_) => {}
            None if options.allow_unpinned => {}
            None => {
                return Err(PluginError::new(format!("plugin `{label}` is not pinned to a digest"))
                    .help(format!("add `sha256 \"{digest}\"` to the import after reviewing the module, or allow unpinned plugins (--allow-unpinned-plugins)")));
            }
        }
        let signatures = manifest::inspect(label, &bytes)?;
        let engine = engine_for(options)?;
        let module = Module::new(&engine, &bytes)
            .map_err(|e| PluginError::new(format!("plugin `{label}` does not compile: {e:#}")))?;
        let has_free = check_exports(label, &module, &signatures)?;
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let inner = Inner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            label: label.clone(),
            digest,
            module,
            signatures,
            limits: options.limits.clone(),
            has_free,
        };
        Ok(Plugin { inner: Arc::new(inner) })
    }

    /// The module's SHA-256 digest (hex).
    pub fn sha256(&self) -> &str {
        &self.inner.digest
    }

    /// The label used in messages (the path, or the name given with the bytes).
    pub fn label(&self) -> &str {
        &self.inner.label
    }

    /// The plugin's functions as the registry holds them, named `alias.function`.
    pub fn functions(&self, alias: &str) -> Vec<Function> {
        (0..self.inner.signatures.len())
            .map(|index| {
                let sig = &self.inner.signatures[index];
                let inner = self.inner.clone();
                Function::new(&format!("{alias}.{}", sig.name), &sig.params, sig.returns, move |args| {
                    call(&inner, index, args)
                })
                .doc(&sig.doc)
            })
            .collect()
    }
}

fn read(path: &std::path::Path, label: &str) -> Result<Vec<u8>, PluginError> {
    let cannot = |e: std::io::Error| PluginError::new(format!("cannot read plugin `{label}`: {e}"));
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if meta.len() > MAX_MODULE {
        return Err(PluginError::new(format!("plugin `{label}` is over {} MiB", MAX_MODULE >> 20)));
    }
    std::fs::read(path).map_err(cannot)
}

/// Checks `memory`, `vigil_alloc`, the optional `vigil_free` and every declared function; returns whether
/// `vigil_free` is there.
fn check_exports(label: &str, module: &Module, signatures: &[Signature]) -> Result<bool, PluginError> {
    let func = |name: &str| match module.get_export(name) {
        Some(ExternType::Func(f)) => Some(Some((f.params().collect::<Vec<_>>(), f.results().collect::<Vec<_>>()))),
        Some(_) => Some(None),
        None => None,
    };
    let wrong = |name: &str, expected: &str| {
        PluginError::new(format!("plugin `{label}`: export `{name}` must be a function {expected}"))
    };
    let is =
        |found: &(Vec<ValType>, Vec<ValType>), params: &[fn(&ValType) -> bool], results: &[fn(&ValType) -> bool]| {
            found.0.len() == params.len()
                && found.1.len() == results.len()
                && found.0.iter().zip(params).all(|(t, p)| p(t))
                && found.1.iter().zip(results).all(|(t, p)| p(t))
        };
    let i32 = |t: &ValType| matches!(t, ValType::I32);
    let i64 = |t: &ValType| matches!(t, ValType::I64);
    if !matches!(module.get_export("memory"), Some(ExternType::Memory(m)) if !m.is_64() && !m.is_shared()) {
        return Err(PluginError::new(format!("plugin `{label}` does not export its 32-bit linear memory as `memory`")));
    }
    match func("vigil_alloc") {
        Some(Some(f)) if is(&f, &[i32], &[i32]) => {}
        None => return Err(PluginError::new(format!("plugin `{label}` does not export `vigil_alloc`"))),
        _ => return Err(wrong("vigil_alloc", "(len: i32) -> i32")),
    }
    let has_free = match func("vigil_free") {
        Some(Some(f)) if is(&f, &[i32, i32], &[]) => true,
        None => false,
        _ => return Err(wrong("vigil_free", "(ptr: i32, len: i32)")),
    };
    for sig in signatures {
        match func(&sig.name) {
            Some(Some(f)) if is(&f, &[i32, i32], &[i64]) => {}
            None => {
                return Err(PluginError::new(format!(
                    "plugin `{label}`: its manifest declares `{}`, which it does not export",
                    sig.name
                )));
            }
            _ => return Err(wrong(&sig.name, "(ptr: i32, len: i32) -> i64")),
        }
    }
    Ok(has_free)
}

/// Engines by stack limit and cache folder, while some plugin uses them. Plugins sharing an engine share
/// one epoch ticker thread; when the last plugin of an engine is dropped, its ticker stops.
static ENGINES: Mutex<Vec<(usize, Option<PathBuf>, wasmtime::EngineWeak)>> = Mutex::new(Vec::new());

fn engine_for(options: &PluginOptions) -> Result<wasmtime::Engine, PluginError> {
    let stack = options.limits.max_stack_bytes;
    let cache_dir = if options.no_cache { None } else { options.cache_dir.clone().or_else(default_cache_dir) };
    let mut engines = ENGINES.lock().unwrap_or_else(|e| e.into_inner());
    engines.retain(|(_, _, weak)| weak.upgrade().is_some());
    if let Some(engine) = engines.iter().find(|(s, c, _)| *s == stack && *c == cache_dir).and_then(|e| e.2.upgrade()) {
        return Ok(engine);
    }
    let mut config = wasmtime::Config::new();
    config.consume_fuel(true).epoch_interruption(true).max_wasm_stack(stack);
    // The cache keys entries by the module's digest, the wasmtime version and the compiler settings. A
    // cache folder that cannot be created only costs speed.
    if let Some(dir) = &cache_dir {
        let mut cache_config = wasmtime::CacheConfig::new();
        cache_config.with_directory(dir.join("wasmtime"));
        if let Ok(cache) = wasmtime::Cache::new(cache_config) {
            config.cache(Some(cache));
        }
    }
    let engine = wasmtime::Engine::new(&config)
        .map_err(|e| PluginError::new(format!("cannot set up the WebAssembly runtime: {e:#}")))?;
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("vigil-plugin-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            }
        })
        .map_err(|e| PluginError::new(format!("cannot start the plugin deadline thread: {e}")))?;
    engines.push((stack, cache_dir, engine.weak()));
    Ok(engine)
}

fn default_cache_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("VIGIL_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("vigil")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("vigil")))
}

/// Caps an instance's memory; a growth past the cap traps at once, with a message saying so.
struct Limiter {
    memory_bytes: u64,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        if desired as u64 > self.memory_bytes {
            return Err(wasmtime::Error::msg(format!(
                "memory cap reached: {desired} bytes requested, the cap is {} bytes",
                self.memory_bytes
            )));
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        4
    }

    fn memories(&self) -> usize {
        1
    }
}

/// A live instance of one plugin on one thread.
struct Live {
    plugin: Weak<Inner>,
    id: u64,
    /// The document it was created for.
    generation: u64,
    /// A call failed: the instance may be half-way through something, so the next call replaces it.
    poisoned: bool,
    store: Store<Limiter>,
    memory: Memory,
    alloc: TypedFunc<i32, i32>,
    free: Option<TypedFunc<(i32, i32), ()>>,
    functions: Vec<TypedFunc<(i32, i32), i64>>,
    /// The argument buffer, reused from call to call.
    buffer: Vec<u8>,
}

thread_local! {
    static INSTANCES: RefCell<Vec<Live>> = const { RefCell::new(Vec::new()) };
    static GENERATION: Cell<u64> = const { Cell::new(0) };
}

pub(super) fn begin_document() {
    GENERATION.set(GENERATION.get().wrapping_add(1));
}

/// Calls function `index` of the plugin on this thread's instance.
fn call(inner: &Arc<Inner>, index: usize, args: &[&Value]) -> Result<Value, String> {
    let sig = &inner.signatures[index];
    // Only for messages: not formatted on the path of a successful call.
    let name = || format!("`{}` of plugin `{}`", sig.name, inner.label);
    INSTANCES.with_borrow_mut(|instances| {
        let generation = GENERATION.get();
        let position = instances.iter().position(|l| l.id == inner.id);
        // A new document, or a previous failure (which may have left the instance half-way through
        // something): start from a fresh instance.
        let live = match position {
            Some(i) if instances[i].generation == generation && !instances[i].poisoned => &mut instances[i],
            _ => {
                if let Some(i) = position {
                    instances.swap_remove(i);
                }
                instances.retain(|l| l.plugin.strong_count() > 0);
                let live = instantiate(inner, generation).map_err(|e| format!("{} cannot start: {e}", name()))?;
                instances.push(live);
                instances.last_mut().expect("just pushed")
            }
        };
        let result = invoke(live, inner, index, args);
        live.poisoned = result.is_err();
        let value = result.map_err(|e| format!("{} {e}", name()))?;
        if !Ty::of(&value).within(sig.returns) {
            return Err(format!(
                "{} returned {}, but its manifest declares {}",
                name(),
                describe_value(&value),
                sig.returns
            ));
        }
        Ok(value)
    })
}

fn instantiate(inner: &Arc<Inner>, generation: u64) -> Result<Live, String> {
    let limits = &inner.limits;
    let mut store = Store::new(inner.module.engine(), Limiter { memory_bytes: limits.memory_bytes });
    store.limiter(|l| l as &mut dyn ResourceLimiter);
    arm(&mut store, limits)?;
    let instance = Instance::new(&mut store, &inner.module, &[]).map_err(|e| describe(&e, limits))?;
    let memory = instance.get_memory(&mut store, "memory").ok_or("has no memory")?;
    let alloc = instance.get_typed_func(&mut store, "vigil_alloc").map_err(|e| e.to_string())?;
    let free = if inner.has_free {
        Some(instance.get_typed_func(&mut store, "vigil_free").map_err(|e| e.to_string())?)
    } else {
        None
    };
    let functions = inner
        .signatures
        .iter()
        .map(|s| instance.get_typed_func(&mut store, &s.name).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Live {
        plugin: Arc::downgrade(inner),
        id: inner.id,
        generation,
        poisoned: false,
        store,
        memory,
        alloc,
        free,
        functions,
        buffer: Vec::new(),
    })
}

/// Fresh fuel and a fresh deadline.
fn arm(store: &mut Store<Limiter>, limits: &Limits) -> Result<(), String> {
    store.set_fuel(limits.fuel).map_err(|e| e.to_string())?;
    store.set_epoch_deadline(limits.timeout_ms.div_ceil(TICK.as_millis() as u64) + 1);
    store.epoch_deadline_trap();
    Ok(())
}

/// The ABI: arguments as a JSON array in memory from `vigil_alloc`, the function returns `ptr << 32 | len`
/// of `{"ok": value}` or `{"error": "message"}`, which the host frees with `vigil_free` once read.
fn invoke(live: &mut Live, inner: &Inner, index: usize, args: &[&Value]) -> Result<Value, String> {
    let limits = &inner.limits;
    live.buffer.clear();
    serde_json::to_writer(&mut live.buffer, args).map_err(|e| format!("cannot encode its arguments: {e}"))?;
    let len = i32::try_from(live.buffer.len()).map_err(|_| "cannot take arguments over 2 GiB".to_string())?;
    arm(&mut live.store, limits)?;
    let ptr = live.alloc.call(&mut live.store, len).map_err(|e| describe(&e, limits))? as u32 as usize;
    live.memory
        .write(&mut live.store, ptr, &live.buffer)
        .map_err(|_| format!("returned {ptr:#x} from `vigil_alloc({len})`, outside its memory"))?;
    let packed = live.functions[index].call(&mut live.store, (ptr as i32, len)).map_err(|e| describe(&e, limits))?;
    let (out_ptr, out_len) = ((packed as u64 >> 32) as usize, (packed as u64 & 0xffff_ffff) as usize);
    if out_len > limits.max_result_bytes as usize {
        return Err(format!("returned a result of {out_len} bytes, over the cap of {} bytes", limits.max_result_bytes));
    }
    let data = live.memory.data(&live.store);
    let bytes = out_ptr
        .checked_add(out_len)
        .and_then(|end| data.get(out_ptr..end))
        .ok_or_else(|| format!("returned {out_len} bytes at {out_ptr:#x}, outside its memory"))?;
    let decoded = decode(bytes);
    if let Some(free) = &live.free {
        free.call(&mut live.store, (out_ptr as i32, out_len as i32)).map_err(|e| describe(&e, limits))?;
    }
    decoded
}

fn decode(bytes: &[u8]) -> Result<Value, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    enum Envelope {
        #[serde(rename = "ok")]
        Ok(serde_json::Value),
        #[serde(rename = "error")]
        Error(String),
    }
    match serde_json::from_slice::<Envelope>(bytes) {
        Ok(Envelope::Ok(v)) => Ok(Value::from(v)),
        Ok(Envelope::Error(message)) => Err(format!("failed: {message}")),
        Err(e) => Err(format!(
            "returned a result that does not decode ({e}); expected {{\"ok\": value}} or {{\"error\": \"message\"}} in JSON"
        )),
    }
}

/// A wasmtime error in words: which limit was hit, or what trapped.
fn describe(e: &wasmtime::Error, limits: &Limits) -> String {
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => format!("ran out of fuel (the limit is {} per call)", limits.fuel),
        Some(Trap::Interrupt) => format!("ran past its deadline of {} ms", limits.timeout_ms),
        Some(Trap::StackOverflow) => {
            format!("overflowed its stack (the limit is {} KiB)", limits.max_stack_bytes >> 10)
        }
        Some(Trap::UnreachableCodeReached) => "trapped: unreachable code reached (a panic or abort)".into(),
        Some(trap) => format!("trapped: {trap}"),
        None => {
            let text = format!("{e:#}");
            if text.contains("memory cap reached") {
                format!("hit its memory cap: {text}")
            } else {
                format!("failed: {text}")
            }
        }
    }
}
