//! A small S3 client for the setup steps: path-style requests signed with AWS Signature
//! Version 4 (header auth, signed payload; written from AWS's SigV4 documentation) over the
//! project's HTTP client. Generic over the server — an endpoint, credentials and the operations
//! the setups need (buckets, objects, bucket policies, and [`S3Client::send`] for any other
//! signed request, e.g. MinIO's admin API or SeaweedFS's quota extension) — so the same client
//! serves MinIO, SeaweedFS and any S3 service reachable over plain HTTP in the cluster.
//!
//! Errors carry the operation, the HTTP status and the server's error code and message, never
//! a credential: S3 error bodies are reduced to their `Code` and `Message`.

use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, Uri, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::http::{HttpClient, RawResponse};
use super::{Outcome, Secret, SetupError};

/// The region S3 services in a cluster answer to unless told otherwise (MinIO's and
/// SeaweedFS's default).
pub const DEFAULT_REGION: &str = "us-east-1";

/// An S3 identity: access key and secret key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Credentials {
    pub access_key: String,
    pub secret_key: Secret,
}

impl S3Credentials {
    pub fn new(access_key: impl Into<String>, secret_key: Secret) -> S3Credentials {
        S3Credentials {
            access_key: access_key.into(),
            secret_key,
        }
    }
}

/// One request to send with [`S3Client::send`].
#[derive(Debug, Clone)]
pub struct S3Request {
    pub method: Method,
    /// The path, not yet encoded: `/`, `/bucket`, `/bucket/key/with/slashes`, or any other
    /// path the server serves (e.g. `/minio/admin/v3/add-user`).
    pub path: String,
    /// Query parameters, not yet encoded (`("policy", "")` for `?policy`).
    pub query: Vec<(String, String)>,
    /// Extra headers (e.g. `Content-Type`); they are sent, not signed.
    pub headers: Vec<(header::HeaderName, String)>,
    pub body: Bytes,
}

impl S3Request {
    pub fn new(method: Method, path: impl Into<String>) -> S3Request {
        S3Request {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    pub fn query(mut self, key: &str, value: &str) -> S3Request {
        self.query.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn header(mut self, name: header::HeaderName, value: &str) -> S3Request {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<Bytes>) -> S3Request {
        self.body = body.into();
        self
    }
}

/// A raw answer: status, `Content-Type` and body.
#[derive(Debug, Clone)]
pub struct S3Response {
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub body: Bytes,
}

impl S3Response {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The error `Code` of an S3 (XML) or MinIO admin (JSON) error body, if any.
    pub fn error_code(&self) -> Option<String> {
        error_field(&self.body, "Code")
    }

    /// This answer as an error of `operation`.
    pub fn into_error(self, operation: &str) -> SetupError {
        SetupError::S3 {
            operation: operation.to_owned(),
            status: self.status.as_u16(),
            code: self.error_code().unwrap_or_default(),
            message: error_field(&self.body, "Message")
                .unwrap_or_else(|| snippet(&self.body))
                .chars()
                .take(200)
                .collect(),
        }
    }
}

/// An S3 endpoint with the identity requests are signed as (or none: anonymous requests).
#[derive(Clone)]
pub struct S3Client {
    http: HttpClient,
    /// `http://host:port`, no trailing slash.
    endpoint: String,
    /// The `Host` header and signed host: `host:port` as given.
    authority: String,
    region: String,
    credentials: Option<S3Credentials>,
}

impl std::fmt::Debug for S3Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Client")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field(
                "access_key",
                &self.credentials.as_ref().map(|c| c.access_key.as_str()),
            )
            .finish()
    }
}

impl S3Client {
    /// A client of `endpoint` (`http://host[:port]`, nothing after the authority) signing as
    /// `credentials`, each request bounded by `timeout`.
    pub fn new(
        endpoint: &str,
        credentials: S3Credentials,
        timeout: Duration,
    ) -> Result<S3Client, SetupError> {
        let mut client = S3Client::anonymous(endpoint, timeout)?;
        client.credentials = Some(credentials);
        Ok(client)
    }

