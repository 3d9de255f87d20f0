//! Memory sizes as the JVM and Kubernetes write them, to check that a Java component's heap
//! (`-Xmx` in its `javaOpts`) fits the memory limit of its container: a heap larger than the
//! limit gets the pod OOM-killed under load, long after the CR was accepted.

use super::ConfigError;

/// The maximum heap the JVM takes from `java_opts`: the last `-Xmx<size>` or
/// `-XX:MaxHeapSize=<size>` (the JVM honours the last one), in bytes. Sizes are the JVM's:
/// a number with an optional binary suffix k, m, g or t (either case).
pub fn java_heap_bytes(java_opts: &str) -> Option<u64> {
    java_opts
        .split_whitespace()
        .filter_map(|option| {
            option
                .strip_prefix("-Xmx")
                .or_else(|| option.strip_prefix("-XX:MaxHeapSize="))
        })
        .next_back()
        .and_then(jvm_size)
}

fn jvm_size(text: &str) -> Option<u64> {
    let (digits, unit) = match text.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_lowercase()),
        _ => (text, ' '),
    };
    let n: u64 = digits.parse().ok()?;
    let factor: u64 = match unit {
        ' ' => 1,
        'k' => 1 << 10,
        'm' => 1 << 20,
        'g' => 1 << 30,
        't' => 1 << 40,
        _ => return None,
    };
    n.checked_mul(factor)
}

/// A Kubernetes quantity (`2G`, `1536Mi`, `2048m`, `1.5Gi`, `1e9`) in bytes, rounded down;
/// `None` when it is not one (the API server then refuses the workload with its own message).
/// `m` is milli, as in Kubernetes: `2048m` is about 2 bytes, not 2 GiB.
pub fn quantity_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor: f64 = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exponent => {
            let e: i32 = exponent
                .strip_prefix(['e', 'E'])
                .and_then(|e| e.parse().ok())?;
            10f64.powi(e)
        }
    };
    let bytes = number * factor;
    (bytes.is_finite() && bytes >= 0.0).then_some(bytes.floor() as u64)
}

/// Refuses a heap that does not fit the container's memory limit. `java_opts` and `limit` are
/// the values in effect, each with the field it comes from when the user wrote it (`None`: the
/// original's default). Only a conflict the user wrote is refused, naming the user's field:
/// the original's own defaults (standalone: `-Xmx2048M` with a `2G` limit) are not the user's
/// to fix.
pub fn check_heap_fits(
    java_opts: (&str, Option<&str>),
    limit: (&str, Option<&str>),
) -> Result<(), ConfigError> {
    let (opts, opts_field) = java_opts;
    let (limit_text, limit_field) = limit;
    let Some(field) = opts_field.or(limit_field) else {
        return Ok(());
    };
    let (Some(heap), Some(limit)) = (java_heap_bytes(opts), quantity_bytes(limit_text)) else {
        return Ok(());
    };
    if heap <= limit {
        return Ok(());
    }
    Err(ConfigError::invalid(
        field,
        format!(
            "{field}: the JVM heap of {opts:?} ({} MiB) is larger than the container memory limit {limit_text} ({} MiB): the pod would be killed for lack of memory",
            heap >> 20,
            limit >> 20
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_heap_option_counts_with_binary_units() {
        assert_eq!(java_heap_bytes("-Xmx2048M"), Some(2048 << 20));
        assert_eq!(java_heap_bytes("-Xms1g -Xmx2g"), Some(2 << 30));
        assert_eq!(java_heap_bytes("-Xmx1G -Xmx512m"), Some(512 << 20));
        assert_eq!(java_heap_bytes("-XX:MaxHeapSize=1073741824"), Some(1 << 30));
        assert_eq!(java_heap_bytes("-Xmx4t"), Some(4 << 40));
        assert_eq!(java_heap_bytes("-Dfoo=bar"), None);
        assert_eq!(java_heap_bytes("-Xmx2x"), None);
        assert_eq!(java_heap_bytes("-Xmx"), None);
        assert_eq!(java_heap_bytes("-Xmx99999999999999999999g"), None);
    }

    #[test]
    fn quantities_use_the_kubernetes_suffixes() {
        assert_eq!(quantity_bytes("2G"), Some(2_000_000_000));
        assert_eq!(quantity_bytes("2Gi"), Some(2 << 30));
        assert_eq!(quantity_bytes("1536Mi"), Some(1536 << 20));
        assert_eq!(quantity_bytes("1.5Gi"), Some(3 << 29));
        assert_eq!(quantity_bytes("512M"), Some(512_000_000));
        assert_eq!(quantity_bytes("2048m"), Some(2));
        assert_eq!(quantity_bytes("1e9"), Some(1_000_000_000));
        assert_eq!(quantity_bytes("123"), Some(123));
        assert_eq!(quantity_bytes("lots"), None);
        assert_eq!(quantity_bytes("2GB"), None);
        assert_eq!(quantity_bytes(""), None);
    }

    #[test]
    fn a_heap_larger_than_the_limit_is_refused_naming_the_users_field() {
        let err = check_heap_fits(
            ("-Xmx4g", Some("configs.invoker.javaOpts")),
            ("2G", Some("configs.invoker.resources.mem-lim")),
        )
        .expect_err("4 GiB does not fit 2 GB");
        let ConfigError::Invalid { field, message } = err else {
            panic!("invalid input expected");
        };
        assert_eq!(field, "configs.invoker.javaOpts");
        assert!(
            message.contains("4096 MiB") && message.contains("2G"),
            "{message}"
        );
        // the default heap against a limit the user wrote: the limit is the user's field
        let err = check_heap_fits(
            ("-Xmx1024M", None),
            ("512Mi", Some("configs.invoker.resources.mem-lim")),
        )
        .expect_err("1 GiB does not fit 512 MiB");
        assert!(
            matches!(err, ConfigError::Invalid { ref field, .. } if field == "configs.invoker.resources.mem-lim")
        );
        // fits; the original's defaults; unreadable values are left to the API server
        check_heap_fits(("-Xmx2G", Some("a")), ("3G", Some("b"))).expect("fits");
        check_heap_fits(("-Xmx2048M", None), ("2G", None)).expect("defaults");
        check_heap_fits(("-server", Some("a")), ("2G", Some("b"))).expect("no heap");
        check_heap_fits(("-Xmx8g", Some("a")), ("big", Some("b"))).expect("no quantity");
    }
}
