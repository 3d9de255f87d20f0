//! YAML reading and writing with kustomize's typing.
//!
//! kustomize reads resources and patches with go-yaml v3 (kyaml) and writes every object
//! through JSON (`Resource.AsYAML` = JSON → YAML). The observable typing of a plain scalar
//! is therefore go-yaml v3's `resolve` followed by Go's `json.Marshal`:
//! `on`/`yes` stay strings, `0123` is octal 83, `1_000` is 1000, `3.0` becomes 3,
//! `2024-01-01` becomes the string `2024-01-01T00:00:00Z`.
//! Kustomization files and the YAML text of JSON 6902 patches are read by
//! `sigs.k8s.io/yaml` (go-yaml v2, YAML 1.1): there `on`/`yes`/`off`/`no` are booleans.
//! [`Typing`] selects between the two. The writer quotes every string that either
//! reading (or a YAML 1.1 reader) would take for something else.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Which resolver gives plain scalars their type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Typing {
    /// go-yaml v3 (kyaml): resources, strategic-merge patches.
    Kyaml,
    /// go-yaml v2 via sigs.k8s.io/yaml: kustomization files, JSON 6902 YAML text.
    Yaml11,
}

/// Parses every document of a YAML stream. Empty documents come back as `Null`.
pub(crate) fn parse_documents(text: &str, typing: Typing) -> Result<Vec<Value>, String> {
    let mut builder = Builder {
        typing,
        docs: Vec::new(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        error: None,
        last_block: None,
    };
    let mut parser = Parser::new_from_str(text);
    parser
        .load(&mut builder, true)
        .map_err(|e| format!("invalid YAML: {e}"))?;
    if let Some(e) = builder.error {
        return Err(e);
    }
    // go-yaml: a block scalar that ends the stream without a final line break has no
    // trailing newline (yaml-rust2 adds one).
    if !text.ends_with('\n')
        && let Some((doc, path)) = builder.last_block.take()
        && let Some(Value::String(s)) = builder.docs.get_mut(doc).and_then(|d| follow(d, &path))
        && s.ends_with('\n')
    {
        s.pop();
    }
    Ok(builder.docs)
}

enum Seg {
    Key(String),
    Idx(usize),
}

fn follow<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = v;
    for seg in path {
        cur = match seg {
            Seg::Key(k) => cur.get_mut(k.as_str())?,
            Seg::Idx(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

/// kustomize writes and re-reads folded scalars with go-yaml v3, whose emitter checks the
/// first character of the whole value instead of the next line: a line break (run) after
/// a normal line and before a more-indented line comes back with one extra `\n`.
fn folded_round_trip(s: &str) -> String {
    let first = s.trim_start_matches('\n').chars().next();
    if first.is_none_or(|c| c == ' ' || c == '\t') {
        return s.to_string();
    }
    // values the emitter cannot write as a block (a line ending in a blank, control
    // characters) are written quoted and come back unchanged
    let blockable = s.split('\n').all(|l| !l.ends_with([' ', '\t']))
        && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    if !blockable {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    let lines: Vec<&str> = s.split('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        out.push_str(line);
        if i + 1 == lines.len() {
            break;
        }
        // a run of breaks: the current line, then empty lines, then the next content line
        let mut j = i + 1;
        while j < lines.len() - 1 && lines[j].is_empty() {
            j += 1;
        }
        let breaks = j - i;
        let normal_before = !line.starts_with([' ', '\t']);
        let blank_after = lines[j].starts_with([' ', '\t']);
        for _ in 0..breaks {
            out.push('\n');
        }
        if normal_before && blank_after {
            out.push('\n');
        }
        for l in &lines[i + 1..j] {
            out.push_str(l);
        }
        i = j;
    }
    out
}

/// Parses a single-document YAML text (an empty text is `Null`).
pub(crate) fn parse_one(text: &str, typing: Typing) -> Result<Value, String> {
    let mut docs = parse_documents(text, typing)?;
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.remove(0)),
        n => Err(format!("expected one YAML document, found {n}")),
    }
}

enum Frame {
    Seq {
        anchor: usize,
        items: Vec<Value>,
    },
    Map {
        anchor: usize,
        map: Map<String, Value>,
        key: Option<(String, bool)>,
        merges: Vec<Value>,
    },
}

struct Builder {
    typing: Typing,
    docs: Vec<Value>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Value>,
    error: Option<String>,
    /// Where the most recent block scalar went, while it is the last event seen.
    last_block: Option<(usize, Vec<Seg>)>,
}

impl Builder {
    fn fail(&mut self, msg: String) {
        if self.error.is_none() {
            self.error = Some(msg);
        }
    }

    /// Delivers a finished node to its parent (or as a document).
    /// `plain_key` tells a mapping key `<<` (merge) from a quoted `"<<"`.
    fn push_value(&mut self, v: Value, key_text: Option<(String, bool)>) {
        match self.stack.last_mut() {
            None => self.docs.push(v),
            Some(Frame::Seq { items, .. }) => items.push(v),
            Some(Frame::Map {
                map, key, merges, ..
            }) => match key.take() {
                None => {
                    // this node is a key
                    let text = key_text.unwrap_or_else(|| (key_string(&v), false));
                    *key = Some(text);
                }
                Some((k, plain)) => {
                    if plain && k == "<<" {
                        merges.push(v);
                    } else if map.contains_key(&k) {
                        let msg = format!("mapping key \"{k}\" already defined");
                        self.fail(msg);
                    } else {
                        map.insert(k, v);
                    }
                }
            },
        }
    }

    fn current_path(&self) -> Vec<Seg> {
        self.stack
            .iter()
            .map(|f| match f {
                Frame::Seq { items, .. } => Seg::Idx(items.len()),
                Frame::Map { key, .. } => {
                    Seg::Key(key.as_ref().map(|k| k.0.clone()).unwrap_or_default())
                }
            })
            .collect()
    }

    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }
}

fn key_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, _mark: Marker) {
        if self.error.is_some() {
            return;
        }
        if !matches!(
            ev,
            Event::SequenceEnd | Event::MappingEnd | Event::DocumentEnd | Event::StreamEnd
        ) {
            self.last_block = None;
        }
        match ev {
            Event::DocumentEnd => {}
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(v) => self.push_value(v, None),
                None => self.fail(format!("unknown anchor (alias id {id})")),
            },
            Event::Scalar(text, style, anchor, tag) => {
                let is_key = self.expecting_key();
                if !is_key && matches!(style, TScalarStyle::Literal | TScalarStyle::Folded) {
                    self.last_block = Some((self.docs.len(), self.current_path()));
                }
                let text = if style == TScalarStyle::Folded && self.typing == Typing::Kyaml {
                    folded_round_trip(&text)
                } else {
                    text
                };
                let v = resolve(&text, style, tag.as_ref(), self.typing);
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                let key = is_key.then(|| {
                    let plain = style == TScalarStyle::Plain && tag.is_none();
                    // keys keep their text (kyaml keys are node values)
                    (text.clone(), plain)
                });
                self.push_value(v, key);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                anchor,
                items: Vec::new(),
            }),
            Event::SequenceEnd => {
                if let Some(Frame::Seq { anchor, items }) = self.stack.pop() {
                    let v = Value::Array(items);
                    if anchor > 0 {
                        self.anchors.insert(anchor, v.clone());
                    }
                    self.push_value(v, None);
                }
            }
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                anchor,
                map: Map::new(),
                key: None,
                merges: Vec::new(),
            }),
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    anchor,
                    mut map,
                    merges,
                    ..
                }) = self.stack.pop()
                {
                    // merge keys: explicit keys win, earlier merged maps win over later
                    for m in merges {
                        let sources = match m {
                            Value::Array(items) => items,
                            other => vec![other],
                        };
                        for s in sources {
                            if let Value::Object(src) = s {
                                for (k, v) in src {
                                    map.entry(k).or_insert(v);
                                }
                            }
                        }
                    }
                    let v = Value::Object(map);
                    if anchor > 0 {
                        self.anchors.insert(anchor, v.clone());
                    }
                    self.push_value(v, None);
                }
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart | Event::Nothing => {}
        }
    }
}

