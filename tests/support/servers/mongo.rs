//! MongoDB wire protocol, just enough to run commands: one OP_MSG (opcode 2013) with
//! a single body section, and a BSON subset (double, string, document, array, bool,
//! null, int32, int64; other types are skipped when reading). Written from the
//! MongoDB wire-protocol and BSON specifications.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const OP_MSG: i32 = 2013;
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// A BSON value of the supported subset.
#[derive(Debug, Clone, PartialEq)]
pub enum Bson {
    Double(f64),
    String(String),
    Document(Vec<(String, Bson)>),
    Array(Vec<Bson>),
    Bool(bool),
    Null,
    Int32(i32),
    Int64(i64),
    /// A value of another type, skipped (its BSON type byte).
    Unsupported(u8),
}

impl Bson {
    /// The field `key` of a document.
    pub fn get(&self, key: &str) -> Option<&Bson> {
        match self {
            Bson::Document(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A number as f64 (how `ok` comes back: double or int).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Bson::Double(d) => Some(*d),
            Bson::Int32(i) => Some(f64::from(*i)),
            Bson::Int64(i) => Some(*i as f64),
            _ => None,
        }
    }
}

/// A document from `(key, value)` pairs, in order (the first key names the command).
pub fn doc(fields: impl IntoIterator<Item = (&'static str, Bson)>) -> Bson {
    Bson::Document(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// Runs `command` (a document whose first key is the command name) on database `db`
/// and returns the reply document. Errors when the reply has `ok` other than 1,
/// carrying its `errmsg`.
pub fn run_command(addr: SocketAddr, db: &str, command: Bson) -> io::Result<Bson> {
    let Bson::Document(mut fields) = command else {
        return Err(invalid("a command must be a document"));
    };
    fields.push(("$db".to_string(), Bson::String(db.to_string())));
    let mut body = Vec::new();
    body.extend_from_slice(&0u32.to_le_bytes()); // flagBits
    body.push(0); // section kind 0: the body document
    encode_document(&fields, &mut body);
    let mut message = Vec::with_capacity(16 + body.len());
    message.extend_from_slice(&((16 + body.len()) as i32).to_le_bytes());
    message.extend_from_slice(&1i32.to_le_bytes()); // requestID
    message.extend_from_slice(&0i32.to_le_bytes()); // responseTo
    message.extend_from_slice(&OP_MSG.to_le_bytes());
    message.extend_from_slice(&body);

    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.write_all(&message)?;
    let mut header = [0u8; 16];
    stream.read_exact(&mut header)?;
    let length = i32::from_le_bytes(header[0..4].try_into().expect("4 bytes"));
    let opcode = i32::from_le_bytes(header[12..16].try_into().expect("4 bytes"));
    if opcode != OP_MSG || !(21..=48 * 1024 * 1024).contains(&length) {
        return Err(invalid(format!(
            "unexpected reply: opcode {opcode}, length {length}"
        )));
    }
    let mut reply = vec![0u8; length as usize - 16];
    stream.read_exact(&mut reply)?;
    // flagBits (4 bytes), then section kind 0 and the document.
    if reply[4] != 0 {
        return Err(invalid(format!(
            "unexpected reply section kind {}",
            reply[4]
        )));
    }
    let (document, _) = decode_document(&reply[5..])?;
    match document.get("ok").and_then(Bson::as_f64) {
        Some(1.0) => Ok(document),
        _ => Err(io::Error::other(format!("command failed: {document:?}"))),
    }
}

/// `{ping: 1}` on `admin`.
pub fn ping(addr: SocketAddr) -> io::Result<Bson> {
    run_command(addr, "admin", doc([("ping", Bson::Int32(1))]))
}

/// The BSON bytes of a document (`doc` must be a [`Bson::Document`]).
pub fn encode(doc: &Bson) -> Vec<u8> {
    let mut out = Vec::new();
    match doc {
        Bson::Document(fields) => encode_document(fields, &mut out),
        other => encode_document(&[("value".to_string(), other.clone())], &mut out),
    }
    out
}

/// The document at the start of `bytes`.
pub fn decode(bytes: &[u8]) -> io::Result<Bson> {
    decode_document(bytes).map(|(doc, _)| doc)
}

fn invalid(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

fn encode_document(fields: &[(String, Bson)], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    for (key, value) in fields {
        encode_element(key, value, out);
    }
    out.push(0);
    let length = (out.len() - start) as i32;
    out[start..start + 4].copy_from_slice(&length.to_le_bytes());
}

fn encode_element(key: &str, value: &Bson, out: &mut Vec<u8>) {
    let cstring = |out: &mut Vec<u8>, s: &str| {
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    };
    match value {
        Bson::Double(d) => {
            out.push(0x01);
            cstring(out, key);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Bson::String(s) => {
            out.push(0x02);
            cstring(out, key);
            out.extend_from_slice(&(s.len() as i32 + 1).to_le_bytes());
            cstring(out, s);
        }
        Bson::Document(fields) => {
            out.push(0x03);
            cstring(out, key);
            encode_document(fields, out);
        }
        Bson::Array(items) => {
            out.push(0x04);
            cstring(out, key);
            let fields: Vec<(String, Bson)> = items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v.clone()))
                .collect();
            encode_document(&fields, out);
        }
        Bson::Bool(b) => {
            out.push(0x08);
            cstring(out, key);
            out.push(u8::from(*b));
        }
        Bson::Null | Bson::Unsupported(_) => {
            out.push(0x0A);
            cstring(out, key);
        }
        Bson::Int32(i) => {
            out.push(0x10);
            cstring(out, key);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Bson::Int64(i) => {
            out.push(0x12);
            cstring(out, key);
            out.extend_from_slice(&i.to_le_bytes());
        }
    }
}

/// Decodes the document at the start of `bytes`; returns it and its length.
fn decode_document(bytes: &[u8]) -> io::Result<(Bson, usize)> {
    let length = read_i32(bytes, 0)? as usize;
    if length < 5 || length > bytes.len() {
        return Err(invalid(format!("bad BSON document length {length}")));
    }
    let mut fields = Vec::new();
    let mut at = 4;
    while bytes[at] != 0 {
        let kind = bytes[at];
        at += 1;
        let key_end = bytes[at..length]
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| invalid("unterminated BSON key"))?;
        let key = String::from_utf8_lossy(&bytes[at..at + key_end]).into_owned();
        at += key_end + 1;
        let (value, size) = decode_value(kind, &bytes[at..length])?;
        fields.push((key, value));
        at += size;
        if at >= length {
            return Err(invalid("BSON document overruns its length"));
        }
    }
    Ok((Bson::Document(fields), length))
}

fn decode_value(kind: u8, bytes: &[u8]) -> io::Result<(Bson, usize)> {
    let fixed = |size: usize| -> io::Result<&[u8]> {
        bytes
            .get(..size)
            .ok_or_else(|| invalid("truncated BSON value"))
    };
    Ok(match kind {
        0x01 => (
            Bson::Double(f64::from_le_bytes(fixed(8)?.try_into().expect("8"))),
            8,
        ),
        0x02 => {
            let len = read_i32(bytes, 0)? as usize;
            let text = bytes
                .get(4..4 + len.saturating_sub(1))
                .ok_or_else(|| invalid("truncated BSON string"))?;
            (
                Bson::String(String::from_utf8_lossy(text).into_owned()),
                4 + len,
            )
        }
        0x03 => decode_document(bytes)?,
        0x04 => {
            let (document, size) = decode_document(bytes)?;
            let Bson::Document(fields) = document else {
                unreachable!()
            };
            (
                Bson::Array(fields.into_iter().map(|(_, v)| v).collect()),
                size,
            )
        }
        0x08 => (Bson::Bool(fixed(1)?[0] != 0), 1),
        0x0A => (Bson::Null, 0),
        0x10 => (Bson::Int32(read_i32(bytes, 0)?), 4),
        0x12 => (
            Bson::Int64(i64::from_le_bytes(fixed(8)?.try_into().expect("8"))),
            8,
        ),
        // binary: int32 length + subtype byte + data
        0x05 => (Bson::Unsupported(kind), 5 + read_i32(bytes, 0)? as usize),
        0x07 => (Bson::Unsupported(kind), 12),
        0x09 | 0x11 => (Bson::Unsupported(kind), 8),
        0x13 => (Bson::Unsupported(kind), 16),
        other => return Err(invalid(format!("unsupported BSON type 0x{other:02x}"))),
    })
}

fn read_i32(bytes: &[u8], at: usize) -> io::Result<i32> {
    let raw = bytes
        .get(at..at + 4)
        .ok_or_else(|| invalid("truncated BSON int32"))?;
    Ok(i32::from_le_bytes(raw.try_into().expect("4 bytes")))
}
