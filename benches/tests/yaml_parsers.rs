//! The YAML parser table of the comparison harness (`vigil_bench::yaml_parsers`): every parser reads every
//! generated card, they agree on the number of events, the loaders read one document per card, and the table
//! has its rows and the two ratio lines.

use vigil_bench::yaml_parsers::{LOADERS, READERS, ROWS, libyaml_safer_events, run, saphyr_events, yaml_rust2_events};
use vigil_bench::{Rng, model_card_yaml};

fn cards(n: usize) -> Vec<String> {
    let mut rng = Rng::new(11);
    (0..n).map(|i| model_card_yaml(&mut rng, i)).collect()
}

#[test]
fn parsers_agree_on_the_events_of_every_card() {
    for (i, card) in cards(200).iter().enumerate() {
        let libyaml = libyaml_safer_events(card).expect("libyaml-safer reads the card");
        assert!(libyaml > 10, "card {i}: only {libyaml} events");
        assert_eq!(saphyr_events(card), Ok(libyaml), "card {i}: saphyr-parser");
        assert_eq!(yaml_rust2_events(card), Ok(libyaml), "card {i}: yaml-rust2");
        assert_eq!(READERS[0](card), Ok(1), "card {i}: Vigil");
        for k in LOADERS {
            assert_eq!(READERS[k](card), Ok(1), "card {i}: {}", ROWS[k]);
        }
    }
}

#[test]
fn table_has_every_row_and_the_ratio_line() {
    let run = run(&cards(20), 1, 1).expect("every parser reads the cards");
    let table = &run.text;
    for row in ROWS {
        assert!(table.contains(&format!("| {row} |")), "no row {row}:\n{table}");
    }
    assert!(table.contains("YAML load ÷ fastest events-only parser ("), "{table}");
    assert!(table.contains("YAML load ÷ fastest parser loading into its own values ("), "{table}");
    assert!(run.vs_events > 0.0 && run.vs_loaders > 0.0, "{table}");
}

#[test]
fn a_rejected_text_names_its_parser() {
    let err = run(&["a: [1, 2\n".to_string()], 1, 0).expect_err("unclosed flow sequence");
    assert!(err.starts_with(ROWS[0]), "{err}");
}
