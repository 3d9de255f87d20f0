//! Image references.

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

/// `image` with `tag` appended unless the reference already carries one.
pub fn with_tag(image: &str, tag: Option<&str>, default_tag: &str) -> String {
    match split_image(image) {
        (_, Some(_)) => image.to_owned(),
        (name, None) => format!(
            "{name}:{}",
            tag.filter(|t| !t.is_empty()).unwrap_or(default_tag)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_tag_is_added_only_when_missing() {
        assert_eq!(with_tag("a/b", Some("7"), "1"), "a/b:7");
        assert_eq!(with_tag("a/b", None, "1"), "a/b:1");
        assert_eq!(with_tag("a/b:2", Some("7"), "1"), "a/b:2");
    }
}
