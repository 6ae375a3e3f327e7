//! A Vigil plugin in Rust with the standard library: `upper(text)` returns the text in upper case
//! (docs/plugins.md, "Rust"). Build with ./build.sh (Debian: apt-get install rustc libstd-rust-dev-wasm32).

// The manifest, in the custom section `vigil.manifest`.
#[link_section = "vigil.manifest"]
pub static MANIFEST: [u8; 109] =
    *br#"{"abi": 1, "functions": [{"name": "upper", "params": ["string"], "returns": "string", "doc": "Upper case."}]}"#;

/// Memory for the arguments; the called function takes ownership of it.
#[no_mangle]
pub extern "C" fn vigil_alloc(len: i32) -> i32 {
    let mut buffer = Vec::<u8>::with_capacity(len as usize);
    let ptr = buffer.as_mut_ptr();
    std::mem::forget(buffer);
    ptr as i32
}

/// Frees a result once the host has read it.
#[no_mangle]
pub extern "C" fn vigil_free(ptr: i32, len: i32) {
    // SAFETY: a boxed slice handed out by `reply`, returned once by the host.
    unsafe { drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr as *mut u8, len as usize))) }
}

#[no_mangle]
pub extern "C" fn upper(ptr: i32, len: i32) -> i64 {
    // SAFETY: the host wrote `len` bytes into the buffer `vigil_alloc(len)` returned.
    let args = unsafe { Vec::from_raw_parts(ptr as *mut u8, len as usize, len as usize) };
    match first_string(&args) {
        Some(text) => reply(format!("{{\"ok\":{}}}", json_string(&text.to_uppercase()))),
        None => reply("{\"error\":\"upper takes one string\"}".to_string()),
    }
}

/// `ptr << 32 | len` of the result, which stays allocated until the host calls `vigil_free`.
fn reply(json: String) -> i64 {
    let bytes = json.into_bytes().into_boxed_slice();
    let len = bytes.len() as i64;
    (Box::into_raw(bytes) as *mut u8 as i64) << 32 | len
}

/// The first element of the JSON array of arguments, which the manifest says is a string.
fn first_string(json: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(json).ok()?;
    let mut chars = text.trim_start().strip_prefix('[')?.trim_start().strip_prefix('"')?.chars();
    let mut out = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let mut code = u32::from_str_radix(&hex, 16).ok()?;
                    if (0xd800..0xdc00).contains(&code) && chars.as_str().starts_with("\\u") {
                        let low: String = chars.by_ref().skip(2).take(4).collect();
                        code = 0x10000 + ((code - 0xd800) << 10) + (u32::from_str_radix(&low, 16).ok()? & 0x3ff);
                    }
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
