//! Template rendering: a minijinja environment over the embedded `templates/` tree.
//!
//! Templates are Jinja2 as the original's were; values are inserted with `|tojson` so that a
//! password such as `on` or `0123` stays a string (the original pasted raw text into YAML and
//! YAML 1.1 turned those into `true` and `83`). Rendering is pure: no client, no disk.

use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::assets;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {template}: {source}")]
    Render {
        template: String,
        #[source]
        source: minijinja::Error,
    },
}

/// The shared environment: built once, immutable afterwards.
fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // A missing variable is a bug in the caller, not an empty string in a manifest.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        env.add_filter("conf_quote", conf_quote);
        env.set_loader(|name| Ok(assets::file(&format!("templates/{name}")).map(str::to_owned)));
        env
    })
}

/// Double-quotes a value for a configuration file parsed like C strings (redis.conf):
/// backslash, quote and control characters are escaped, so any password stays one token.
/// (`tojson` is not usable there: it writes `<` as `\u003c`, which redis.conf does not know.)
fn conf_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Any serializable value as a template value (for `context!`).
pub fn value<T: Serialize>(value: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}

/// Renders `templates/<name>` with `context`.
pub fn render<S: Serialize>(name: &str, context: S) -> Result<String, TemplateError> {
    let env = environment();
    let to_error = |source| TemplateError::Render {
        template: name.to_owned(),
        source,
    };
    let template = env.get_template(name).map_err(to_error)?;
    template
        .render(minijinja::Value::from(minijinja::value::Serde(context)))
        .map_err(to_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn values_are_emitted_as_json_strings() {
        let out = environment()
            .render_str(
                "a: {{ a|tojson }}\nb: {{ b|tojson }}\n",
                context! { a => "on", b => "0123" },
            )
            .expect("renders");
        let doc: serde_json::Value = serde_yaml_ng::from_str(&out).expect("valid yaml");
        assert_eq!(doc["a"], "on");
        assert_eq!(doc["b"], "0123");
    }

    #[test]
    fn a_missing_variable_is_an_error() {
        let err = render("openwhisk/controller-settings.yaml", context! { c => "x" })
            .expect_err("strict undefined");
        assert!(
            err.to_string()
                .contains("openwhisk/controller-settings.yaml"),
            "{err}"
        );
    }

    #[test]
    fn conf_quote_escapes_quotes_backslashes_and_controls() {
        assert_eq!(conf_quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(conf_quote("x\ny <&>"), "\"x\\x0ay <&>\"");
    }

    #[test]
    fn booleans_render_like_jinja2() {
        // The original templates expect Python's spelling of booleans and None.
        let env = Environment::new();
        let out = env
            .render_str(
                "{{ a }} {{ b }} {{ c }}",
                context! { a => true, b => false, c => () },
            )
            .expect("renders");
        assert_eq!(out, "True False None");
    }
}