fn tag_name(tag: &Tag) -> Option<&str> {
    if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" {
        Some(tag.suffix.as_str())
    } else {
        None
    }
}

fn resolve(text: &str, style: TScalarStyle, tag: Option<&Tag>, typing: Typing) -> Value {
    if let Some(t) = tag {
        match tag_name(t) {
            Some("str") | Some("binary") => return Value::from(text),
            Some("null") => return Value::Null,
            Some("bool") | Some("int") | Some("float") => {
                return resolve_plain(text, typing).unwrap_or_else(|| Value::from(text));
            }
            _ => {}
        }
    }
    if style != TScalarStyle::Plain {
        return Value::from(text);
    }
    resolve_plain(text, typing).unwrap_or_else(|| Value::from(text))
}

/// The non-string value of a plain scalar, if it has one.
fn resolve_plain(s: &str, typing: Typing) -> Option<Value> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    if typing == Typing::Yaml11 {
        match s {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
                return Some(Value::Bool(true));
            }
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
                return Some(Value::Bool(false));
            }
            _ => {}
        }
    }
    let first = s.chars().next()?;
    if !(first.is_ascii_digit() || first == '+' || first == '-' || first == '.') {
        return None;
    }
    if typing == Typing::Kyaml
        && first.is_ascii_digit()
        && let Some(ts) = timestamp(s)
    {
        return Some(Value::from(ts));
    }
    let plain: String = s.chars().filter(|c| *c != '_').collect();
    if let Some(v) = go_parse_int(&plain) {
        return Some(v);
    }
    if is_yaml_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Some(json_float(f));
    }
    None
}