    /// Checks the endpoint in the variable `name` as [`S3Client::anonymous`] does, the error
    /// naming the variable.
    pub(super) fn check_endpoint(name: &'static str, endpoint: &str) -> Result<(), SetupError> {
        S3Client::anonymous(endpoint, Duration::from_secs(1))
            .map(|_| ())
            .map_err(|e| SetupError::InvalidEnv {
                name,
                reason: e.to_string(),
            })
    }

    /// A client sending unsigned (anonymous) requests.
    pub fn anonymous(endpoint: &str, timeout: Duration) -> Result<S3Client, SetupError> {
        let endpoint = endpoint.trim_end_matches('/');
        // an endpoint with user info is refused without being echoed
        let shown = if endpoint.contains('@') {
            "(with credentials)"
        } else {
            endpoint
        };
        let invalid = |reason: &str| SetupError::InvalidEnv {
            name: "S3 endpoint",
            reason: format!("{shown}: {reason}"),
        };
        let uri: Uri = endpoint
            .parse()
            .map_err(|e| invalid(&format!("not a URL: {e}")))?;
        if uri.scheme_str() != Some("http") {
            return Err(invalid(
                "expected http://host[:port] (in-cluster, plain HTTP)",
            ));
        }
        let authority = uri
            .authority()
            .filter(|a| !a.as_str().contains('@'))
            .ok_or_else(|| invalid("expected http://host[:port] without credentials"))?
            .as_str()
            .to_owned();
        if uri.path() != "/" && !uri.path().is_empty() || uri.query().is_some() {
            return Err(invalid("expected no path after host[:port]"));
        }
        Ok(S3Client {
            http: HttpClient::new(timeout),
            endpoint: format!("http://{authority}"),
            authority,
            region: DEFAULT_REGION.to_owned(),
            credentials: None,
        })
    }

    /// The same client for another region.
    pub fn with_region(mut self, region: &str) -> S3Client {
        self.region = region.to_owned();
        self
    }

    /// The same endpoint signing as other credentials.
    pub fn with_credentials(&self, credentials: S3Credentials) -> S3Client {
        let mut client = self.clone();
        client.credentials = Some(credentials);
        client
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn access_key(&self) -> Option<&str> {
        self.credentials.as_ref().map(|c| c.access_key.as_str())
    }

    pub(crate) fn secret_key(&self) -> Option<&Secret> {
        self.credentials.as_ref().map(|c| &c.secret_key)
    }

    /// Sends one request, signed when the client has credentials. `operation` names it in
    /// errors. Any status is returned: callers decide what it means.
    pub async fn send(
        &self,
        operation: &str,
        request: S3Request,
    ) -> Result<S3Response, SetupError> {
        let canonical_uri = encode_path(&request.path);
        let mut pairs: Vec<(String, String)> = request
            .query
            .iter()
            .map(|(k, v)| (uri_encode(k), uri_encode(v)))
            .collect();
        pairs.sort();
        let query = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let target = if query.is_empty() {
            canonical_uri.clone()
        } else {
            format!("{canonical_uri}?{query}")
        };
        let mut builder = Request::builder()
            .method(request.method.clone())
            .uri(format!("{}{target}", self.endpoint))
            .header(header::HOST, &self.authority);
        if let Some(credentials) = &self.credentials {
            let signed = sign(&SigningInput {
                method: request.method.as_str(),
                canonical_uri: &canonical_uri,
                canonical_query: &query,
                host: &self.authority,
                payload: &request.body,
                region: &self.region,
                service: "s3",
                credentials,
                time: chrono::Utc::now(),
            });
            builder = builder
                .header("x-amz-date", &signed.amz_date)
                .header("x-amz-content-sha256", &signed.payload_hash)
                .header(header::AUTHORIZATION, &signed.authorization);
        }
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let http_request = builder
            .body(Full::new(request.body))
            .map_err(|e| SetupError::Http {
                step: operation.to_owned(),
                reason: format!("cannot build request: {e}"),
            })?;
        let RawResponse {
            status,
            headers,
            body,
        } = self.http.send(operation, http_request).await?;
        Ok(S3Response {
            status,
            content_type: headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body,
        })
    }

    /// ListBuckets: the names of the buckets the identity sees.
    pub async fn list_buckets(&self) -> Result<Vec<String>, SetupError> {
        let operation = "list buckets";
        let response = self
            .send(operation, S3Request::new(Method::GET, "/"))
            .await?;
        if !response.is_success() {
            return Err(response.into_error(operation));
        }
        Ok(xml_values(&String::from_utf8_lossy(&response.body), "Name"))
    }

    /// HeadBucket: true when it exists (and the identity may see it).
    pub async fn bucket_exists(&self, bucket: &str) -> Result<bool, SetupError> {
        let operation = format!("head bucket {bucket}");
        let response = self
            .send(
                &operation,
                S3Request::new(Method::HEAD, format!("/{bucket}")),
            )
            .await?;
        match response.status {
            status if status.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(response.into_error(&operation)),
        }
    }

    /// CreateBucket.
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), SetupError> {
        let operation = format!("create bucket {bucket}");
        let response = self
            .send(
                &operation,
                S3Request::new(Method::PUT, format!("/{bucket}")),
            )
            .await?;
        match response.status {
            status if status.is_success() => Ok(()),
            _ if response.error_code().as_deref() == Some("BucketAlreadyOwnedByYou") => Ok(()),
            _ => Err(response.into_error(&operation)),
        }
    }

