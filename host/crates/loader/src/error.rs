//! The loader's one error type.

use kconnect_plugin_api::{ConnectError, PluginKind};
use std::path::PathBuf;

/// Why the loader could not hand out a class or an instance of it.
///
/// Callers decide on the variant; the `Display` text is one line meant for people.
#[derive(Debug, thiserror::Error)]
pub enum LoaderError {
    /// No loaded class of the wanted kinds has this name or alias.
    #[error("no {kinds} named '{name}' was found on plugin.path")]
    ClassNotFound { name: String, kinds: String },

    /// The name exists, but as a class of another kind (a sink given where a source is wanted…).
    #[error("'{name}' is a {found} plugin, not a {wanted}")]
    WrongKind {
        name: String,
        found: &'static str,
        wanted: String,
    },

    /// An alias (simple or pruned name) that several distinct classes answer to.
    #[error("'{name}' is ambiguous: it may mean {}; use the full class name", .classes.join(" or "))]
    AmbiguousAlias { name: String, classes: Vec<String> },

    /// A version was pinned that no loaded copy of the class has.
    #[error("no version of {class} matches '{requested}'; available versions: {}", .available.join(", "))]
    VersionNotFound {
        class: String,
        requested: String,
        available: Vec<String>,
    },

    /// A version pin that is neither a version nor a range such as `[1.0,2.0)`.
    #[error("invalid version requirement '{requested}': {reason}")]
    InvalidVersion { requested: String, reason: String },

    /// A plugin library could not be used (natively registered modules report this at once;
    /// libraries found on plugin.path become [`LoadFailure`](crate::LoadFailure)s instead).
    #[error("plugin {} rejected: {reason}", .path.display())]
    PluginRejected { path: PathBuf, reason: String },

    /// The plugin refused to create an instance of one of its classes.
    #[error("plugin could not create {class}: {error}")]
    Instantiation { class: String, error: ConnectError },
}

/// "source connector", "source or sink connector", "converter or header_converter"…
pub(crate) fn describe_kinds(kinds: &[PluginKind]) -> String {
    if kinds.is_empty() {
        return "plugin".to_string();
    }
    if kinds.len() == 2 && kinds.contains(&PluginKind::Source) && kinds.contains(&PluginKind::Sink)
    {
        return "source or sink connector".to_string();
    }
    kinds
        .iter()
        .map(|kind| match kind {
            PluginKind::Source => "source connector",
            PluginKind::Sink => "sink connector",
            other => other.name(),
        })
        .collect::<Vec<_>>()
        .join(" or ")
}
