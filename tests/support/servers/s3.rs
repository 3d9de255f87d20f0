//! S3 requests signed with AWS Signature Version 4 (header auth, signed payload),
//! enough for tests to talk to MinIO and SeaweedFS: ListBuckets, bucket and object
//! calls. Written from the AWS SigV4 specification, independently of any S3 code in
//! the operator, so it can serve as an oracle in tests.

use std::io;
use std::net::SocketAddr;

use sha2::{Digest, Sha256};

use super::http::{self, HttpResponse};

/// Access key, secret key and region of an S3 identity.
#[derive(Debug, Clone)]
pub struct S3Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
}

impl S3Credentials {
    /// Credentials in the default region (`us-east-1`, what MinIO and SeaweedFS use).
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        S3Credentials {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            region: "us-east-1".to_string(),
        }
    }
}

/// Sends a signed S3 request: `path` is `/`, `/bucket` or `/bucket/key` (path-style,
/// not yet URI-encoded), `query` the query parameters (not yet encoded).
pub fn request(
    addr: SocketAddr,
    creds: &S3Credentials,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    body: &[u8],
) -> io::Result<HttpResponse> {
    let now = chrono::Utc::now();
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = now.format("%Y%m%d").to_string();
    let payload_hash = hex(&Sha256::digest(body));
    let host = addr.to_string();

    let canonical_uri = encode_path(path);
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
    pairs.sort();
    let canonical_query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let signed_headers = "host;x-amz-content-sha256;x-amz-date";
    let canonical_request = format!(
        "{method}\n{canonical_uri}\n{canonical_query}\nhost:{host}\nx-amz-content-sha256:{payload_hash}\nx-amz-date:{amz_date}\n\n{signed_headers}\n{payload_hash}"
    );
    let scope = format!("{date}/{}/s3/aws4_request", creds.region);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac_sha256(
        format!("AWS4{}", creds.secret_key).as_bytes(),
        date.as_bytes(),
    );
    for part in [creds.region.as_str(), "s3", "aws4_request"] {
        key = hmac_sha256(&key, part.as_bytes());
    }
    let signature = hex(&hmac_sha256(&key, string_to_sign.as_bytes()));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key
    );

    let target = if canonical_query.is_empty() {
        canonical_uri
    } else {
        format!("{canonical_uri}?{canonical_query}")
    };
    http::request(
        addr,
        method,
        &target,
        &[
            ("x-amz-date", &amz_date),
            ("x-amz-content-sha256", &payload_hash),
            ("Authorization", &authorization),
        ],
        body,
    )
}

/// PUTs `body` at `path` as `creds` and asserts the store accepted it.
pub fn assert_put(addr: SocketAddr, creds: &S3Credentials, path: &str, body: &[u8]) {
    let put = request(addr, creds, "PUT", path, &[], body).expect("PUT");
    assert_eq!(put.status, 200, "{}", put.text());
}

/// GETs `path` as `creds` and asserts it is there with `expected` as its content.
pub fn assert_get(addr: SocketAddr, creds: &S3Credentials, path: &str, expected: &str) {
    let got = request(addr, creds, "GET", path, &[], b"").expect("GET");
    assert_eq!((got.status, got.text().as_str()), (200, expected));
}

/// ListBuckets: the bucket names in the response, or the error response.
pub fn list_buckets(addr: SocketAddr, creds: &S3Credentials) -> Result<Vec<String>, String> {
    let response = request(addr, creds, "GET", "/", &[], b"")
        .map_err(|e| format!("ListBuckets on {addr}: {e}"))?;
    if response.status != 200 {
        return Err(format!(
            "ListBuckets on {addr}: HTTP {}: {}",
            response.status,
            response.text()
        ));
    }
    Ok(xml_values(&response.text(), "Name"))
}

/// The text of every `<tag>…</tag>` element in `xml`, in order (enough for S3's flat
/// list responses; no entity decoding).
pub fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut values = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        rest = &rest[start + open.len()..];
        let Some(end) = rest.find(&close) else { break };
        values.push(rest[..end].to_string());
        rest = &rest[end + close.len()..];
    }
    values
}

fn encode_path(path: &str) -> String {
    let encoded = path
        .split('/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/");
    if encoded.starts_with('/') {
        encoded
    } else {
        format!("/{encoded}")
    }
}

/// SigV4 URI encoding: everything but unreserved characters is %XX (uppercase).
fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA256 (RFC 2104) over SHA-256's 64-byte block.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .to_vec()
}
