//! The control catalogue of the compliance matrix: every control of the frameworks the report covers, with
//! its name, whether or not a rule maps to it — a control with no rule is shown as such, never left out.
//!
//! Rules name controls in their `controls` list with the ids used here (`OWASP-LLM03`, `EU-AI-Act-Art15`,
//! `NIST-AI-RMF-MEASURE-2.7`, `ATLAS-AML.T0010.003`). NIST AI RMF is shown by function: a rule citing a
//! subcategory (`NIST-AI-RMF-MEASURE-2.7`) counts for its function. Controls cited by rules but missing here
//! (ISO/IEC 42001, another framework, a typo in a user policy) are listed by the report separately, so
//! nothing a rule claims is hidden. A test keeps this catalogue in step with the bundled rules.

/// One framework of the matrix.
pub struct Framework {
    /// Heading.
    pub name: &'static str,
    /// Where the control list comes from, shown under the heading.
    pub note: &'static str,
    /// `(id, name)` of each control, in the framework's order.
    pub controls: &'static [(&'static str, &'static str)],
    /// Whether a rule's control matches by prefix (`NIST-AI-RMF-MAP` covers `NIST-AI-RMF-MAP-4.1`).
    pub by_prefix: bool,
}

impl Framework {
    /// Whether a control id cited by a rule falls under catalogue entry `id`.
    pub fn matches(&self, id: &str, cited: &str) -> bool {
        cited == id || (self.by_prefix && cited.strip_prefix(id).is_some_and(|rest| rest.starts_with('-')))
    }
}

/// The frameworks, in the order the report shows them.
pub const FRAMEWORKS: [Framework; 4] = [
    Framework {
        name: "OWASP Top 10 for LLM Applications 2025",
        note: "All ten risks.",
        controls: &[
            ("OWASP-LLM01", "Prompt Injection"),
            ("OWASP-LLM02", "Sensitive Information Disclosure"),
            ("OWASP-LLM03", "Supply Chain"),
            ("OWASP-LLM04", "Data and Model Poisoning"),
            ("OWASP-LLM05", "Improper Output Handling"),
            ("OWASP-LLM06", "Excessive Agency"),
            ("OWASP-LLM07", "System Prompt Leakage"),
            ("OWASP-LLM08", "Vector and Embedding Weaknesses"),
            ("OWASP-LLM09", "Misinformation"),
            ("OWASP-LLM10", "Unbounded Consumption"),
        ],
        by_prefix: false,
    },
    Framework {
        name: "EU AI Act (Regulation (EU) 2024/1689)",
        note: "The articles on high-risk systems and general-purpose models that technical evidence can support.",
        controls: &[
            ("EU-AI-Act-Art6", "Art. 6 Classification rules for high-risk AI systems"),
            ("EU-AI-Act-Art9", "Art. 9 Risk management system"),
            ("EU-AI-Act-Art10", "Art. 10 Data and data governance"),
            ("EU-AI-Act-Art11", "Art. 11 Technical documentation"),
            ("EU-AI-Act-Art12", "Art. 12 Record-keeping"),
            ("EU-AI-Act-Art13", "Art. 13 Transparency and provision of information to deployers"),
            ("EU-AI-Act-Art14", "Art. 14 Human oversight"),
            ("EU-AI-Act-Art15", "Art. 15 Accuracy, robustness and cybersecurity"),
            ("EU-AI-Act-Art17", "Art. 17 Quality management system"),
            ("EU-AI-Act-Art19", "Art. 19 Automatically generated logs"),
            ("EU-AI-Act-Art26", "Art. 26 Obligations of deployers of high-risk AI systems"),
            ("EU-AI-Act-Art50", "Art. 50 Transparency obligations for certain AI systems"),
            ("EU-AI-Act-Art53", "Art. 53 Obligations for providers of general-purpose AI models"),
            ("EU-AI-Act-Art55", "Art. 55 Obligations for providers of general-purpose AI models with systemic risk"),
            ("EU-AI-Act-Art72", "Art. 72 Post-market monitoring"),
            ("EU-AI-Act-AnnexIV", "Annex IV Technical documentation referred to in Art. 11(1)"),
        ],
        by_prefix: false,
    },
    Framework {
        name: "NIST AI Risk Management Framework 1.0",
        note: "The four core functions; a rule citing a subcategory counts for its function.",
        controls: &[
            ("NIST-AI-RMF-GOVERN", "GOVERN: a culture of risk management is cultivated and present"),
            ("NIST-AI-RMF-MAP", "MAP: context is recognised and risks related to context are identified"),
            ("NIST-AI-RMF-MEASURE", "MEASURE: identified risks are assessed, analysed or tracked"),
            ("NIST-AI-RMF-MANAGE", "MANAGE: risks are prioritised and acted upon based on projected impact"),
        ],
        by_prefix: true,
    },
    Framework {
        name: "MITRE ATLAS",
        note: "The techniques and mitigations the bundled rules cite, and related supply-chain techniques.",
        controls: &[
            ("ATLAS-AML.T0010", "AI Supply Chain Compromise"),
            ("ATLAS-AML.T0010.001", "AI Supply Chain Compromise: AI Software"),
            ("ATLAS-AML.T0010.002", "AI Supply Chain Compromise: Data"),
            ("ATLAS-AML.T0010.003", "AI Supply Chain Compromise: Model"),
            ("ATLAS-AML.T0010.004", "AI Supply Chain Compromise: Container Registry"),
            ("ATLAS-AML.T0011.000", "User Execution: Unsafe AI Artifacts"),
            ("ATLAS-AML.T0018", "Manipulate AI Model"),
            ("ATLAS-AML.T0019", "Publish Poisoned Datasets"),
            ("ATLAS-AML.T0020", "Poison Training Data"),
            ("ATLAS-AML.T0024", "Exfiltration via AI Inference API"),
            ("ATLAS-AML.T0029", "Denial of AI Service"),
            ("ATLAS-AML.T0034", "Cost Harvesting"),
            ("ATLAS-AML.T0036", "Data from Information Repositories"),
            ("ATLAS-AML.T0040", "AI Model Inference API Access"),
            ("ATLAS-AML.T0051", "LLM Prompt Injection"),
            ("ATLAS-AML.T0053", "LLM Plugin Compromise"),
            ("ATLAS-AML.T0055", "Unsecured Credentials"),
            ("ATLAS-AML.T0070", "RAG Poisoning"),
            ("ATLAS-AML.M0004", "Mitigation: Restrict Number of AI Model Queries"),
            ("ATLAS-AML.M0005", "Mitigation: Control Access to AI Models and Data at Rest"),
            ("ATLAS-AML.M0013", "Mitigation: Code Signing"),
            ("ATLAS-AML.M0014", "Mitigation: Verify AI Artifacts"),
            ("ATLAS-AML.M0016", "Mitigation: Vulnerability Scanning"),
            ("ATLAS-AML.M0019", "Mitigation: Control Access to AI Models and Data in Production"),
            ("ATLAS-AML.M0023", "Mitigation: AI Bill of Materials"),
            ("ATLAS-AML.M0024", "Mitigation: AI Telemetry Logging"),
            ("ATLAS-AML.M0025", "Mitigation: Maintain AI Dataset Provenance"),
        ],
        by_prefix: false,
    },
];

