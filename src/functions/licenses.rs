//! License builtins: Hugging Face license ids to SPDX, and whether a license lets you use the work
//! commercially.
//!
//! Sources:
//! - Hugging Face ids: huggingface/hub-docs `docs/hub/repositories-licenses.md` (the table between the
//!   `region licenses` markers); the later Llama ids (`llama3`, `llama3.1`, `llama3.2`, `llama3.3`, `llama4`),
//!   `eupl-1.2`, `fair-noncommercial-research-license` and `apple-amlr` from the Hub's current license list.
//! - SPDX ids: the SPDX License List (spdx/license-list-XML `src/*.xml`). Where SPDX deprecated an
//!   ambiguous id, the HF id maps to what the deprecated id meant (`gpl-3.0` → `GPL-3.0-only`). Licenses
//!   SPDX does not list (the RAIL family, Llama, Gemma, DeepFloyd, FAIR) get a `LicenseRef-` id of our own.
//!   Families (`bsd`, `gpl`, `cc`, ...) and `other`/`unknown` name no single license: null.
//! - Commercial use, from each license's own text: `Some(true)` when it grants use for any purpose, commercial
//!   included (attribution, share-alike or copyleft conditions may still apply); `Some(false)` when it is
//!   non-commercial or research-only (Creative Commons NC: "not primarily intended for or directed towards
//!   commercial advantage"; FAIR Noncommercial Research; DeepFloyd IF: non-commercial research; Apple AMLR:
//!   research purposes). `None` for custom licenses whose commercial grant hangs on conditions a policy should
//!   look at itself (RAIL use restrictions; Llama's 700M monthly-user threshold and acceptable-use policy;
//!   Gemma's prohibited-use policy), for the Creative Commons family as a whole, and for what is unknown.

use super::support::text;
use super::{Function, Ty};
use crate::value::Value;

