//! The overlay a component declares, built with the native kustomize engine.
//!
//! A component lists base files of `deploy/<dir>/`, generated Secrets, patches rendered from
//! `templates/` and image overrides — the original's `restricted_kustom_list`, `secretLiteral`,
//! `patchTemplate` and `image` helpers — on the engine's in-memory [`Kustomization`] builder.
//! Nothing is written to disk.

use serde::Serialize;

use super::{Object, RenderError};
use crate::kustomize::Kustomization;
use crate::{assets, render};

/// One component's kustomization.
pub struct Overlay {
    component: &'static str,
    kustomization: Kustomization,
    /// Names of the resource files added so far, so that each gets a unique one.
    count: usize,
}

impl Overlay {
    /// An overlay for `component`, putting every object into `namespace`.
    pub fn new(component: &'static str, namespace: &str) -> Overlay {
        Overlay {
            component,
            kustomization: Kustomization::new().namespace(namespace),
            count: 0,
        }
    }

    /// Adds base manifests `deploy/<dir>/<file>` (the original's `restricted_kustom_list`).
    pub fn base(mut self, dir: &str, files: &[&str]) -> Result<Overlay, RenderError> {
        for file in files {
            let path = format!("deploy/{dir}/{file}");
            let text = assets::file(&path)
                .ok_or_else(|| self.error(format!("missing embedded file {path}")))?;
            self.kustomization = self.kustomization.resource_file(&path, text);
        }
        Ok(self)
    }

    /// Adds a whole object rendered from `templates/<template>`.
    pub fn resource_template<C: Serialize>(
        mut self,
        template: &str,
        context: C,
    ) -> Result<Overlay, RenderError> {
        let text = self.render(template, context)?;
        let name = self.next_name(template);
        self.kustomization = self.kustomization.resource_file(&name, text);
        Ok(self)
    }

    /// Adds an object built in code.
    pub fn object(mut self, object: &Object) -> Overlay {
        let name = self.next_name("object");
        self.kustomization = self.kustomization.resource_object(&name, object);
        self
    }

    /// A generated Secret with a content-hash name suffix; references to `name` in the overlay's
    /// workloads are rewritten to the hashed name, so a changed value rolls the pods that use it.
    pub fn secret<K: AsRef<str>, V: AsRef<str>>(
        mut self,
        name: &str,
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Overlay {
        for (key, value) in entries {
            self.kustomization =
                self.kustomization
                    .secret_literal(name, key.as_ref(), value.as_ref());
        }
        self
    }

    /// A strategic-merge patch rendered from `templates/<template>`.
    pub fn patch<C: Serialize>(
        mut self,
        template: &str,
        context: C,
    ) -> Result<Overlay, RenderError> {
        let text = self.render(template, context)?;
        self.kustomization = self.kustomization.patch_strategic(text);
        Ok(self)
    }

    /// Replaces image `name` (any tag) with `new_image` (a full reference, tag included).
    pub fn image(mut self, name: &str, new_image: &str) -> Overlay {
        let (new_name, new_tag) = split_image(new_image);
        self.kustomization = self.kustomization.image(name, Some(new_name), new_tag);
        self
    }

    /// The kustomization as assembled (for conformance tests against `kubectl kustomize`).
    pub fn kustomization(&self) -> &Kustomization {
        &self.kustomization
    }

    /// Builds the objects.
    pub fn build(self) -> Result<Vec<Object>, RenderError> {
        self.kustomization
            .build()
            .map_err(|e| self.error(e.to_string()))
    }

    fn next_name(&mut self, what: &str) -> String {
        self.count += 1;
        format!(
            "{}/{}-{}.yaml",
            self.component,
            what.replace('/', "-"),
            self.count
        )
    }

    fn render<C: Serialize>(&self, template: &str, context: C) -> Result<String, RenderError> {
        render::render(template, context).map_err(|e| self.error(e.to_string()))
    }

    fn error(&self, message: String) -> RenderError {
        RenderError::Component {
            component: self.component,
            message,
        }
    }
}

/// Splits `registry:5000/repo/name:tag` into name and tag; the tag separator is the last ':'
/// after the last '/', so a registry port is not mistaken for a tag (the original's
/// `parse_image` rejected such references).
pub fn split_image(image: &str) -> (&str, Option<&str>) {
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(i) => (&image[..name_start + i], Some(&image[name_start + i + 1..])),
        None => (image, None),
    }
}

#[cfg(test)]
mod tests {
    use super::split_image;

    #[test]
    fn image_references_split_after_the_registry_port() {
        assert_eq!(
            split_image("apache/couchdb:2.3"),
            ("apache/couchdb", Some("2.3"))
        );
        assert_eq!(
            split_image("localhost:5000/ow/controller:1.0"),
            ("localhost:5000/ow/controller", Some("1.0"))
        );
        assert_eq!(
            split_image("localhost:5000/ow/controller"),
            ("localhost:5000/ow/controller", None)
        );
    }
}