/// Go `strconv.ParseInt(s, 0, 64)` (then ParseUint): sign, `0x`/`0o`/`0b`/leading-0 octal.
fn go_parse_int(s: &str) -> Option<Value> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string())
    } else {
        (10, lower)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u128::from_str_radix(&digits, radix).ok()?;
    if neg {
        if mag <= i64::MAX as u128 + 1 {
            return Some(Value::Number(Number::from(-(mag as i128) as i64)));
        }
        return None;
    }
    if mag <= i64::MAX as u128 {
        Some(Value::Number(Number::from(mag as i64)))
    } else if mag <= u64::MAX as u128 {
        Some(Value::Number(Number::from(mag as u64)))
    } else {
        None
    }
}

/// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A float as it reads back after Go's json.Marshal: integral values below 1e21 print
/// without a fraction and so become integers.
fn json_float(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        if f >= i64::MIN as f64 && f <= i64::MAX as f64 {
            return Value::Number(Number::from(f as i64));
        }
        if f >= 0.0 && f <= u64::MAX as f64 {
            return Value::Number(Number::from(f as u64));
        }
    }
    Number::from_f64(f)
        .map(Value::Number)
        .unwrap_or_else(|| Value::from(f.to_string()))
}

/// go-yaml v3 timestamps (plain scalars starting with `YYYY-`), rendered as Go's JSON
/// encoding of `time.Time` (RFC 3339 with nanoseconds trimmed).
fn timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    // date part: YYYY-M-D (1 or 2 digit month/day)
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some((s.as_bytes()[i], &s[i + 1..]))),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let year: u32 = parts.next()?.parse().ok()?;
    let month = small_num(parts.next()?, 1, 12)?;
    let day = small_num(parts.next()?, 1, 31)?;
    if parts.next().is_some() {
        return None;
    }
    let Some((sep, rest)) = rest else {
        return Some(format!("{year:04}-{month:02}-{day:02}T00:00:00Z"));
    };
    // time part: H:M:S(.frac)? then zone (Z or ±hh:mm) — zone only with 'T'/'t'
    let zone_at = rest.find(['Z', '+', '-']);
    let (clock, zone) = match zone_at {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if sep == b' ' && !zone.is_empty() {
        return None;
    }
    if sep != b' ' && zone.is_empty() {
        return None;
    }
    let (hms, frac) = match clock.split_once('.') {
        Some((a, f)) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|c| c.is_ascii_digit()) => {
            (a, f.trim_end_matches('0'))
        }
        Some(_) => return None,
        None => (clock, ""),
    };
    let mut t = hms.split(':');
    let h = small_num(t.next()?, 0, 23)?;
    let m = small_num(t.next()?, 0, 59)?;
    let sec = small_num(t.next()?, 0, 59)?;
    if t.next().is_some() {
        return None;
    }
    let zone = match zone {
        "" | "Z" => "Z".to_string(),
        z => {
            let (sign, hm) = z.split_at(1);
            let (zh, zm) = hm.split_once(':')?;
            let (zh, zm) = (small_num(zh, 0, 23)?, small_num(zm, 0, 59)?);
            if zh == 0 && zm == 0 {
                "Z".to_string()
            } else {
                format!("{sign}{zh:02}:{zm:02}")
            }
        }
    };
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{sec:02}{frac}{zone}"
    ))
}