/// Hugging Face id, SPDX id (or `LicenseRef-`), commercial use allowed.
const LICENSES: &[(&str, Option<&str>, Option<bool>)] = &[
    ("apache-2.0", Some("Apache-2.0"), Some(true)),
    ("mit", Some("MIT"), Some(true)),
    ("openrail", Some("LicenseRef-OpenRAIL"), None),
    ("bigscience-openrail-m", Some("LicenseRef-BigScience-OpenRAIL-M"), None),
    ("creativeml-openrail-m", Some("LicenseRef-CreativeML-OpenRAIL-M"), None),
    ("bigscience-bloom-rail-1.0", Some("LicenseRef-BigScience-BLOOM-RAIL-1.0"), None),
    ("bigcode-openrail-m", Some("LicenseRef-BigCode-OpenRAIL-M"), None),
    ("openrail++", Some("LicenseRef-OpenRAIL-PlusPlus-M"), None),
    ("afl-3.0", Some("AFL-3.0"), Some(true)),
    ("artistic-2.0", Some("Artistic-2.0"), Some(true)),
    ("bsl-1.0", Some("BSL-1.0"), Some(true)),
    ("bsd", None, Some(true)),
    ("bsd-2-clause", Some("BSD-2-Clause"), Some(true)),
    ("bsd-3-clause", Some("BSD-3-Clause"), Some(true)),
    ("bsd-3-clause-clear", Some("BSD-3-Clause-Clear"), Some(true)),
    ("c-uda", Some("C-UDA-1.0"), None),
    ("cc", None, None),
    ("cc0-1.0", Some("CC0-1.0"), Some(true)),
    ("cc-by-2.0", Some("CC-BY-2.0"), Some(true)),
    ("cc-by-2.5", Some("CC-BY-2.5"), Some(true)),
    ("cc-by-3.0", Some("CC-BY-3.0"), Some(true)),
    ("cc-by-4.0", Some("CC-BY-4.0"), Some(true)),
    ("cc-by-sa-3.0", Some("CC-BY-SA-3.0"), Some(true)),
    ("cc-by-sa-4.0", Some("CC-BY-SA-4.0"), Some(true)),
    ("cc-by-nc-2.0", Some("CC-BY-NC-2.0"), Some(false)),
    ("cc-by-nc-3.0", Some("CC-BY-NC-3.0"), Some(false)),
    ("cc-by-nc-4.0", Some("CC-BY-NC-4.0"), Some(false)),
    ("cc-by-nd-4.0", Some("CC-BY-ND-4.0"), Some(true)),
    ("cc-by-nc-nd-3.0", Some("CC-BY-NC-ND-3.0"), Some(false)),
    ("cc-by-nc-nd-4.0", Some("CC-BY-NC-ND-4.0"), Some(false)),
    ("cc-by-nc-sa-2.0", Some("CC-BY-NC-SA-2.0"), Some(false)),
    ("cc-by-nc-sa-3.0", Some("CC-BY-NC-SA-3.0"), Some(false)),
    ("cc-by-nc-sa-4.0", Some("CC-BY-NC-SA-4.0"), Some(false)),
    ("cdla-sharing-1.0", Some("CDLA-Sharing-1.0"), Some(true)),
    ("cdla-permissive-1.0", Some("CDLA-Permissive-1.0"), Some(true)),
    ("cdla-permissive-2.0", Some("CDLA-Permissive-2.0"), Some(true)),
    ("wtfpl", Some("WTFPL"), Some(true)),
    ("ecl-2.0", Some("ECL-2.0"), Some(true)),
    ("epl-1.0", Some("EPL-1.0"), Some(true)),
    ("epl-2.0", Some("EPL-2.0"), Some(true)),
    ("etalab-2.0", Some("etalab-2.0"), Some(true)),
    ("eupl-1.1", Some("EUPL-1.1"), Some(true)),
    ("eupl-1.2", Some("EUPL-1.2"), Some(true)),
    ("agpl-3.0", Some("AGPL-3.0-only"), Some(true)),
    ("gfdl", None, Some(true)),
    ("gpl", None, Some(true)),
    ("gpl-2.0", Some("GPL-2.0-only"), Some(true)),
    ("gpl-3.0", Some("GPL-3.0-only"), Some(true)),
    ("lgpl", None, Some(true)),
    ("lgpl-2.1", Some("LGPL-2.1-only"), Some(true)),
    ("lgpl-3.0", Some("LGPL-3.0-only"), Some(true)),
    ("isc", Some("ISC"), Some(true)),
    ("lppl-1.3c", Some("LPPL-1.3c"), Some(true)),
    ("ms-pl", Some("MS-PL"), Some(true)),
    ("mpl-2.0", Some("MPL-2.0"), Some(true)),
    // Version 1.0 is the only one of each family.
    ("odc-by", Some("ODC-By-1.0"), Some(true)),
    ("odbl", Some("ODbL-1.0"), Some(true)),
    ("osl-3.0", Some("OSL-3.0"), Some(true)),
    ("postgresql", Some("PostgreSQL"), Some(true)),
    ("ofl-1.1", Some("OFL-1.1"), Some(true)),
    ("ncsa", Some("NCSA"), Some(true)),
    ("unlicense", Some("Unlicense"), Some(true)),
    ("zlib", Some("Zlib"), Some(true)),
    ("pddl", Some("PDDL-1.0"), Some(true)),
    ("lgpl-lr", Some("LGPLLR"), Some(true)),
    ("deepfloyd-if-license", Some("LicenseRef-DeepFloyd-IF"), Some(false)),
    ("fair-noncommercial-research-license", Some("LicenseRef-FAIR-Noncommercial-Research"), Some(false)),
    ("apple-amlr", Some("LicenseRef-Apple-AMLR"), Some(false)),
    ("llama2", Some("LicenseRef-Llama-2-Community"), None),
    ("llama3", Some("LicenseRef-Llama-3-Community"), None),
    ("llama3.1", Some("LicenseRef-Llama-3.1-Community"), None),
    ("llama3.2", Some("LicenseRef-Llama-3.2-Community"), None),
    ("llama3.3", Some("LicenseRef-Llama-3.3-Community"), None),
    ("llama4", Some("LicenseRef-Llama-4-Community"), None),
    ("gemma", Some("LicenseRef-Gemma-Terms-of-Use"), None),
    ("other", None, None),
    ("unknown", None, None),
];

/// The table row for a Hugging Face id or for the SPDX id it maps to, ignoring case.
fn lookup(id: &str) -> Option<&'static (&'static str, Option<&'static str>, Option<bool>)> {
    LICENSES
        .iter()
        .find(|(hf, _, _)| hf.eq_ignore_ascii_case(id))
        .or_else(|| LICENSES.iter().find(|(_, spdx, _)| spdx.is_some_and(|s| s.eq_ignore_ascii_case(id))))
}

