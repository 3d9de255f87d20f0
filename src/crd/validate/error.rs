//! Field errors, printed the way the API server prints them (`k8s.io/apimachinery`'s
//! `field.Error`): `spec.couchdb.port: Invalid value: 70000: spec.couchdb.port in body should
//! be less than or equal to 65535`.

use serde_json::Value;

/// What is wrong with a field (the API server's `field.ErrorType`, plus the strict decoder's
/// unknown field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// A field the schema does not declare (kubectl's default `--validate=strict`).
    UnknownField,
    Required,
    Invalid,
    /// Invalid because of its type (CEL rules are then skipped, as on the API server).
    TypeInvalid,
    NotSupported,
    Forbidden,
    Duplicate,
    TooLong,
    TooMany,
}

impl ErrorType {
    fn label(self) -> &'static str {
        match self {
            ErrorType::UnknownField => "unknown field",
            ErrorType::Required => "Required value",
            ErrorType::Invalid | ErrorType::TypeInvalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
        }
    }

    /// Errors after which the API server does not evaluate the CEL rules (`hasBlockingErr`).
    pub(crate) fn blocks_cel(self) -> bool {
        matches!(
            self,
            ErrorType::NotSupported
                | ErrorType::Required
                | ErrorType::TooLong
                | ErrorType::TooMany
                | ErrorType::TypeInvalid
        )
    }
}

/// One rejected field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// The field path as the API server names it (`spec.couchdb.port`, `spec.workflows[0]`);
    /// empty when the API server reports no path (printed `<nil>`, as it does).
    pub field: String,
    pub error_type: ErrorType,
    /// The offending value, `None` when the API server omits it.
    pub value: Option<Value>,
    pub detail: String,
}

impl FieldError {
    pub(crate) fn new(
        field: impl Into<String>,
        error_type: ErrorType,
        value: Option<Value>,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            error_type,
            value,
            detail: detail.into(),
        }
    }

    pub(crate) fn unknown(field: impl Into<String>) -> Self {
        FieldError::new(field, ErrorType::UnknownField, None, "")
    }

    pub(crate) fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError::new(field, ErrorType::Required, None, detail)
    }

    pub(crate) fn invalid(
        field: impl Into<String>,
        value: Value,
        detail: impl Into<String>,
    ) -> Self {
        FieldError::new(field, ErrorType::Invalid, Some(value), detail)
    }
}

/// Go's `%v` of a JSON value (strings quoted with `%q`), as `field.Error` prints bad values.
pub(crate) fn go_value(value: &Value) -> String {
    match value {
        // serde_json's string escaping matches Go's %q for the printable ASCII that field
        // values are made of
        Value::String(_) | Value::Bool(_) | Value::Number(_) | Value::Null => value.to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let field = if self.field.is_empty() {
            "<nil>"
        } else {
            &self.field
        };
        if self.error_type == ErrorType::UnknownField {
            // the strict decoder's wording
            return write!(f, "unknown field \"{field}\"");
        }
        write!(f, "{field}: {}", self.error_type.label())?;
        let shows_value = !matches!(
            self.error_type,
            ErrorType::Required | ErrorType::Forbidden | ErrorType::TooLong
        );
        if shows_value && let Some(value) = &self.value {
            write!(f, ": {}", go_value(value))?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// Everything the API server would reject a custom resource for, in its order.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection(pub Vec<FieldError>);

impl Rejection {
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Rejection {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn printed_like_the_api_server() {
        let e = FieldError::invalid(
            "spec.couchdb.port",
            json!(70000),
            "spec.couchdb.port in body should be less than or equal to 65535",
        );
        assert_eq!(
            e.to_string(),
            "spec.couchdb.port: Invalid value: 70000: spec.couchdb.port in body should be less than or equal to 65535"
        );
        let e = FieldError::new(
            "spec.nuvolaris.kube",
            ErrorType::NotSupported,
            Some(json!("minikube")),
            "supported values: \"kind\", \"generic\"",
        );
        assert_eq!(
            e.to_string(),
            "spec.nuvolaris.kube: Unsupported value: \"minikube\": supported values: \"kind\", \"generic\""
        );
        assert_eq!(
            FieldError::required("spec.auth", "").to_string(),
            "spec.auth: Required value"
        );
        assert_eq!(
            FieldError::unknown("spec.couchdb.volumesize").to_string(),
            "unknown field \"spec.couchdb.volumesize\""
        );
        assert_eq!(
            FieldError::invalid("", Value::Null, "some rules were not checked").to_string(),
            "<nil>: Invalid value: null: some rules were not checked"
        );
        let object = FieldError::new(
            "spec.components",
            ErrorType::Invalid,
            None,
            "minio and seaweedfs cannot both be enabled",
        );
        assert_eq!(
            object.to_string(),
            "spec.components: Invalid value: minio and seaweedfs cannot both be enabled"
        );
    }
}