fn small_num(s: &str, min: u32, max: u32) -> Option<u32> {
    if s.is_empty() || s.len() > 2 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: u32 = s.parse().ok()?;
    (min..=max).contains(&n).then_some(n)
}

// ---------------------------------------------------------------- writer

/// Writes one object as a YAML document (block style, keys sorted as in the map).
pub(crate) fn write_document(out: &mut String, v: &Value) {
    match v {
        Value::Object(m) if !m.is_empty() => write_map(out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(out, a, 0),
        other => {
            write_scalar(out, other, 0);
            out.push('\n');
        }
    }
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn write_map(out: &mut String, m: &Map<String, Value>, level: usize) {
    for (k, v) in m {
        indent(out, level);
        write_string(out, k, level, true);
        out.push(':');
        write_child(out, v, level, true);
    }
}

fn write_seq(out: &mut String, items: &[Value], level: usize) {
    for v in items {
        indent(out, level);
        out.push('-');
        match v {
            Value::Object(m) if !m.is_empty() => {
                // first key on the dash line, the rest aligned under it
                out.push(' ');
                let mut first = true;
                for (k, val) in m {
                    if !first {
                        indent(out, level + 2);
                    }
                    first = false;
                    write_string(out, k, level + 2, true);
                    out.push(':');
                    write_child(out, val, level + 2, true);
                }
            }
            _ => write_child(out, v, level, false),
        }
    }
}

/// Writes a value after `key:` or `-`.
fn write_child(out: &mut String, v: &Value, level: usize, in_map: bool) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, level + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            // kubectl style: a list under a key is not indented further
            write_seq(out, a, if in_map { level } else { level + 2 });
        }
        other => {
            out.push(' ');
            write_scalar(out, other, level + 2);
            out.push('\n');
        }
    }
}

fn write_scalar(out: &mut String, v: &Value, level: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s, level, false),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

fn write_string(out: &mut String, s: &str, level: usize, is_key: bool) {
    if plain_safe(s) {
        out.push_str(s);
    } else if !is_key && literal_block_ok(s) {
        // multi-line text as a literal block, like kubectl does for ConfigMap data
        let body = s.strip_suffix('\n').unwrap_or(s);
        let chomp = if s.ends_with('\n') { "" } else { "-" };
        out.push('|');
        out.push_str(chomp);
        for line in body.split('\n') {
            out.push('\n');
            if !line.is_empty() {
                indent(out, level);
                out.push_str(line);
            }
        }
    } else {
        // JSON string syntax is valid YAML double-quoted syntax
        out.push_str(&Value::from(s).to_string());
    }
}

fn literal_block_ok(s: &str) -> bool {
    s.contains('\n')
        && !s.ends_with("\n\n")
        // a leading blank on the first line would need an indentation indicator; later lines
        // may be more indented (the block's indentation is set by the first line)
        && !s.starts_with([' ', '\t', '\n'])
        && !s.contains("\n\t")
        && s.split('\n')
            .all(|l| !l.ends_with([' ', '\t']) && !l.chars().any(|c| c.is_control() && c != '\t'))
}

