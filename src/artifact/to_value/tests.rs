//! The direct builder gives exactly the document the serde route gives.

use super::*;
use crate::artifact::tests::{call4, inspect, sample_files};

/// The direct route and the serde_json route agree exactly, key order included.
fn assert_same(a: &Artifact) {
    let direct = a.to_value();
    let via_json = Value::from(serde_json::to_value(a).unwrap_or_default());
    assert_eq!(direct.to_json(), via_json.to_json());
    assert_eq!(direct, via_json);
}

#[test]
fn direct_document_equals_the_serde_route() {
    let mut inputs = sample_files();
    inputs.extend([
        b"\x80\x02\x82\x07)R.".to_vec(),
        b"\x80\x04h\x07h\x08\x93.".to_vec(),
        b"ccollections\nOrderedDict\n)R0ctorch\nFloatStorage\n0cmy_pkg.models\nNet\n.".to_vec(),
        b"7z\xbc\xaf\x27\x1c\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00".to_vec(),
        b"hello, not a model".to_vec(),
    ]);
    for bytes in &inputs {
        assert_same(&inspect(bytes));
    }
    // Values outside i64 become floats on both routes; every optional section is filled.
    let mut a = inspect(&call4("os", "system", "id"));
    a.size = u64::MAX;
    a.sha256 = Some("ab".into());
    a.safetensors = Some(SafetensorsInfo::default());
    a.gguf = Some(GgufInfo { parameters: Some(1), ..GgufInfo::default() });
    a.keras = Some(KerasInfo { lambda_layers: vec!["l".into()], ..KerasInfo::default() });
    a.archive = Some(ArchiveInfo { names: vec!["x".into()], ..ArchiveInfo::default() });
    a.onnx = Some(OnnxInfo { opsets: vec![OnnxOpset { domain: String::new(), version: 17 }], ..OnnxInfo::default() });
    a.numpy = vec![NumpyArray { shape: vec![2, 3], ..NumpyArray::default() }];
    a.warnings = vec!["w".into()];
    assert_same(&a);
}

#[test]
fn every_enum_name_is_cached() {
    SHARED.with(|s| {
        for f in FORMATS {
            assert_eq!(s.format(f), serde_name(f));
        }
        assert_eq!(s.format(ArtifactFormat::SevenZip), Value::from("7z"));
        assert_eq!(s.formats.len(), FORMATS.len());
        assert_eq!(s.serializations.len(), SERIALIZATIONS.len());
        assert_eq!(s.verdicts.len(), VERDICTS.len());
        assert_eq!(s.classifications.len(), CLASSIFICATIONS.len());
    });
}