/// The catalogue name of a control id cited by a rule, when the catalogue has it (exactly or, for NIST, by
/// function).
pub fn name_of(cited: &str) -> Option<&'static str> {
    FRAMEWORKS.iter().find_map(|f| f.controls.iter().find(|(id, _)| f.matches(id, cited)).map(|(_, name)| *name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_a_bundled_rule_cites_in_these_frameworks_is_catalogued() {
        let policies = crate::Engine::default().compile(crate::bundled::BUNDLED.iter().copied()).expect("compiles");
        let prefixes = ["OWASP-", "EU-AI-Act-", "NIST-AI-RMF-", "ATLAS-"];
        let mut missing: Vec<String> = policies
            .rules()
            .flat_map(|r| r.controls.iter())
            .filter(|c| prefixes.iter().any(|p| c.starts_with(p)) && name_of(c).is_none())
            .cloned()
            .collect();
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "add these controls to the catalogue: {missing:?}");
    }

    #[test]
    fn the_catalogue_covers_what_the_report_promises() {
        let ids = |i: usize| FRAMEWORKS[i].controls.iter().map(|(id, _)| *id).collect::<Vec<_>>();
        let owasp: Vec<String> = (1..=10).map(|n| format!("OWASP-LLM{n:02}")).collect();
        assert_eq!(ids(0), owasp);
        for art in [9, 10, 11, 12, 13, 14, 15, 17, 53, 55] {
            assert!(ids(1).contains(&format!("EU-AI-Act-Art{art}").as_str()), "Art. {art}");
        }
        assert_eq!(ids(2).len(), 4);
        let mut all: Vec<&str> = FRAMEWORKS.iter().flat_map(|f| f.controls.iter().map(|(id, _)| *id)).collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "ids are unique");
    }

    #[test]
    fn nist_matches_by_function_and_others_exactly() {
        assert_eq!(name_of("NIST-AI-RMF-MEASURE-2.7").map(|n| &n[..7]), Some("MEASURE"));
        assert_eq!(name_of("NIST-AI-RMF-MAP"), name_of("NIST-AI-RMF-MAP-1.1"));
        assert_eq!(name_of("NIST-AI-RMF-MAPX"), None);
        assert_eq!(name_of("NIST-AI-RMF-MANAGE-3.1").map(|n| &n[..6]), Some("MANAGE"));
        assert_eq!(name_of("OWASP-LLM03"), Some("Supply Chain"));
        assert_eq!(name_of("OWASP-LLM03-x"), None);
        assert_eq!(name_of("EU-AI-Act-Art1"), None);
        assert_eq!(name_of("ISO-42001-A.6.2.7"), None);
    }
}
