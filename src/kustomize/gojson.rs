//! Go `encoding/json` emulation and kustomize's generator name hash (`api/hasher`).

use serde_json::Value;
use sha2::{Digest, Sha256};

/// `json.Marshal` of a JSON value as Go would produce it: compact, map keys sorted,
/// HTML-escaped (`<`, `>`, `&`), U+2028/U+2029 escaped.
pub fn go_json_marshal(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, &map[k]);
            }
            out.push('}');
        }
    }
}

/// kustomize decodes the data maps into `interface{}`, so every number is a float64;
/// Go prints integral float64 below 1e21 without exponent or fraction.
fn write_number(out: &mut String, n: &serde_json::Number) {
    if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else if let Some(u) = n.as_u64() {
        out.push_str(&u.to_string());
    } else if let Some(f) = n.as_f64() {
        if f.fract() == 0.0 && f.abs() < 1e21 {
            out.push_str(&format!("{f:.0}"));
        } else {
            out.push_str(&f.to_string());
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The 10-character suffix kustomize appends to a generated ConfigMap or Secret
/// (`hasher.Hash`). `object` is the final, patched object. Returns `None` for other kinds.
pub fn generator_hash(object: &Value) -> Option<String> {
    let kind = object.get("kind")?.as_str()?;
    // kustomize looks up "metadata/name" as one field name, finds nothing, and hashes "".
    let field = |name: &str| object.get(name).cloned().unwrap_or(Value::from(""));
    let mut m = serde_json::Map::new();
    m.insert("kind".into(), Value::from(kind));
    m.insert("name".into(), Value::from(""));
    match kind {
        "ConfigMap" => {
            m.insert("data".into(), field("data"));
            if let Some(b @ Value::Object(_)) = object.get("binaryData") {
                m.insert("binaryData".into(), b.clone());
            }
        }
        "Secret" => {
            m.insert("type".into(), field("type"));
            m.insert("data".into(), field("data"));
            if let Some(s @ Value::Object(_)) = object.get("stringData") {
                m.insert("stringData".into(), s.clone());
            }
        }
        _ => return None,
    }
    let encoded = go_json_marshal(&Value::Object(m));
    let digest = Sha256::digest(encoded.as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    Some(
        hex.chars()
            .map(|c| match c {
                '0' => 'g',
                '1' => 'h',
                '3' => 'k',
                'a' => 'm',
                'e' => 't',
                c => c,
            })
            .collect(),
    )
}

/// kustomize's `encodeBase64`: standard base64, cut in 70-character lines, each line
/// ending in `\n` when there is more than one line (encoded length ≥ 70).
pub(crate) fn wrapped_base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    const LINE: usize = 70;
    let enc = base64::engine::general_purpose::STANDARD.encode(bytes);
    let lines = enc.len() / LINE + 1;
    if lines <= 1 {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + lines);
    for chunk in enc.as_bytes().chunks(LINE) {
        // base64 output is ASCII, so any byte boundary is a char boundary.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_marshal_escapes_html_and_sorts_keys() {
        let v = json!({"b": "<b>&c", "a": [1, "\u{2028}"]});
        assert_eq!(
            go_json_marshal(&v),
            r#"{"a":[1,"\u2028"],"b":"\u003cb\u003e\u0026c"}"#
        );
    }

    #[test]
    fn base64_wraps_at_70_with_trailing_newline() {
        assert_eq!(wrapped_base64(b"abc"), "YWJj");
        let w = wrapped_base64(&[b'x'; 70]);
        let lines: Vec<&str> = w.split_terminator('\n').collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), 70);
        assert!(w.ends_with('\n'));
        // 51 bytes encode to 68 characters: no wrapping.
        assert!(!wrapped_base64(&[b'x'; 51]).contains('\n'));
        // 52 bytes encode to 72 characters: 70 + 2, each line ending in a newline.
        let w = wrapped_base64(&[b'x'; 52]);
        assert_eq!(w.len(), 74);
        assert!(w.ends_with('\n'));
    }

    /// Vectors measured with `kubectl kustomize` (kustomize v5.5.0), see
    /// tests/kustomize/cases/hash-vectors and secret-boundaries.
    #[test]
    fn hash_vectors_from_kubectl() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                        "data": {"k": "<b>&c"}});
        assert_eq!(generator_hash(&cm).unwrap(), "58489f486t");
        let secret = |v: &[u8]| {
            json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                   "metadata": {"name": "x"}, "data": {"k": wrapped_base64(v)}})
        };
        assert_eq!(generator_hash(&secret(b"<b>&c")).unwrap(), "dc7hkth8th");
        assert_eq!(generator_hash(&secret(&[b'z'; 70])).unwrap(), "6bkc56k225");
        let boundary = |v: &[u8]| {
            json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                   "metadata": {"name": "x"}, "data": {"v": wrapped_base64(v)}})
        };
        assert_eq!(
            generator_hash(&boundary(&[b'y'; 51])).unwrap(),
            "gc4t4ft75b"
        );
        assert_eq!(
            generator_hash(&boundary(&[b'y'; 52])).unwrap(),
            "g96dd5ht7b"
        );
        assert_eq!(
            generator_hash(&boundary(&[b'y'; 53])).unwrap(),
            "8hf24chh67"
        );
        // the name is not part of the hash (kustomize looks up "metadata/name" as one key)
        let mut renamed = cm.clone();
        renamed["metadata"]["name"] = json!("other");
        assert_eq!(generator_hash(&renamed), generator_hash(&cm));
    }
}
