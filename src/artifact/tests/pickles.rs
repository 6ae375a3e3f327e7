//! Hand-assembled pickles of every protocol and the evasion tricks the
//! scanner must see through.

use super::{
    ArtifactFormat, ArtifactLimits, Classification, InspectOptions, Verdict, call4, has_dangerous, inspect,
    inspect_bytes, opts, sbu,
};

#[test]
fn protocol_0_global_and_inst() {
    let a = inspect(b"c__builtin__\neval\np0\n(Vprint(1)\np1\ntp2\nRp3\n.");
    assert_eq!(a.format, ArtifactFormat::Pickle);
    assert!(has_dangerous(&a, "__builtin__.eval"));
    assert_eq!(a.pickles[0].protocol, None);
    assert_eq!(a.pickles[0].calls, 1);
    let inst = inspect(b"(S'raise RuntimeError(1)'\ni__builtin__\nexec\n.");
    assert!(has_dangerous(&inst, "__builtin__.exec"));
    assert_eq!(inst.pickles[0].globals[0].opcode, "INST");
}

#[test]
fn protocol_0_benign_is_clean() {
    let a = inspect(b"(lp0\nVa\np1\naVb\np2\naVc\np3\na.");
    assert_eq!(a.format, ArtifactFormat::Pickle);
    assert_eq!(a.verdict, Verdict::Clean);
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    assert!(a.executes_code_on_load);
}

#[test]
fn protocol_1_binary_opcodes() {
    let benign = inspect(b"]q\x00(X\x01\x00\x00\x00aq\x01X\x01\x00\x00\x00bq\x02e.");
    assert_eq!(benign.verdict, Verdict::Clean);
    let bad = inspect(b"cos\nsystem\nq\x00(X\x02\x00\x00\x00lsq\x01tq\x02Rq\x03.");
    assert!(has_dangerous(&bad, "os.system"));
}

