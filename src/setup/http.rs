//! The setup steps' HTTP client, over hyper-util (already in the dependency tree through kube;
//! reqwest would add a second HTTP stack): [`HttpClient`] sends raw requests with a timeout
//! (the S3 and MinIO admin clients sign their own), [`JsonClient`] adds JSON bodies and basic
//! auth for CouchDB (`http://couchdb:5984`) and the OpenWhisk REST API
//! (`http://controller:3233`). Every service is reached in-cluster over plain HTTP.

use std::time::Duration;

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, header};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use super::{Secret, SetupError};

/// One response: status plus the parsed JSON body (Null when empty or not JSON).
pub(crate) struct Response {
    pub status: StatusCode,
    pub body: Value,
    raw: Bytes,
}

impl Response {
    /// Short, printable form of the body for error messages. CouchDB and
    /// OpenWhisk error bodies carry `error`/`reason`/`code` only, never
    /// request data.
    pub fn snippet(&self) -> String {
        let text = String::from_utf8_lossy(&self.raw);
        let mut s: String = text.chars().take(200).collect();
        if text.chars().count() > 200 {
            s.push('…');
        }
        s.trim().to_string()
    }

    pub fn into_error(self, step: &str) -> SetupError {
        SetupError::Status {
            step: step.to_string(),
            status: self.status.as_u16(),
            body: self.snippet(),
        }
    }
}

/// One raw response: status, headers and the whole body.
pub(crate) struct RawResponse {
    pub status: StatusCode,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

/// Sends requests over plain HTTP, each bounded by one timeout (connect, send and the whole
/// body).
#[derive(Clone)]
pub(crate) struct HttpClient {
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl HttpClient {
    pub fn new(timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        HttpClient {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
        }
    }

    /// Sends `request` and reads the whole answer; `step` names it in errors.
    pub async fn send(
        &self,
        step: &str,
        request: Request<Full<Bytes>>,
    ) -> Result<RawResponse, SetupError> {
        let http_err = |reason: String| SetupError::Http {
            step: step.to_string(),
            reason,
        };
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| http_err(error_chain(&e)))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| http_err(format!("reading body: {e}")))?
                .to_bytes();
            Ok::<_, SetupError>(RawResponse {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        let response = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| http_err(format!("no answer within {:?}", self.timeout)))??;
        tracing::debug!(step, status = response.status.as_u16(), "http response");
        Ok(response)
    }
}

pub(crate) struct JsonClient {
    http: HttpClient,
    base: String,
    authorization: String,
}

impl JsonClient {
    pub fn new(base_url: &str, user: &str, password: &Secret, timeout: Duration) -> Self {
        JsonClient {
            http: HttpClient::new(timeout),
            base: base_url.trim_end_matches('/').to_string(),
            authorization: basic_auth(user, password),
        }
    }

    /// A client that sends `Authorization: Bearer <token>` (Milvus's `user:password` tokens).
    pub fn with_bearer(base_url: &str, token: &Secret, timeout: Duration) -> Self {
        let mut client = JsonClient::new(base_url, "", &Secret::default(), timeout);
        client.authorization = format!("Bearer {}", token.expose());
        client
    }

    /// Sends one request with another bearer token (checks that a user's password works).
    pub async fn send_with_bearer(
        &self,
        step: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: &Secret,
    ) -> Result<Response, SetupError> {
        self.send_as(
            step,
            method,
            path,
            body,
            &format!("Bearer {}", token.expose()),
        )
        .await
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends one request with the client's credentials. `path` starts with
    /// `/`, is already percent-encoded (see [`encode_segment`]) and may end in
    /// a query string.
    pub async fn send(
        &self,
        step: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, SetupError> {
        self.send_as(step, method, path, body, &self.authorization)
            .await
    }

    /// Sends one request with explicit credentials (used to verify a user's
    /// password through `/_session`).
    pub async fn send_with_credentials(
        &self,
        step: &str,
        method: Method,
        path: &str,
        user: &str,
        password: &Secret,
    ) -> Result<Response, SetupError> {
        self.send_as(step, method, path, None, &basic_auth(user, password))
            .await
    }

    /// Sends one request with the given `Authorization` header value (see [`basic_auth`]).
    pub async fn send_as(
        &self,
        step: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
        authorization: &str,
    ) -> Result<Response, SetupError> {
        let http_err = |reason: String| SetupError::Http {
            step: step.to_string(),
            reason,
        };
        let payload = match body {
            Some(v) => Bytes::from(serde_json::to_vec(v).map_err(|e| SetupError::Json {
                step: step.to_string(),
                source: e,
            })?),
            None => Bytes::new(),
        };
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{}", self.base, path))
            .header(header::AUTHORIZATION, authorization)
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(payload))
            .map_err(|e| http_err(format!("cannot build request: {e}")))?;
        let RawResponse {
            status, body: raw, ..
        } = self.http.send(step, request).await?;
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Ok(Response { status, body, raw })
    }
}

/// `Basic <base64(user:password)>`.
pub(crate) fn basic_auth(user: &str, password: &Secret) -> String {
    let token =
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose()));
    format!("Basic {token}")
}

/// The error and its causes on one line (hyper's top-level message alone is
/// just "client error (Connect)").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Percent-encodes one path segment (database name, document id). Design
/// document ids keep their `_design/` prefix unencoded, as CouchDB expects.
pub(crate) fn encode_segment(segment: &str) -> String {
    if let Some(rest) = segment.strip_prefix("_design/") {
        return format!("_design/{}", encode_segment(rest));
    }
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:@!$&'()*+,;=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_path_segments() {
        assert_eq!(encode_segment("whisk-system"), "whisk-system");
        assert_eq!(
            encode_segment("org.couchdb.user:controller_admin"),
            "org.couchdb.user:controller_admin"
        );
        assert_eq!(
            encode_segment("_design/subjects.v2.0.0"),
            "_design/subjects.v2.0.0"
        );
        assert_eq!(encode_segment("a/b c?"), "a%2Fb%20c%3F");
    }

    #[test]
    fn basic_auth_header() {
        assert_eq!(
            basic_auth("Aladdin", &Secret::new("open sesame")),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