    /// DeleteBucket; `force` adds MinIO's `x-minio-force-delete` (its objects go too, as with
    /// `mc rb --force`). A missing bucket is not an error: returns whether one was deleted.
    pub async fn delete_bucket(&self, bucket: &str, force: bool) -> Result<bool, SetupError> {
        // MinIO answers 204 to a forced delete of a missing bucket: ask first
        if !self.bucket_exists(bucket).await? {
            return Ok(false);
        }
        let operation = format!("delete bucket {bucket}");
        let mut request = S3Request::new(Method::DELETE, format!("/{bucket}"));
        if force {
            request = request.header(
                header::HeaderName::from_static("x-minio-force-delete"),
                "true",
            );
        }
        let response = self.send(&operation, request).await?;
        match response.status {
            status if status.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(response.into_error(&operation)),
        }
    }

    /// The bucket exists: created when missing.
    pub async fn ensure_bucket(&self, bucket: &str) -> Result<Outcome, SetupError> {
        if self.bucket_exists(bucket).await? {
            return Ok(Outcome::Unchanged);
        }
        self.create_bucket(bucket).await?;
        Ok(Outcome::Created)
    }

    /// HeadObject: true when the object exists.
    pub async fn object_exists(&self, bucket: &str, key: &str) -> Result<bool, SetupError> {
        let operation = format!("head object {bucket}/{key}");
        let response = self
            .send(
                &operation,
                S3Request::new(Method::HEAD, format!("/{bucket}/{key}")),
            )
            .await?;
        match response.status {
            status if status.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(response.into_error(&operation)),
        }
    }

    /// GetObject: its content, or `None` when there is no such object.
    pub async fn get_object(&self, bucket: &str, key: &str) -> Result<Option<Bytes>, SetupError> {
        let operation = format!("get object {bucket}/{key}");
        let response = self
            .send(
                &operation,
                S3Request::new(Method::GET, format!("/{bucket}/{key}")),
            )
            .await?;
        match response.status {
            status if status.is_success() => Ok(Some(response.body)),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(response.into_error(&operation)),
        }
    }

