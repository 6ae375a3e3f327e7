//! YAML output (for `policy inspect`), emitted by libyaml so quoting is always right.

use libyaml_safer::{Emitter, Encoding, Event, MappingStyle, ScalarStyle, SequenceStyle};

use crate::value::Value;

/// `values` as a YAML stream, one document each.
pub fn render(values: &[Value]) -> String {
    let mut out = Vec::new();
    let mut emitter = Emitter::new();
    emitter.set_output_string(&mut out);
    emitter.set_unicode(true);
    emitter.set_width(120);
    let mut events = vec![Event::stream_start(Encoding::Utf8)];
    for value in values {
        events.push(Event::document_start(None, &[], false));
        push(value, &mut events);
        events.push(Event::document_end(true));
    }
    events.push(Event::stream_end());
    for event in events {
        if emitter.emit(event).is_err() {
            break;
        }
    }
    let _ = emitter.flush();
    drop(emitter);
    String::from_utf8(out).unwrap_or_default()
}

fn scalar(text: &str, plain: bool, events: &mut Vec<Event>) {
    // `plain` says whether the text reads back as the same value when unquoted; if not, libyaml quotes it.
    events.push(Event::scalar(
        None,
        None,
        text,
        plain,
        true,
        if plain { ScalarStyle::Plain } else { ScalarStyle::Any },
    ));
}

fn push(value: &Value, events: &mut Vec<Event>) {
    match value {
        Value::Null => scalar("null", true, events),
        Value::Bool(b) => scalar(if *b { "true" } else { "false" }, true, events),
        Value::Int(_) | Value::Float(_) => scalar(&value.to_string(), true, events),
        Value::String(s) => {
            let plain = matches!(crate::input::resolve_yaml_scalar(s), Value::String(_)) && !s.is_empty();
            scalar(s, plain, events)
        }
        Value::Array(items) => {
            events.push(Event::sequence_start(None, None, true, SequenceStyle::Any));
            for item in items.iter() {
                push(item, events);
            }
            events.push(Event::sequence_end());
        }
        Value::Object(map) => {
            events.push(Event::mapping_start(None, None, true, MappingStyle::Any));
            for (k, v) in map.iter() {
                let plain = matches!(crate::input::resolve_yaml_scalar(k), Value::String(_)) && !k.is_empty();
                scalar(k, plain, events);
                push(v, events);
            }
            events.push(Event::mapping_end());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;

    #[test]
    fn output_reads_back_as_the_same_values() {
        let original = Value::from_json(
            r##"{"a": "true", "b": true, "c": "123", "d": 1.5, "e": null, "f": "", "g": ["x: y", "- z", "#c"], "on": "yes"}"##,
        )
        .unwrap();
        let text = render(std::slice::from_ref(&original));
        let docs = Document::from_str("out.yaml", &text).unwrap();
        assert_eq!(docs[0].data(), &original, "{text}");
    }
}
