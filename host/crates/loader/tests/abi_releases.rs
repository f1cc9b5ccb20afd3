//! Plugins built against other releases of plugin-api: the file plugin is built here against a
//! copy of plugin-api released under another version. A patch release (the same ABI) loads and
//! works; a minor release (a new ABI, while 0.x) is refused with a one-line reason.
//!
//! Each copy is a workspace of its own in a temporary folder, built offline with this
//! workspace's Cargo.lock and target dir, so the dependencies compiled for the tests are reused.

mod common;

use common::{capture_logs, target_dir, workspace_root};
use kconnect_loader::PluginRegistry;
use kconnect_plugin_api::ABI_VERSION;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const FILE_SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

/// Copies `from` into `to`, leaving out build output.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_name() == "target" {
            continue;
        }
        if path.is_dir() {
            copy_tree(&path, &to.join(entry.file_name()));
        } else {
            fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

/// A manifest without workspace inheritance: the workspace's shared keys written out.
fn standalone_manifest(manifest: &Path, crate_version: &str) {
    let text = fs::read_to_string(manifest).unwrap();
    let workspace = fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    let dependency = |name: &str| -> String {
        workspace
            .lines()
            .find(|line| line.starts_with(&format!("{name} = ")))
            .unwrap_or_else(|| panic!("the workspace declares {name}"))
            .to_string()
    };
    let mut out = String::new();
    for line in text.lines() {
        let line = match line.trim() {
            "version.workspace = true" => format!("version = \"{crate_version}\""),
            "edition.workspace = true" => "edition = \"2021\"".to_string(),
            "license.workspace = true" => "license = \"Apache-2.0\"".to_string(),
            "[lints]" | "workspace = true" => String::new(),
            "kconnect-plugin-api.workspace = true" => {
                "kconnect-plugin-api = { path = \"../plugin-api\" }".to_string()
            }
            "kconnect-convert.workspace = true" => {
                "kconnect-convert = { path = \"../convert\" }".to_string()
            }
            other => match other.strip_suffix(".workspace = true") {
                Some(name) => dependency(name),
                None => line.to_string(),
            },
        };
        out.push_str(&line);
        out.push('\n');
    }
    fs::write(manifest, out).unwrap();
}

/// Builds the file plugin against a copy of plugin-api released as `version`; returns the
/// library.
fn file_plugin_built_against(dir: &Path, version: &str) -> PathBuf {
    let root = workspace_root();
    copy_tree(&root.join("plugin-api"), &dir.join("plugin-api"));
    copy_tree(&root.join("plugins/file"), &dir.join("file"));
    // The file sink prints values with the converters' Java text rule.
    copy_tree(&root.join("host/crates/convert"), &dir.join("convert"));
    let api_manifest = dir.join("plugin-api/Cargo.toml");
    let text = fs::read_to_string(&api_manifest).unwrap();
    let declared = format!("version = \"{ABI_VERSION}\"");
    assert!(text.contains(&declared), "plugin-api declares {declared}");
    fs::write(
        &api_manifest,
        text.replace(&declared, &format!("version = \"{version}\"")),
    )
    .unwrap();
    let crate_version = version;
    standalone_manifest(&dir.join("plugin-api/Cargo.toml"), crate_version);
    standalone_manifest(&dir.join("file/Cargo.toml"), crate_version);
    standalone_manifest(&dir.join("convert/Cargo.toml"), crate_version);
    // Dev-dependencies are not needed to build the library, and would have to be resolved.
    for manifest in [
        "plugin-api/Cargo.toml",
        "file/Cargo.toml",
        "convert/Cargo.toml",
    ] {
        let path = dir.join(manifest);
        let text = fs::read_to_string(&path).unwrap();
        let kept = text.split("[dev-dependencies]").next().unwrap().to_string();
        fs::write(&path, kept).unwrap();
    }
    fs::write(
        dir.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"plugin-api\", \"file\", \"convert\"]\n",
    )
    .unwrap();
    fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .current_dir(dir)
        .args(["build", "--offline", "-p", "kconnect-file-plugin"])
        .env("CARGO_TARGET_DIR", target_dir().join("abi-releases"))
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building the file plugin against plugin-api {crate_version} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let built = target_dir().join("abi-releases/debug/libkconnect_file_plugin.so");
    let copy = dir.join(format!("file-{version}.so"));
    fs::copy(&built, &copy).unwrap();
    copy
}

/// `ABI_VERSION` with its patch or its minor raised.
fn raised(patch: bool) -> String {
    let numbers: Vec<u64> = ABI_VERSION
        .split('.')
        .map(|n| n.parse().expect("a numeric version"))
        .collect();
    match (patch, numbers.as_slice()) {
        (true, [major, minor, patch]) => format!("{major}.{minor}.{}", patch + 1),
        (false, [0, minor, _]) => format!("0.{}.0", minor + 1),
        (false, [major, ..]) => format!("{}.0.0", major + 1),
        _ => panic!("{ABI_VERSION} is not major.minor.patch"),
    }
}

#[test]
fn a_plugin_of_a_patch_release_loads_and_one_of_a_new_abi_is_refused_in_one_line() {
    capture_logs();
    let build = tempfile::tempdir().unwrap();

    let patch = raised(true);
    let plugins = tempfile::tempdir().unwrap();
    let same_abi = file_plugin_built_against(&build.path().join("patch"), &patch);
    fs::copy(&same_abi, plugins.path().join("file-patch-release.so")).unwrap();
    let registry = PluginRegistry::scan(&[plugins.path().to_path_buf()]);
    assert!(
        registry.failures().is_empty(),
        "a plugin built against plugin-api {patch} loads: {:?}",
        registry.failures()
    );
    let class = registry
        .resolve(FILE_SOURCE, &[], None)
        .expect("the source of the other release is registered");
    let connector = registry.new_connector(&class).expect("it can be created");
    assert!(connector.config_def().is_ok());

    let minor = raised(false);
    let plugins = tempfile::tempdir().unwrap();
    let new_abi = file_plugin_built_against(&build.path().join("minor"), &minor);
    fs::copy(&new_abi, plugins.path().join("file-new-abi.so")).unwrap();
    let registry = PluginRegistry::scan(&[plugins.path().to_path_buf()]);
    let failures = registry.failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    let reason = &failures[0].reason;
    assert!(
        reason.contains(&minor),
        "the reason names {minor}: {reason}"
    );
    assert!(!reason.contains('\n'), "one line: {reason}");
    assert!(registry.resolve(FILE_SOURCE, &[], None).is_err());
}
