//! One-line reasons for refused libraries.
//!
//! abi_stable explains an incompatible library with every type layout involved, easily a thousand
//! lines; dlopen prefixes its message with the path. A worker log wants one line per refused file,
//! so everything here turns such text into a short reason that still says what differed.

use abi_stable::library::LibraryError;
use std::path::Path;

/// At most this many layout differences are named; the rest are counted.
const MAX_LAYOUT_ERRORS: usize = 3;
/// Longest reason kept from free text.
const MAX_REASON_CHARS: usize = 300;

/// Turns a (possibly very long) abi_stable error text into one line.
///
/// Recognises abi_stable's version mismatch, layout (`AbiInstability`) errors, abi_stable and C
/// ABI header mismatches, missing symbols, failed opens and root module errors; anything else
/// becomes its first non-empty line, shortened.
pub fn summarize_abi_error(text: &str) -> String {
    if let Some(summary) = version_mismatch(text) {
        return summary;
    }
    if text.lines().any(|l| l.trim_start().starts_with("Error:")) {
        return layout_mismatch(text);
    }
    if text.contains("The abi of the library was") {
        return "incompatible abi_stable: the plugin was built with an abi_stable release whose ABI differs from the worker's".to_string();
    }
    if text.contains("The C abi of the library is different") {
        return "incompatible C ABI: the plugin was built by a compiler that lays out C types differently".to_string();
    }
    if text.contains("Could load symbol") || text.contains("Could not load symbol") {
        return NO_ROOT_MODULE.to_string();
    }
    if text.contains("Could not open library") {
        let library = line_after(text, "Could not open library at:").unwrap_or_default();
        let cause = line_after(text, "because:").unwrap_or_default();
        return format!(
            "cannot load shared library: {}",
            strip_dlopen_path(cause, Path::new(library))
        );
    }
    if text.contains("An error ocurred while loading this library") {
        let cause = line_after(text, "the error:").unwrap_or("unknown error");
        return shorten(&format!(
            "the plugin's root module failed to initialize: {cause}"
        ));
    }
    shorten(first_line(text).unwrap_or("unknown error"))
}

/// The reason for a library that does not export abi_stable's root module.
pub const NO_ROOT_MODULE: &str = "not a kconnect plugin (no root module symbol)";

/// One line for an error abi_stable returned while opening or checking a library.
pub fn summarize_library_error(error: &LibraryError) -> String {
    match error {
        LibraryError::IncompatibleVersionNumber {
            expected_version,
            actual_version,
            ..
        } => format!(
            "incompatible plugin-api: plugin built for {actual_version}, worker has {expected_version}"
        ),
        LibraryError::OpenError { path, err } => {
            format!(
                "cannot load shared library: {}",
                strip_dlopen_path(&err.to_string(), path)
            )
        }
        LibraryError::GetSymbolError { .. } => NO_ROOT_MODULE.to_string(),
        LibraryError::Many(errors) => {
            let mut reasons: Vec<String> = errors.iter().map(summarize_library_error).collect();
            reasons.dedup();
            reasons.join("; ")
        }
        other => summarize_abi_error(&other.to_string()),
    }
}

/// The text of a dlopen failure without the path of the library being opened, which dlerror
/// puts in front of it (the log line names the file already). Other paths in the message, such as
/// a missing dependency's, are kept.
pub fn strip_dlopen_path(message: &str, library: &Path) -> String {
    let message = first_line(message).unwrap_or(message).trim();
    let prefix = format!("{}: ", library.display());
    shorten(message.strip_prefix(&prefix).unwrap_or(message))
}

fn version_mismatch(text: &str) -> Option<String> {
    if !text.contains("library version mismatch") {
        return None;
    }
    let worker = value_after(text, "user:")?;
    let plugin = value_after(text, "library:")?;
    Some(format!(
        "incompatible plugin-api: plugin built for {plugin}, worker has {worker}"
    ))
}

fn value_after<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix(prefix))
        .map(str::trim)
}

fn line_after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let mut lines = text.lines().skip_while(|l| !l.contains(marker));
    lines.next()?;
    lines.map(str::trim).find(|l| !l.is_empty())
}

fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|l| !l.is_empty())
}

fn shorten(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_REASON_CHARS {
        return text.to_string();
    }
    let mut short: String = text.chars().take(MAX_REASON_CHARS).collect();
    short.push('…');
    short
}

/// Names the thing an `Expected:`/`Found:` block describes: a field, or else a type.
fn describe_item(lines: &[&str]) -> String {
    let field = lines.iter().find_map(|l| l.strip_prefix("field_name:"));
    let type_name = lines.iter().find_map(|l| l.strip_prefix("type:"));
    match (field, type_name) {
        (Some(field), Some(type_name)) => format!("field `{field}`: {type_name}"),
        (Some(field), None) => format!("field `{field}`"),
        (None, _) => lines.first().map_or("nothing", |l| l).to_string(),
    }
}

/// The lines of the block introduced by `marker` (e.g. `Expected:`), up to the next marker.
fn block<'a>(lines: &[&'a str], start: usize, marker: &str) -> Vec<&'a str> {
    let mut rest = lines[start..].iter().skip_while(|l| **l != marker);
    if rest.next().is_none() {
        return Vec::new();
    }
    rest.take_while(|l| {
        !(l.starts_with("Error:")
            || **l == "Expected:"
            || **l == "Found:"
            || l.ends_with("error(s)inside:")
            || l.ends_with("error(s).")
            || l.starts_with("Layout of"))
    })
    .filter(|l| !l.is_empty())
    .copied()
    .collect()
}