/// Whether a string can be written plain and read back as the same string by go-yaml
/// v2/v3, YAML 1.1 readers and this module's reader.
fn plain_safe(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return false;
    }
    if resolve_plain(s, Typing::Kyaml).is_some() || resolve_plain(s, Typing::Yaml11).is_some() {
        return false;
    }
    // numbers in any other notation (1e3 without dot, .inf, hex floats, 1:20 sexagesimal)
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        ".inf" | "-.inf" | "+.inf" | ".nan" | "=" | "<<"
    ) || s.parse::<f64>().is_ok()
    {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if s.chars().any(|c| {
        c.is_control() || c == '\u{feff}' || c == '\u{2028}' || c == '\u{2029}' || c == '\u{85}'
    }) {
        return false;
    }
    // YAML 1.1 sexagesimal numbers like 1:20 and timestamps
    if s.chars()
        .all(|c| c.is_ascii_digit() || c == ':' || c == '.' || c == '_')
        && s.contains(':')
    {
        return false;
    }
    if s.len() >= 5 && s.as_bytes()[..4].iter().all(u8::is_ascii_digit) && s.as_bytes()[4] == b'-' {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kyaml_typing_matches_kubectl() {
        let v = parse_one(
            "a: on\nb: 0123\nc: 1e3\nd: yes\ne: 2024-01-01\nf: 0x1F\ng: 3.0\nh: ~\ni: 1_000\nj: 0o17\nk: .5\nl: +12\nm: '0123'\nn: 08\n",
            Typing::Kyaml,
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"a": "on", "b": 83, "c": 1000, "d": "yes", "e": "2024-01-01T00:00:00Z",
                   "f": 31, "g": 3, "h": null, "i": 1000, "j": 15, "k": 0.5, "l": 12,
                   "m": "0123", "n": 8})
        );
    }

    #[test]
    fn yaml11_typing_for_json6902_text() {
        let v = parse_one(
            "- value: on\n- value: 0123\n- value: 1e3\n- value: 'on'\n",
            Typing::Yaml11,
        )
        .unwrap();
        assert_eq!(
            v,
            json!([{"value": true}, {"value": 83}, {"value": 1000}, {"value": "on"}])
        );
    }

    #[test]
    fn folded_and_eof_quirks_of_go_yaml() {
        let v = parse_one(
            "a: >-\n  x\n\n    y\n  z\nd: >-\n  p\n    q\n\n  r\n    s\n      t\n  u\ne: |\n  no newline at eof",
            Typing::Kyaml,
        )
        .unwrap();
        assert_eq!(v["a"], "x\n\n\n  y\nz");
        assert_eq!(v["d"], "p\n\n  q\n\nr\n\n  s\n    t\nu");
        assert_eq!(v["e"], "no newline at eof");
    }

    #[test]
    fn anchors_merge_keys_and_duplicates() {
        let v = parse_one(
            "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n",
            Typing::Kyaml,
        )
        .unwrap();
        assert_eq!(v["use"], json!({"x": 1, "y": 3}));
        assert!(parse_one("a: 1\na: 2\n", Typing::Kyaml).is_err());
    }

    #[test]
    fn writer_round_trips_tricky_strings() {
        let v = json!({
            "s": ["on", "yes", "0123", "1e3", "2024-01-01", "null", "", " x", "a: b", "-", "#x",
                   "line1\nline2\n", "trailing \nspace", "<b>&", "1:20", "~", "3.0", ".inf", "ok"],
            "n": [1, -2, 0.5, true, null],
            "nested": {"list": [{"a": 1, "b": [1, 2]}, [], {}], "empty": ""}
        });
        let mut out = String::new();
        write_document(&mut out, &v);
        assert_eq!(parse_one(&out, Typing::Kyaml).unwrap(), v, "{out}");
        let theirs: Value = serde_yaml_ng::from_str(&out).unwrap();
        assert_eq!(theirs, v, "{out}");
    }
}