#[test]
fn protocols_2_and_3() {
    let p2 = inspect(b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03.");
    assert!(has_dangerous(&p2, "posix.system"));
    assert_eq!(p2.pickles[0].protocol, Some(2));
    let p3 = inspect(b"\x80\x03cbuiltins\nexec\nq\x00X\x01\x00\x00\x001q\x01\x85q\x02Rq\x03.");
    assert!(has_dangerous(&p3, "builtins.exec"));
}

#[test]
fn protocol_4_stack_global_with_frame() {
    let body = call4("subprocess", "run", "ls");
    let mut v = vec![0x80, 0x04, 0x95];
    v.extend_from_slice(&((body.len() - 2) as u64).to_le_bytes());
    v.extend_from_slice(&body[2..]);
    let a = inspect(&v);
    assert!(has_dangerous(&a, "subprocess.run"));
    assert!(a.errors.is_empty(), "{:?}", a.errors);
}

#[test]
fn protocol_5_buffers_are_stepped_over() {
    let mut v = vec![0x80, 0x05, 0x96];
    v.extend_from_slice(&5u64.to_le_bytes());
    v.extend_from_slice(b"c\nos\n"); // payload that looks like opcodes
    v.extend_from_slice(&[0x97, 0x98, b'0', b'0']);
    v.extend_from_slice(&call4("socket", "create_connection", "x")[2..]);
    let a = inspect(&v);
    assert_eq!(a.dangerous_globals, vec!["socket.create_connection"]);
    assert_eq!(a.pickles[0].protocol, Some(5));
}

#[test]
fn stack_global_through_memo() {
    // Strings memoized, popped, then fetched back with BINGET (protocol 4)...
    let mut v = vec![0x80, 0x04];
    v.extend(sbu("torch"));
    v.extend(sbu("LongStorage"));
    v.extend(sbu("os"));
    v.extend(sbu("system"));
    v.extend_from_slice(b"0000h\x02h\x03\x93)R.");
    let a = inspect(&v);
    assert_eq!(a.dangerous_globals, vec!["os.system"]);
    // ... and with text PUT/GET (protocol 0 style, as in malicious11).
    let p0 = inspect(b"Vos\np2\n0Vsystem\np3\n0g2\ng3\n\x93(Vid\ntR.");
    assert_eq!(p0.dangerous_globals, vec!["os.system"]);
}

#[test]
fn escaped_operands_are_decoded() {
    let a = inspect(b"S'o\\x73'\nS'sys\\164em'\n\x93.");
    assert_eq!(a.dangerous_globals, vec!["os.system"]);
    let u = inspect(b"Vo\\u0073\nVsystem\n\x93.");
    assert_eq!(u.dangerous_globals, vec!["os.system"]);
}

#[test]
fn unresolvable_stack_global_is_dangerous() {
    // Operands are results of calls (the sys_module_override trick).
    let mut v = vec![0x80, 0x04];
    v.extend(sbu("mod"));
    v.extend(sbu("f"));
    v.extend_from_slice(b"\x93)R");
    v.extend_from_slice(b"h\x00h\x01\x93)R");
    v.extend_from_slice(b"\x93.");
    let a = inspect(&v);
    assert!(has_dangerous(&a, "?.?"), "{:?}", a.dangerous_globals);
    assert!(a.unknown_globals.contains(&"mod.f".to_string()));
    // A memo miss is unresolvable too.
    let miss = inspect(b"\x80\x04h\x07h\x08\x93.");
    assert!(has_dangerous(&miss, "?.?"));
}

#[test]
fn ext_opcodes_are_unknown_globals() {
    let a = inspect(b"\x80\x02\x82\x07)R.");
    assert_eq!(a.dangerous_globals, vec!["?.ext:7"]);
}

#[test]
fn concatenated_pickles_are_all_scanned() {
    let mut v = b"\x80\x04]\x94(\x8c\x01a\x94e.".to_vec();
    v.extend(call4("requests.api", "get", "https://x"));
    let a = inspect(&v);
    assert_eq!(a.dangerous_globals, vec!["requests.api.get"]);
    assert_eq!(a.pickles[0].segments, 2);
    assert!(a.errors.is_empty(), "{:?}", a.errors);
}

#[test]
fn truncated_pickle_keeps_findings() {
    let a = inspect(b"cbuiltins\nexec\n(X\xff\x00\x00\x00print(");
    assert!(has_dangerous(&a, "builtins.exec"));
    assert!(a.errors.iter().any(|e| e.contains("truncated at offset 16")), "{:?}", a.errors);
    assert_eq!(a.verdict, Verdict::Dangerous);
    let cut = inspect(b"\x80\x04\x8c\x02os\x94\x8c\x06sys");
    assert!(cut.errors.iter().any(|e| e.contains("truncated")));
}

#[test]
fn junk_after_stop_is_reported_not_fatal() {
    let mut v = call4("os", "system", "id");
    v.extend_from_slice(b"\n\n\t\t");
    let a = inspect(&v);
    assert!(has_dangerous(&a, "os.system"));
    assert!(a.errors.iter().any(|e| e.contains("junk after STOP")));
}

#[test]
fn not_a_pickle_is_not_dangerous() {
    let a = inspect(b"cmod\n\xf8\n");
    assert_eq!(a.format, ArtifactFormat::Unknown);
    assert!(a.dangerous_globals.is_empty());
    assert!(a.pickles.is_empty());
}

#[test]
fn pickle_without_proto_and_with_protocol_4_opcodes_is_still_found() {
    // No PROTO and a protocol-4 first opcode: the sniffer says "unknown", the
    // fallback scan still finds the import.
    let a = inspect(&call4("os", "system", "id")[2..]);
    assert_eq!(a.format, ArtifactFormat::Pickle);
    assert!(has_dangerous(&a, "os.system"));
}

#[test]
fn limits_stop_the_scan_with_an_error() {
    let tight =
        InspectOptions { hash: false, limits: ArtifactLimits { max_pickle_ops: 3, ..ArtifactLimits::default() } };
    let a = inspect_bytes("x.pkl", &call4("os", "system", "id"), &tight);
    assert!(a.errors.iter().any(|e| e.contains("more than 3 opcodes")));
    // Whatever follows the limit is unseen: that is a blocking finding, not a note.
    assert!(a.incomplete.iter().any(|e| e.contains("more than 3 opcodes")), "{:?}", a.incomplete);
    let memo = InspectOptions { hash: false, limits: ArtifactLimits { max_memo: 1, ..ArtifactLimits::default() } };
    let b = inspect_bytes("x.pkl", &call4("os", "system", "id"), &memo);
    assert!(b.errors.iter().any(|e| e.contains("memo")));
    assert!(b.incomplete.iter().any(|e| e.contains("memo")), "{:?}", b.incomplete);
    let short = InspectOptions { hash: false, limits: ArtifactLimits { max_string: 4, ..ArtifactLimits::default() } };
    // "system" is longer than max_string: it is skipped, so the import is unresolvable.
    let c = inspect_bytes("x.pkl", &call4("os", "system", "id"), &short);
    assert!(has_dangerous(&c, "os.?"), "{:?}", c.dangerous_globals);
    let _ = opts();
}

#[test]
fn huge_claimed_lengths_do_not_allocate() {
    let mut v = vec![0x80, 0x04, 0x8d];
    v.extend_from_slice(&u64::MAX.to_le_bytes());
    let a = inspect(&v);
    assert!(a.errors.iter().any(|e| e.contains("truncated")));
    let neg = inspect(b"\x80\x02T\xff\xff\xff\xff.");
    assert!(neg.errors.iter().any(|e| e.contains("negative length")));
}

#[test]
fn safe_and_unknown_classification() {
    let mut v = vec![0x80, 0x02];
    v.extend_from_slice(b"ccollections\nOrderedDict\n)R");
    v.extend_from_slice(b"0ctorch._utils\n_rebuild_tensor_v2\n0ctorch\nFloatStorage\n");
    v.extend_from_slice(b"0cmy_pkg.models\nNet\n.");
    let a = inspect(&v);
    let class = |n: &str| a.globals.iter().find(|g| g.qualified == n).map(|g| g.classification);
    assert_eq!(class("collections.OrderedDict"), Some(Classification::Safe));
    assert_eq!(class("torch.FloatStorage"), Some(Classification::Safe));
    assert_eq!(class("my_pkg.models.Net"), Some(Classification::Unknown));
    assert_eq!(a.verdict, Verdict::Suspicious);
}

/// A joblib NumpyArrayWrapper for a 2x3 array of `typestr`, up to and
/// including its BUILD (as `joblib.dump` writes it with protocol 4).
fn joblib_wrapper(typestr: &str) -> Vec<u8> {
    joblib_wrapper_with(typestr, 0, true)
}

/// [`joblib_wrapper`] with the dtype's flags (state item 7) and with or
/// without joblib 1.2's alignment padding.
pub(super) fn joblib_wrapper_with(typestr: &str, flags: u8, aligned: bool) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(sbu("joblib.numpy_pickle"));
    v.extend(sbu("NumpyArrayWrapper"));
    v.extend_from_slice(b"\x93)\x81}(");
    v.extend(sbu("shape"));
    v.extend_from_slice(b"K\x02K\x03\x86");
    v.extend(sbu("dtype"));
    v.extend(sbu("numpy"));
    v.extend(sbu("dtype"));
    v.extend_from_slice(b"\x93");
    v.extend(sbu(typestr));
    v.extend_from_slice(b"\x89\x88\x87R(K\x03");
    v.extend(sbu("<"));
    v.extend_from_slice(b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK");
    v.push(flags);
    v.extend_from_slice(b"tb");
    if aligned {
        v.extend(sbu("numpy_array_alignment_bytes"));
        v.extend_from_slice(b"K\x10");
    }
    v.extend_from_slice(b"ub");
    v
}

/// A joblib dump: wrapper BUILD, padding byte + 0xff padding, raw bytes, then
/// the pickle resumes. The raw bytes spell an import on purpose: joblib.load
/// never executes them, and the scan must land exactly after them.
#[test]
fn joblib_inline_array_is_stepped_over() {
    let mut v = vec![0x80, 0x04];
    v.extend(joblib_wrapper("f4"));
    v.push(3);
    v.extend_from_slice(&[0xff; 3]);
    let mut data = b"cos\nsystem\n".to_vec();
    data.resize(24, b'.');
    v.extend_from_slice(&data);
    v.extend_from_slice(&call4("pip", "main", "install")[2..]);
    let a = inspect(&v);
    assert_eq!(a.format, ArtifactFormat::Joblib);
    assert_eq!(a.pickles[0].joblib_arrays, 1);
    assert_eq!(a.dangerous_globals, vec!["pip.main"]);
    assert!(a.errors.is_empty(), "{:?}", a.errors);
}

/// Object arrays are a separate protocol-2 pickle with its own memo: its
/// BINPUT 0/1 must not overwrite the outer memo that the outer pickle reads
/// back afterwards.
#[test]
fn joblib_object_array_has_its_own_memo() {
    let mut v = vec![0x80, 0x04];
    v.extend(sbu("os"));
    v.extend(sbu("system"));
    v.extend_from_slice(b"00");
    v.extend(joblib_wrapper("O8"));
    v.extend_from_slice(b"\x80\x02X\x03\x00\x00\x00abcq\x00X\x03\x00\x00\x00defq\x01\x86q\x02.");
    v.extend_from_slice(b"0h\x00h\x01\x93)R.");
    let a = inspect(&v);
    assert_eq!(a.dangerous_globals, vec!["os.system"]);
    assert_eq!(a.pickles[0].joblib_arrays, 1);
    assert!(a.unknown_globals.is_empty(), "{:?}", a.unknown_globals);
    assert!(a.errors.is_empty(), "{:?}", a.errors);
}

#[test]
fn legacy_torch_reads_five_pickles_then_stops() {
    let mut v = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.".to_vec();
    v.extend_from_slice(b"\x80\x02M\xe9\x03.");
    v.extend_from_slice(b"\x80\x02}q\x00.");
    v.extend_from_slice(b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01.");
    v.extend_from_slice(b"\x80\x02]q\x00X\x01\x00\x00\x000q\x01a.");
    v.extend_from_slice(&[0x13, 0x37, 0x00, 0xff, 0x42]); // raw storage bytes
    let a = inspect(&v);
    assert_eq!(a.format, ArtifactFormat::PytorchLegacy);
    assert_eq!(a.pickles[0].segments, 5);
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    assert_eq!(a.verdict, Verdict::Clean);
}