    /// PutObject.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: impl Into<Bytes>,
        content_type: &str,
    ) -> Result<(), SetupError> {
        let operation = format!("put object {bucket}/{key}");
        let request = S3Request::new(Method::PUT, format!("/{bucket}/{key}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(body);
        let response = self.send(&operation, request).await?;
        if response.is_success() {
            Ok(())
        } else {
            Err(response.into_error(&operation))
        }
    }

    /// The object exists: uploaded when missing, never overwritten (it may have been edited).
    pub async fn ensure_object(
        &self,
        bucket: &str,
        key: &str,
        body: impl Into<Bytes>,
        content_type: &str,
    ) -> Result<Outcome, SetupError> {
        if self.object_exists(bucket, key).await? {
            return Ok(Outcome::Unchanged);
        }
        self.put_object(bucket, key, body, content_type).await?;
        Ok(Outcome::Created)
    }

    /// DeleteObject (deleting a missing object succeeds, as in S3).
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), SetupError> {
        let operation = format!("delete object {bucket}/{key}");
        let response = self
            .send(
                &operation,
                S3Request::new(Method::DELETE, format!("/{bucket}/{key}")),
            )
            .await?;
        if response.is_success() || response.status == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(response.into_error(&operation))
        }
    }

    /// GetBucketPolicy: the policy document, or `None` when the bucket has none.
    pub async fn bucket_policy(&self, bucket: &str) -> Result<Option<Value>, SetupError> {
        let operation = format!("get bucket policy {bucket}");
        let request = S3Request::new(Method::GET, format!("/{bucket}")).query("policy", "");
        let response = self.send(&operation, request).await?;
        if response.status == StatusCode::NOT_FOUND
            && response.error_code().as_deref() == Some("NoSuchBucketPolicy")
        {
            return Ok(None);
        }
        if !response.is_success() {
            return Err(response.into_error(&operation));
        }
        serde_json::from_slice(&response.body)
            .map(Some)
            .map_err(|source| SetupError::Json {
                step: operation,
                source,
            })
    }

    /// PutBucketPolicy.
    pub async fn put_bucket_policy(&self, bucket: &str, policy: &Value) -> Result<(), SetupError> {
        let operation = format!("put bucket policy {bucket}");
        let request = S3Request::new(Method::PUT, format!("/{bucket}"))
            .query("policy", "")
            .header(header::CONTENT_TYPE, "application/json")
            .body(policy.to_string());
        let response = self.send(&operation, request).await?;
        if response.is_success() {
            Ok(())
        } else {
            Err(response.into_error(&operation))
        }
    }

    /// The bucket's policy is `policy` (compared with [`policy::normalized`]): written when
    /// missing or different.
    pub async fn ensure_bucket_policy(
        &self,
        bucket: &str,
        policy: &Value,
    ) -> Result<Outcome, SetupError> {
        let outcome = match self.bucket_policy(bucket).await? {
            None => Outcome::Created,
            Some(current) if policy::normalized(&current) == policy::normalized(policy) => {
                return Ok(Outcome::Unchanged);
            }
            Some(_) => Outcome::Updated,
        };
        self.put_bucket_policy(bucket, policy).await?;
        Ok(outcome)
    }
}

/// IAM-style policy documents.
pub mod policy {
    use super::*;