fn layout_mismatch(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut differences = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(kind) = line.strip_prefix("Error:") else {
            continue;
        };
        let expected = block(&lines, index, "Expected:");
        let found = block(&lines, index, "Found:");
        let mut difference = kind.trim().to_string();
        if !expected.is_empty() || !found.is_empty() {
            difference.push_str(&format!(
                " (expected {}, found {})",
                describe_item(&expected),
                describe_item(&found)
            ));
        }
        differences.push(difference);
    }
    differences.dedup();
    let named = differences.len().min(MAX_LAYOUT_ERRORS);
    let mut summary = format!(
        "incompatible ABI layout: {}",
        differences[..named].join("; ")
    );
    if differences.len() > named {
        summary.push_str(&format!("; and {} more", differences.len() - named));
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi_stable::std_types::RBoxError;
    use abi_stable::StableAbi;

    // Two root modules with one name and different shapes, as a plugin built against another
    // plugin-api would have. Only their layouts are used.
    #[allow(dead_code)]
    mod worker {
        #[repr(C)]
        #[derive(abi_stable::StableAbi)]
        #[sabi(kind(Prefix(prefix_ref = ModuleRef)))]
        #[sabi(missing_field(panic))]
        pub struct Module {
            pub new_thing: extern "C" fn(u32) -> u8,
            #[sabi(last_prefix_field)]
            pub stop: extern "C" fn() -> u8,
        }
    }
    #[allow(dead_code)]
    mod plugin {
        #[repr(C)]
        #[derive(abi_stable::StableAbi)]
        #[sabi(kind(Prefix(prefix_ref = ModuleRef)))]
        #[sabi(missing_field(panic))]
        pub struct Module {
            pub new_thing: extern "C" fn(u64) -> u8,
            #[sabi(last_prefix_field)]
            pub halt: extern "C" fn() -> u16,
        }
    }

    fn real_layout_error() -> LibraryError {
        let errors = abi_stable::abi_stability::abi_checking::check_layout_compatibility(
            <worker::ModuleRef as StableAbi>::LAYOUT,
            <plugin::ModuleRef as StableAbi>::LAYOUT,
        )
        .expect_err("the layouts differ");
        LibraryError::AbiInstability(RBoxError::new(errors).to_formatted_error())
    }

    #[test]
    fn a_long_layout_error_becomes_one_line_naming_the_differences() {
        let error = real_layout_error();
        let text = error.to_string();
        assert!(text.lines().count() > 100, "abi_stable's text is long");
        let summary = summarize_library_error(&error);
        assert!(!summary.contains('\n'), "{summary}");
        assert!(
            summary.starts_with("incompatible ABI layout: "),
            "{summary}"
        );
        assert!(summary.contains("unexpected field"), "{summary}");
        assert!(
            summary.contains("`stop`") && summary.contains("`halt`"),
            "{summary}"
        );
        assert!(summary.contains("mismatched type"), "{summary}");
        assert!(
            summary.contains("u32") && summary.contains("u64"),
            "{summary}"
        );
    }

    #[test]
    fn many_differences_are_counted_not_listed() {
        let one = "Error:mismatched type\nExpected:\n    u8\nFound:\n    u16\n";
        let text: String = (0..6)
            .map(|i| one.replace("u8", &format!("u{i}")))
            .collect();
        let summary = summarize_abi_error(&text);
        assert!(summary.ends_with("; and 3 more"), "{summary}");
    }

    #[test]
    fn version_mismatch_names_both_versions() {
        let error = LibraryError::IncompatibleVersionNumber {
            library_name: "kconnect_plugin",
            expected_version: abi_stable::sabi_types::VersionNumber {
                major: 0,
                minor: 1,
                patch: 0,
            },
            actual_version: abi_stable::sabi_types::VersionNumber {
                major: 0,
                minor: 0,
                patch: 1,
            },
        };
        let expected = "incompatible plugin-api: plugin built for 0.0.1, worker has 0.1.0";
        assert_eq!(summarize_library_error(&error), expected);
        assert_eq!(summarize_abi_error(&error.to_string()), expected);
    }

    #[test]
    fn dlopen_messages_lose_the_library_path_only() {
        let library = Path::new("/tmp/x y/plugins/empty.so");
        assert_eq!(
            strip_dlopen_path("/tmp/x y/plugins/empty.so: file too short", library),
            "file too short"
        );
        let missing_dependency =
            "libfoo.so: cannot open shared object file: No such file or directory";
        assert_eq!(
            strip_dlopen_path(missing_dependency, library),
            missing_dependency
        );
        let open_error = "\nCould not open library at:\n\t/tmp/x y/plugins/empty.so\nbecause:\n\t/tmp/x y/plugins/empty.so: file too short\n";
        assert_eq!(
            summarize_abi_error(open_error),
            "cannot load shared library: file too short"
        );
    }

    #[test]
    fn unknown_text_keeps_its_first_line_shortened() {
        let long = format!("\n\n{}\nsecond line", "x".repeat(1000));
        let summary = summarize_abi_error(&long);
        assert!(!summary.contains('\n'));
        assert_eq!(summary.chars().count(), MAX_REASON_CHARS + 1);
    }
}