pub(super) fn functions() -> Vec<Function> {
    vec![
        Function::new("spdx_license", &[Ty::STRING], Ty::STRING.or(Ty::NULL), |a| {
            Ok(lookup(text(a, 0)).and_then(|(_, spdx, _)| *spdx).map(Value::from).unwrap_or_default())
        })
        .doc(
            "`spdx_license(id)`: the SPDX id (or a `LicenseRef-` id) for a Hugging Face \
            license id such as `apache-2.0` or `llama3.1`; null for `other`, `unknown`, \
            families and ids not known.",
        ),
        Function::new("license_allows_commercial", &[Ty::STRING], Ty::BOOL.or(Ty::NULL), |a| {
            Ok(lookup(text(a, 0)).and_then(|(_, _, commercial)| *commercial).map(Value::Bool).unwrap_or_default())
        })
        .doc(
            "`license_allows_commercial(id)`: true when the license (HF or SPDX id) permits \
            commercial use, false when it is non-commercial or research-only, null for \
            custom terms (RAIL, Llama, Gemma) and unknown ids.",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::{CallContext, Registry};
    use std::collections::HashSet;

    fn call(name: &str, arg: &str) -> Value {
        let registry = Registry::default();
        let f = registry.get(registry.lookup(name).expect(name));
        f.call(&[&Value::from(arg)], &CallContext { now: jiff::Timestamp::UNIX_EPOCH }).unwrap()
    }

    fn opt(s: Option<&str>) -> Value {
        s.map(Value::from).unwrap_or_default()
    }

    #[test]
    fn mapping() {
        let cases = [
            ("apache-2.0", Some("Apache-2.0"), Some(true)),
            ("Apache-2.0", Some("Apache-2.0"), Some(true)),
            ("APACHE-2.0", Some("Apache-2.0"), Some(true)),
            ("mit", Some("MIT"), Some(true)),
            ("llama2", Some("LicenseRef-Llama-2-Community"), None),
            ("llama3.1", Some("LicenseRef-Llama-3.1-Community"), None),
            ("gemma", Some("LicenseRef-Gemma-Terms-of-Use"), None),
            ("openrail", Some("LicenseRef-OpenRAIL"), None),
            ("openrail++", Some("LicenseRef-OpenRAIL-PlusPlus-M"), None),
            ("bigscience-openrail-m", Some("LicenseRef-BigScience-OpenRAIL-M"), None),
            ("creativeml-openrail-m", Some("LicenseRef-CreativeML-OpenRAIL-M"), None),
            ("cc-by-4.0", Some("CC-BY-4.0"), Some(true)),
            ("cc-by-nc-4.0", Some("CC-BY-NC-4.0"), Some(false)),
            ("cc-by-nc-sa-4.0", Some("CC-BY-NC-SA-4.0"), Some(false)),
            ("cc-by-sa-4.0", Some("CC-BY-SA-4.0"), Some(true)),
            ("gpl-3.0", Some("GPL-3.0-only"), Some(true)),
            ("GPL-3.0-only", Some("GPL-3.0-only"), Some(true)),
            ("agpl-3.0", Some("AGPL-3.0-only"), Some(true)),
            ("bsd-3-clause", Some("BSD-3-Clause"), Some(true)),
            ("lgpl-lr", Some("LGPLLR"), Some(true)),
            ("deepfloyd-if-license", Some("LicenseRef-DeepFloyd-IF"), Some(false)),
            ("fair-noncommercial-research-license", Some("LicenseRef-FAIR-Noncommercial-Research"), Some(false)),
            ("LicenseRef-Llama-2-Community", Some("LicenseRef-Llama-2-Community"), None),
            ("bsd", None, Some(true)),
            ("cc", None, None),
            ("other", None, None),
            ("unknown", None, None),
            ("", None, None),
            ("proprietary", None, None),
            (" mit", None, None),
            ("mit\n", None, None),
            ("ｍｉｔ", None, None),
            ("apache-2.0 OR mit", None, None),
        ];
        for (id, spdx, commercial) in cases {
            assert_eq!(call("spdx_license", id), opt(spdx), "{id:?}");
            assert_eq!(
                call("license_allows_commercial", id),
                commercial.map(Value::Bool).unwrap_or_default(),
                "{id:?}"
            );
        }
    }

    #[test]
    fn table_is_consistent() {
        let mut hf_ids = HashSet::new();
        let mut spdx_ids = HashSet::new();
        for (hf, spdx, commercial) in LICENSES {
            assert!(hf_ids.insert(hf.to_ascii_lowercase()), "duplicate HF id {hf}");
            assert_eq!(*hf, hf.to_ascii_lowercase(), "HF ids are lowercase");
            if let Some(spdx) = spdx {
                assert!(spdx_ids.insert(spdx.to_ascii_lowercase()), "duplicate SPDX id {spdx}");
                // SPDX idstring: letters, digits, `.` and `-`.
                assert!(spdx.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'), "{spdx}");
            }
            if hf.contains("-nc-") || hf.contains("noncommercial") {
                assert_eq!(*commercial, Some(false), "{hf}");
            }
        }
    }
}