    /// Anonymous read of a bucket, as `mc anonymous set download` writes it: anyone may get
    /// its objects, list it and read its location (listing lets a missing key answer 404,
    /// which a static site's fallback relies on, rather than 403).
    pub fn anonymous_read(bucket: &str) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ["*"]},
                    "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
                    "Resource": [format!("arn:aws:s3:::{bucket}")],
                },
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ["*"]},
                    "Action": ["s3:GetObject"],
                    "Resource": [format!("arn:aws:s3:::{bucket}/*")],
                },
            ],
        })
    }

    /// Every S3 action on the given buckets and their objects.
    pub fn read_write(buckets: &[&str]) -> Value {
        let resources: Vec<String> = buckets
            .iter()
            .flat_map(|b| [format!("arn:aws:s3:::{b}"), format!("arn:aws:s3:::{b}/*")])
            .collect();
        json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": resources}],
        })
    }

    /// A policy in a comparable form: servers store what they were given in their own way
    /// (a single value for a one-element list, `"*"` for `{"AWS": ["*"]}`, empty fields, their
    /// own order), so lists become sorted lists, strings one-element lists, empty values go,
    /// and statements are sorted.
    pub fn normalized(policy: &Value) -> Value {
        match policy {
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                for (key, value) in map {
                    let value = match (key.as_str(), value) {
                        ("Principal", Value::String(s)) if s == "*" => json!({"AWS": ["*"]}),
                        (_, Value::String(s)) if is_list_field(key) => json!([s]),
                        _ => normalized(value),
                    };
                    let empty = match &value {
                        Value::Null => true,
                        Value::String(s) => s.is_empty(),
                        Value::Array(a) => a.is_empty(),
                        Value::Object(o) => o.is_empty(),
                        _ => false,
                    };
                    if !empty && key != "Sid" && key != "ID" && key != "Id" {
                        out.insert(key.clone(), normalized_list(key, value));
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
            other => other.clone(),
        }
    }

    fn is_list_field(key: &str) -> bool {
        matches!(
            key,
            "Action" | "NotAction" | "Resource" | "NotResource" | "AWS"
        )
    }

    fn normalized_list(key: &str, value: Value) -> Value {
        match value {
            Value::Array(items) if is_list_field(key) || key == "Statement" => {
                let mut items: Vec<Value> = items.into_iter().map(|v| normalized(&v)).collect();
                items.sort_by_key(|v| v.to_string());
                items.dedup();
                Value::Array(items)
            }
            other => other,
        }
    }
}

/// What [`sign`] needs.
pub(crate) struct SigningInput<'a> {
    pub method: &'a str,
    /// Already encoded.
    pub canonical_uri: &'a str,
    /// Already encoded and sorted.
    pub canonical_query: &'a str,
    pub host: &'a str,
    pub payload: &'a [u8],
    pub region: &'a str,
    pub service: &'a str,
    pub credentials: &'a S3Credentials,
    pub time: chrono::DateTime<chrono::Utc>,
}

/// The headers of a signed request.
pub(crate) struct Signed {
    pub amz_date: String,
    pub payload_hash: String,
    pub authorization: String,
}

/// AWS Signature Version 4 over `host`, `x-amz-content-sha256` and `x-amz-date`.
pub(crate) fn sign(input: &SigningInput<'_>) -> Signed {
    let amz_date = input.time.format("%Y%m%dT%H%M%SZ").to_string();
    let date = input.time.format("%Y%m%d").to_string();
    let payload_hash = hex(&Sha256::digest(input.payload));
    let signed_headers = "host;x-amz-content-sha256;x-amz-date";
    let canonical_request = format!(
        "{}\n{}\n{}\nhost:{}\nx-amz-content-sha256:{payload_hash}\nx-amz-date:{amz_date}\n\n{signed_headers}\n{payload_hash}",
        input.method, input.canonical_uri, input.canonical_query, input.host
    );
    let scope = format!("{date}/{}/{}/aws4_request", input.region, input.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let secret = format!("AWS4{}", input.credentials.secret_key.expose());
    let mut key = hmac_sha256(secret.as_bytes(), date.as_bytes());
    for part in [input.region, input.service, "aws4_request"] {
        key = hmac_sha256(&key, part.as_bytes());
    }
    let signature = hex(&hmac_sha256(&key, string_to_sign.as_bytes()));
    Signed {
        authorization: format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            input.credentials.access_key
        ),
        amz_date,
        payload_hash,
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    // HMAC takes keys of any length: new_from_slice cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Path segments encoded, slashes kept (S3 encodes the path once).
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

/// SigV4 URI encoding: everything but the unreserved characters is %XX (uppercase).
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

/// The text of every `<tag>…</tag>` element (S3's flat list answers).
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut values = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        rest = &rest[start + open.len()..];
        let Some(end) = rest.find(&close) else { break };
        values.push(rest[..end].to_owned());
        rest = &rest[end + close.len()..];
    }
    values
}

/// `Code`/`Message` of an XML (S3) or JSON (MinIO admin) error body.
fn error_field(body: &[u8], field: &str) -> Option<String> {
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
        return map.get(field).and_then(Value::as_str).map(str::to_owned);
    }
    xml_values(&String::from_utf8_lossy(body), field)
        .into_iter()
        .next()
}

fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .trim()
        .chars()
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of AWS's SigV4 documentation for S3 that sign exactly this client's
    /// headers ("Signature Calculations for the Authorization Header: Transferring Payload in
    /// a Single Chunk": GET Bucket Lifecycle and GET Bucket (List Objects)), with their
    /// documented signatures.
    #[test]
    fn signatures_match_the_documented_examples() {
        let credentials = S3Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        );
        let time = chrono::DateTime::parse_from_rfc3339("2013-05-24T00:00:00Z")
            .expect("time")
            .with_timezone(&chrono::Utc);
        for (query, signature) in [
            (
                "lifecycle=",
                "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
            ),
            (
                "max-keys=2&prefix=J",
                "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            ),
        ] {
            let signed = sign(&SigningInput {
                method: "GET",
                canonical_uri: "/",
                canonical_query: query,
                host: "examplebucket.s3.amazonaws.com",
                payload: b"",
                region: "us-east-1",
                service: "s3",
                credentials: &credentials,
                time,
            });
            assert_eq!(signed.amz_date, "20130524T000000Z");
            assert_eq!(
                signed.payload_hash,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            );
            assert_eq!(
                signed.authorization,
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}"
                )
            );
        }
    }

    #[test]
    fn paths_and_queries_are_encoded_once() {
        assert_eq!(
            encode_path("/bucket/dir/a b+c.txt"),
            "/bucket/dir/a%20b%2Bc.txt"
        );
        assert_eq!(encode_path("/"), "/");
        assert_eq!(uri_encode("seaweedfs-quota"), "seaweedfs-quota");
        assert_eq!(uri_encode("a=b&c"), "a%3Db%26c");
    }

    #[test]
    fn endpoints_must_be_plain_http_without_credentials_or_path() {
        let t = Duration::from_secs(1);
        let client = S3Client::anonymous("http://nuvolaris-minio:9000/", t).expect("valid");
        assert_eq!(client.endpoint(), "http://nuvolaris-minio:9000");
        for bad in [
            "https://s3.example.org",
            "http://user:pw@minio:9000",
            "http://minio:9000/bucket",
            "minio:9000",
        ] {
            let err = S3Client::anonymous(bad, t).expect_err(bad).to_string();
            assert!(!err.contains("pw@"), "{err}");
        }
    }

    #[test]
    fn error_bodies_give_code_and_message_only() {
        let xml = b"<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message><StringToSign>x</StringToSign></Error>";
        let response = S3Response {
            status: StatusCode::FORBIDDEN,
            content_type: None,
            body: Bytes::from_static(xml),
        };
        let err = response.into_error("put object b/k").to_string();
        assert!(
            err.contains("SignatureDoesNotMatch") && err.contains("403"),
            "{err}"
        );
        assert!(!err.contains("StringToSign"), "{err}");
        let json =
            br#"{"Code":"XMinioAdminNoSuchUser","Message":"The specified user does not exist."}"#;
        let response = S3Response {
            status: StatusCode::NOT_FOUND,
            content_type: None,
            body: Bytes::from_static(json),
        };
        assert_eq!(
            response.error_code().as_deref(),
            Some("XMinioAdminNoSuchUser")
        );
    }

    #[test]
    fn policies_compare_in_normal_form() {
        let ours = policy::anonymous_read("web");
        // as a server may give it back: single values, its own order, a Sid
        let stored = json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": "arn:aws:s3:::web/*"},
                {"Effect": "Allow", "Principal": {"AWS": "*"},
                 "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                 "Resource": ["arn:aws:s3:::web"]},
            ],
        });
        assert_eq!(policy::normalized(&stored), policy::normalized(&ours));
        assert_ne!(
            policy::normalized(&policy::anonymous_read("other")),
            policy::normalized(&ours)
        );
        let rw = policy::read_write(&["data", "web"]);
        assert_eq!(
            rw["Statement"][0]["Resource"].as_array().map(Vec::len),
            Some(4)
        );
    }
}
