//! The web console's files (`assets/`: HTML, JavaScript and CSS, no build step), embedded in the
//! binary at compile time.
//!
//! The REST crate serves them at `/ui/`; this crate only says what a path holds. Invariants:
//! - `""` and `"index.html"` are the console's page; any other path is a file of `assets/` or
//!   nothing (no directory listing, no `..`: the embedded table has no such entries);
//! - the ETag of a file is its content's SHA-256, so a browser revalidates cheaply after an
//!   upgrade and never keeps a stale script.

use std::borrow::Cow;

#[derive(rust_embed::Embed)]
#[folder = "assets/"]
struct Assets;

/// One embedded file, ready to serve.
#[derive(Debug, Clone)]
pub struct Asset {
    pub bytes: Cow<'static, [u8]>,
    /// The `Content-Type` to send, from the file's extension (UTF-8 for text).
    pub content_type: String,
    /// A strong ETag, quoted.
    pub etag: String,
}

/// The file at `path` (relative to `/ui/`), if the console has one.
pub fn asset(path: &str) -> Option<Asset> {
    let path = match path.trim_start_matches('/') {
        "" => "index.html",
        other => other,
    };
    let file = Assets::get(path)?;
    let mime = file.metadata.mimetype();
    let content_type = if mime.starts_with("text/") || mime.ends_with("javascript") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    let etag = format!(
        "\"{}\"",
        file.metadata
            .sha256_hash()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>()
    );
    Some(Asset {
        bytes: file.data,
        content_type,
        etag,
    })
}

/// The console's files and their sizes in bytes, as embedded (for the README's figure and the
/// worker's startup log).
pub fn files() -> Vec<(String, usize)> {
    Assets::iter()
        .map(|path| {
            let size = Assets::get(&path).map_or(0, |file| file.data.len());
            (path.into_owned(), size)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_served_at_the_root_and_by_name() {
        let root = asset("").expect("index.html is embedded");
        let named = asset("index.html").unwrap();
        assert_eq!(root.bytes, named.bytes);
        assert_eq!(root.content_type, "text/html; charset=utf-8");
        assert!(root.etag.starts_with('"') && root.etag.len() == 66);
    }

    #[test]
    fn unknown_and_escaping_paths_hold_nothing() {
        assert!(asset("no-such-file.js").is_none());
        assert!(asset("../Cargo.toml").is_none());
        assert!(asset("assets/index.html").is_none());
    }

    #[test]
    fn scripts_and_styles_have_their_types() {
        for (path, _) in files() {
            let served = asset(&path).unwrap();
            if path.ends_with(".js") {
                assert_eq!(served.content_type, "text/javascript; charset=utf-8");
            }
            if path.ends_with(".css") {
                assert_eq!(served.content_type, "text/css; charset=utf-8");
            }
        }
    }
}
