//! The registry of plugin classes found on `plugin.path`.
//!
//! ## Scanning
//! Each `plugin.path` entry is a folder holding plugin libraries directly or one subfolder per
//! plugin (Kafka's layout); libraries are looked for one level deep, in file-name order, and a
//! path entry that is itself a library is loaded as it is. A library is checked in this order, and
//! the first failed check becomes its one [`LoadFailure`] (also logged once at `warn`):
//! 1. it opens (`dlopen`);
//! 2. it exports abi_stable's root module symbol;
//! 3. its abi_stable and root module are compatible with the worker's (plugin-api version, then
//!    type layout);
//! 4. its `init` succeeds;
//! 5. its manifest parses and names a compatible plugin-api version.
//!
//! Scanning never fails as a whole. Libraries are never unloaded. Each library is loaded from a
//! private copy (see [`crate::files`]); [`PluginClassInfo::file`] is the file found.
//!
//! ## Rescanning
//! [`PluginRegistry::rescan`] looks at the same entries again. Files that are new or changed are
//! loaded once they are complete (see [`crate::files`]); a changed file becomes a new library
//! whose classes are listed next to the old ones, unless its content is one already loaded from
//! that path. Removed files keep their classes. Each refused version of a file is logged once;
//! [`PluginRegistry::failures`] lists the latest reason per path, for files still there.
//!
//! Each library is opened by path with `lib_header_from_path` and checked with
//! `init_root_module`; abi_stable's `load_from_*` helpers are not used because they cache one
//! module per root module type, which would hand back the first plugin for every later one.
//!
//! ## Names
//! A class answers to its full name, to the aliases its plugin declares, and to the aliases Kafka
//! derives: the simple name (the last `.`- or `$`-separated segment) and the simple name without
//! its kind suffix (`Connector` for connectors, `Converter`, `HeaderConverter`, `Transformation`,
//! `Predicate`), as Kafka's `PluginUtils.simpleName`/`prunedName` do.
//!
//! ## Resolution rule
//! Several plugins may export the same class; all copies are kept and listed. [`resolve`] picks:
//! 1. among classes of the wanted kinds, those whose full name matches, or if none, those that
//!    answer to the name as an alias — an exact class-name match beats an alias match;
//! 2. an alias that several *distinct* classes answer to is ambiguous and resolves to nothing
//!    (an error listing them), as Kafka ignores ambiguous aliases;
//! 3. with a pinned version (a version or a Maven-style range), only copies that satisfy it;
//! 4. the highest version (see [`compare_versions`]);
//! 5. on equal versions, the copy loaded first, in `plugin.path` order — except that a later
//!    version of the same file (rewritten with an unchanged version string) replaces its earlier
//!    loads.
//!
//! [`resolve`]: PluginRegistry::resolve

use crate::error::{describe_kinds, LoaderError};
use crate::files::{
    hash_in_place, read_header, Copied, Fingerprint, PrivateCopies, Readiness, TrackedFile,
};
use crate::handles::{
    ConnectorHandle, ConverterHandle, PredicateHandle, SinkTaskHandle, SourceTaskHandle,
    TransformationHandle,
};
use crate::host::host_services;
use crate::summary::{strip_dlopen_path, summarize_library_error, NO_ROOT_MODULE};
use crate::version::{compare_versions, VersionRequirement};
use abi_stable::library::lib_header_from_path;
use abi_stable::std_types::RStr;
use kconnect_plugin_api::ffi::{PluginModuleRef, ROOT_MODULE_SYMBOL};
use kconnect_plugin_api::manifest::{CAPABILITY_COMMIT_RECORD, CAPABILITY_EXACTLY_ONCE};
use kconnect_plugin_api::{PluginKind, PluginManifest, PLUGIN_API_VERSION};
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

/// File name endings of shared libraries on this platform.
#[cfg(target_os = "macos")]
const LIBRARY_EXTENSIONS: &[&str] = &["so", "dylib"];
#[cfg(not(target_os = "macos"))]
const LIBRARY_EXTENSIONS: &[&str] = &["so"];

/// One class exported by a loaded plugin.
#[derive(Clone)]
pub struct PluginClassInfo {
    /// Full class name, e.g. `org.apache.kafka.connect.file.FileStreamSourceConnector`.
    pub class: String,
    pub kind: PluginKind,
    pub version: String,
    /// Every other name the class answers to: declared by the plugin, then derived.
    pub aliases: Vec<String>,
    pub doc: String,
    pub capabilities: Vec<String>,
    /// Connectors: the Java task class written as `task.class` into task configs.
    pub task_class: String,
    /// The plugin (crate) that exports the class, and its version.
    pub plugin_name: String,
    pub plugin_version: String,
    /// The `plugin.path` file the class was found in (a label for natively registered modules).
    pub file: PathBuf,
    /// The private copy of `file` that is actually loaded (see [`crate::files`]); the same as
    /// `file` for natively registered modules.
    pub loaded_from: PathBuf,
    pub module: PluginModuleRef,
}

impl fmt::Debug for PluginClassInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginClassInfo")
            .field("class", &self.class)
            .field("kind", &self.kind)
            .field("version", &self.version)
            .field("aliases", &self.aliases)
            .field("plugin_name", &self.plugin_name)
            .field("file", &self.file)
            .field("loaded_from", &self.loaded_from)
            .finish_non_exhaustive()
    }
}

/// A library that was not loaded, and why (one line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadFailure {
    pub path: PathBuf,
    pub reason: String,
}

/// A loaded plugin library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub plugin_api_version: String,
    /// The `plugin.path` file, and the private copy of it that is loaded.
    pub file: PathBuf,
    pub loaded_from: PathBuf,
}

/// Kafka's `simpleName`: the class name without its package (and outer class).
pub fn simple_name(class: &str) -> &str {
    class.rsplit(['.', '$']).next().unwrap_or(class)
}

/// Kafka's `prunedName`: the simple name cut before the last occurrence of the kind's suffix,
/// unless that would leave nothing.
pub fn pruned_name(class: &str, kind: PluginKind) -> &str {
    let simple = simple_name(class);
    let suffix = match kind {
        PluginKind::Source | PluginKind::Sink => "Connector",
        PluginKind::Converter => "Converter",
        PluginKind::HeaderConverter => "HeaderConverter",
        PluginKind::Transformation => "Transformation",
        PluginKind::Predicate => "Predicate",
    };
    match simple.rfind(suffix) {
        Some(at) if at > 0 => &simple[..at],
        _ => simple,
    }
}

/// The aliases of a class: declared ones first, then the derived ones, without repeats and
/// without the class name itself.
pub fn class_aliases(class: &str, kind: PluginKind, declared: &[String]) -> Vec<String> {
    let mut aliases: Vec<String> = Vec::new();
    let candidates = declared
        .iter()
        .map(String::as_str)
        .chain([simple_name(class), pruned_name(class, kind)]);
    for alias in candidates {
        let alias = alias.trim();
        if !alias.is_empty() && alias != class && !aliases.iter().any(|a| a == alias) {
            aliases.push(alias.to_string());
        }
    }
    aliases
}

/// Whether a plugin built against `plugin_api` can be used by this worker: the same major
/// version, and the same minor while the major is 0.
pub fn is_compatible_plugin_api(plugin_api: &str) -> bool {
    let parts = |v: &str| -> Option<(u64, u64)> {
        let mut numbers = v.trim().split(['.', '-', '+']);
        let major = numbers.next()?.parse().ok()?;
        let minor = numbers.next()?.parse().ok()?;
        Some((major, minor))
    };
    match (parts(plugin_api), parts(PLUGIN_API_VERSION)) {
        (Some((major, minor)), Some((worker_major, worker_minor))) => {
            major == worker_major && (major != 0 || minor == worker_minor)
        }
        _ => false,
    }
}

/// What one [`PluginRegistry::rescan`] did.
#[derive(Clone, Debug, Default)]
pub struct RescanReport {
    /// Libraries loaded: new files, and new versions of files loaded before.
    pub loaded: Vec<PluginInfo>,
    /// Files refused (each logged once, at `warn`).
    pub refused: Vec<LoadFailure>,
    /// Files left for a later rescan: still changing, or shorter than their header says.
    pub waiting: Vec<PathBuf>,
}

impl RescanReport {
    /// Whether nothing was loaded or refused.
    pub fn is_quiet(&self) -> bool {
        self.loaded.is_empty() && self.refused.is_empty()
    }
}

/// What readers see: it only grows, except for failures, which describe the files as they are.
#[derive(Default)]
struct Catalog {
    classes: Vec<Arc<PluginClassInfo>>,
    plugins: Vec<PluginInfo>,
    /// At most one per path.
    failures: Vec<LoadFailure>,
}

/// The `plugin.path` files and what became of them; one scan at a time.
struct Files {
    plugin_path: Vec<PathBuf>,
    /// By canonical path, so that a file reached twice is loaded once.
    tracked: HashMap<PathBuf, TrackedFile>,
    /// Entries refused as a whole (a missing folder, a file that is not a library), with the
    /// reason, so that each is reported once and not at every rescan.
    refused_entries: Vec<(PathBuf, String)>,
    copier: Copier,
}

/// Makes the private copies, or, when no private folder can be made, says so once and lets
/// libraries be loaded where they are.
#[derive(Default)]
struct Copier {
    copies: Option<PrivateCopies>,
    unavailable: bool,
}

impl Copier {
    fn copy(&mut self, path: &Path) -> std::io::Result<Copied> {
        if self.copies.is_none() && !self.unavailable {
            match PrivateCopies::create() {
                Ok(copies) => self.copies = Some(copies),
                Err(e) => {
                    log::warn!(
                        "cannot make a private folder for plugin copies in {} ({e}); plugins are \
                         loaded where they are, so a plugin file must not be changed in place \
                         while the worker runs",
                        std::env::temp_dir().display()
                    );
                    self.unavailable = true;
                }
            }
        }
        match &mut self.copies {
            Some(copies) => copies.copy(path),
            None => hash_in_place(path),
        }
    }

    /// Removes a copy that will not be used (never the original).
    fn discard(&self, copied: &Copied) {
        if let Some(copies) = &self.copies {
            if copied.path.starts_with(copies.dir()) {
                let _ = std::fs::remove_file(&copied.path);
            }
        }
    }
}

/// The classes found on `plugin.path`, the libraries that were refused, and instance factories.
///
/// Shared between threads: readers ([`resolve`](PluginRegistry::resolve),
/// [`classes`](PluginRegistry::classes)…) take a read lock for the time of a lookup; a rescan
/// loads libraries without holding it and takes the write lock only to add what it loaded.
pub struct PluginRegistry {
    catalog: RwLock<Catalog>,
    files: Mutex<Files>,
}

impl Default for PluginRegistry {
    fn default() -> PluginRegistry {
        PluginRegistry::with_plugin_path(Vec::new())
    }
}

impl fmt::Debug for PluginRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let catalog = self.read();
        f.debug_struct("PluginRegistry")
            .field("classes", &catalog.classes)
            .field("failures", &catalog.failures)
            .finish()
    }
}

impl PluginRegistry {
    /// An empty registry (add modules with [`PluginRegistry::add_native`]).
    pub fn new() -> PluginRegistry {
        PluginRegistry::default()
    }

    fn with_plugin_path(plugin_path: Vec<PathBuf>) -> PluginRegistry {
        PluginRegistry {
            catalog: RwLock::new(Catalog::default()),
            files: Mutex::new(Files {
                plugin_path,
                tracked: HashMap::new(),
                refused_entries: Vec::new(),
                copier: Copier::default(),
            }),
        }
    }

    /// Loads every plugin library found in `dirs` (see the module docs). Never fails: refused
    /// files are logged and listed in [`PluginRegistry::failures`]. The folders are remembered
    /// for [`PluginRegistry::rescan`].
    pub fn scan(dirs: &[PathBuf]) -> PluginRegistry {
        let registry = PluginRegistry::unscanned(dirs);
        registry.initial_scan();
        registry
    }

    /// A registry for `dirs` that has not looked at them yet: a worker can answer requests
    /// while [`PluginRegistry::initial_scan`] loads the libraries.
    pub fn unscanned(dirs: &[PathBuf]) -> PluginRegistry {
        PluginRegistry::with_plugin_path(dirs.to_vec())
    }

    /// Loads every library in the `plugin.path` folders as they are now (see [`PluginRegistry::scan`]).
    pub fn initial_scan(&self) {
        self.pass(true);
        let catalog = self.read();
        log::info!(
            "loaded {} plugin classes from {} libraries; {} files refused",
            catalog.classes.len(),
            catalog.plugins.len(),
            catalog.failures.len()
        );
    }

    /// Looks at the `plugin.path` folders again and loads what is new or changed and complete
    /// (see [`crate::files`] for when a file counts as complete). A changed file is loaded as a
    /// new library next to the old one, which stays loaded and listed; a removed file's classes
    /// stay usable. Never fails; one rescan runs at a time.
    pub fn rescan(&self) -> RescanReport {
        self.pass(false)
    }

    /// The folders (and files) scanned.
    pub fn plugin_path(&self) -> Vec<PathBuf> {
        self.files().plugin_path.clone()
    }

    fn read(&self) -> RwLockReadGuard<'_, Catalog> {
        self.catalog.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Catalog> {
        self.catalog.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn files(&self) -> MutexGuard<'_, Files> {
        self.files.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every loaded class, in load order (`plugin.path` order, then file-name order, then
    /// libraries loaded by rescans).
    pub fn classes(&self) -> Vec<Arc<PluginClassInfo>> {
        self.read().classes.clone()
    }

    /// Every loaded library.
    pub fn plugins(&self) -> Vec<PluginInfo> {
        self.read().plugins.clone()
    }

    /// Every refused library or `plugin.path` entry, with its reason: at most one per path, and
    /// only for files that are still there.
    pub fn failures(&self) -> Vec<LoadFailure> {
        self.read().failures.clone()
    }

    /// Registers a module linked into this process: a plugin crate's `kconnect_plugin_module()`
    /// (generated by `export_plugin!`) called directly. For tests, benchmarks and built-ins.
    ///
    /// The plugin's `init` installs its panic hook in the process it runs in; for a linked-in
    /// module that is the worker's own process, so the worker's hook is put back afterwards (the
    /// plugin's panics are still caught and reported, without a backtrace).
    pub fn add_native(&self, module: PluginModuleRef, label: &str) -> Result<(), LoaderError> {
        let file = PathBuf::from(label);
        let worker_hook = std::panic::take_hook();
        let manifest = initialise(module);
        std::panic::set_hook(worker_hook);
        let manifest = manifest.map_err(|reason| LoaderError::PluginRejected {
            path: file.clone(),
            reason,
        })?;
        self.register(module, manifest, file.clone(), file);
        Ok(())
    }

    /// One look at every `plugin.path` entry. At startup every library found is loaded at once;
    /// a rescan loads only files that are complete and not loaded yet in that version.
    fn pass(&self, startup: bool) -> RescanReport {
        let mut files = self.files();
        let files = &mut *files;
        let mut report = RescanReport::default();
        let mut visited: HashSet<PathBuf> = HashSet::new();
        let mut refused_entries: Vec<(PathBuf, String)> = Vec::new();
        for entry in files.plugin_path.clone() {
            if entry.is_file() {
                if is_library(&entry) {
                    self.visit(files, &entry, startup, &mut visited, &mut report);
                } else {
                    refused_entries.push((
                        entry,
                        "not a shared library (plugin.path entries are folders)".to_string(),
                    ));
                }
                continue;
            }
            match library_files(&entry) {
                Ok(found) => {
                    for file in found {
                        match file {
                            Ok(path) => {
                                self.visit(files, &path, startup, &mut visited, &mut report)
                            }
                            Err(refused) => refused_entries.push(refused),
                        }
                    }
                }
                Err(reason) => refused_entries.push((entry, reason)),
            }
        }
        self.update_refused_entries(files, refused_entries);
        self.forget_vanished(files, &visited);
        report
    }

    /// Looks at one library file and loads it when it is due.
    fn visit(
        &self,
        files: &mut Files,
        path: &Path,
        startup: bool,
        visited: &mut HashSet<PathBuf>,
        report: &mut RescanReport,
    ) {
        let identity = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if !visited.insert(identity.clone()) {
            log::debug!("plugin file {} is already loaded", path.display());
            return;
        }
        // Gone since the folder was listed: the next rescan sees it missing.
        let Ok(fingerprint) = Fingerprint::of(path) else {
            return;
        };
        let now = Instant::now();
        let tracked = files
            .tracked
            .entry(identity)
            .or_insert_with(|| TrackedFile::new(path, now));
        if !startup {
            match tracked.observe(fingerprint, now, || read_header(path)) {
                Readiness::Settled => return,
                Readiness::Waiting(why) => {
                    log::debug!("plugin file {} is not ready yet: {why}", path.display());
                    report.waiting.push(path.to_path_buf());
                    return;
                }
                Readiness::Ready => {}
            }
        }
        self.load_version(&mut files.copier, tracked, fingerprint, startup, report);
    }

    /// Copies, checks and registers one version of a file.
    fn load_version(
        &self,
        copier: &mut Copier,
        tracked: &mut TrackedFile,
        fingerprint: Fingerprint,
        startup: bool,
        report: &mut RescanReport,
    ) {
        let path = tracked.path.clone();
        let copied = match copier.copy(&path) {
            Ok(copied) => copied,
            Err(e) => {
                tracked.settle(fingerprint, None);
                let reason = format!("cannot make a private copy to load: {e}");
                report.refused.push(self.refuse(&path, &reason));
                return;
            }
        };
        if !startup {
            let now_seen = Fingerprint::of(&path).ok();
            if now_seen != Some(fingerprint) {
                copier.discard(&copied);
                tracked.changed_meanwhile(now_seen, Instant::now());
                report.waiting.push(path);
                return;
            }
        }
        if tracked.has_loaded(copied.hash) {
            copier.discard(&copied);
            tracked.settle(fingerprint, None);
            log::info!(
                "plugin file {} changed on disk, but to a content already loaded from it",
                path.display()
            );
            return;
        }
        match load_library(&copied.path) {
            Ok((module, manifest)) => {
                log::info!(
                    "loaded plugin {} {} from {} ({} classes)",
                    manifest.name,
                    manifest.version,
                    path.display(),
                    manifest.classes.len()
                );
                tracked.settle(fingerprint, Some(copied.hash));
                self.forget_failure(&path);
                let plugin = self.register(module, manifest, path, copied.path);
                report.loaded.push(plugin);
            }
            Err(reason) => {
                copier.discard(&copied);
                tracked.settle(fingerprint, None);
                report.refused.push(self.refuse(&path, &reason));
            }
        }
    }

    /// Reports entries refused for the first time (or for a new reason), and forgets those that
    /// are fine now.
    fn update_refused_entries(&self, files: &mut Files, now: Vec<(PathBuf, String)>) {
        for (path, reason) in &now {
            if !files
                .refused_entries
                .contains(&(path.clone(), reason.clone()))
            {
                self.refuse(path, reason);
            }
        }
        for (path, _) in &files.refused_entries {
            if !now.iter().any(|(p, _)| p == path) {
                log::info!("plugin.path: {} is no longer refused", path.display());
                self.forget_failure(path);
            }
        }
        files.refused_entries = now;
    }

    /// Files that are gone: what was loaded from them stays; their failures go.
    fn forget_vanished(&self, files: &mut Files, visited: &HashSet<PathBuf>) {
        for (identity, tracked) in &mut files.tracked {
            if !tracked.is_present() || visited.contains(identity) {
                continue;
            }
            tracked.vanish();
            self.forget_failure(&tracked.path);
            if tracked.loaded_any() {
                log::info!(
                    "plugin file {} was removed; the classes loaded from it stay usable",
                    tracked.path.display()
                );
            }
        }
    }

    /// Logs the one line for a refused file and lists it (replacing an older reason).
    fn refuse(&self, path: &Path, reason: &str) -> LoadFailure {
        log::warn!("plugin.path: ignoring {}: {reason}", path.display());
        let failure = LoadFailure {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let mut catalog = self.write();
        catalog.failures.retain(|f| f.path != path);
        catalog.failures.push(failure.clone());
        failure
    }

    fn forget_failure(&self, path: &Path) {
        self.write().failures.retain(|f| f.path != path);
    }

    fn register(
        &self,
        module: PluginModuleRef,
        manifest: PluginManifest,
        file: PathBuf,
        loaded_from: PathBuf,
    ) -> PluginInfo {
        let classes: Vec<Arc<PluginClassInfo>> = manifest
            .classes
            .iter()
            .map(|class| {
                Arc::new(PluginClassInfo {
                    class: class.class.clone(),
                    kind: class.kind,
                    version: class.version.clone(),
                    aliases: class_aliases(&class.class, class.kind, &class.aliases),
                    doc: class.doc.clone(),
                    capabilities: class.capabilities.clone(),
                    task_class: class.java_task_class(),
                    plugin_name: manifest.name.clone(),
                    plugin_version: manifest.version.clone(),
                    file: file.clone(),
                    loaded_from: loaded_from.clone(),
                    module,
                })
            })
            .collect();
        let plugin = PluginInfo {
            name: manifest.name,
            version: manifest.version,
            plugin_api_version: manifest.plugin_api_version,
            file,
            loaded_from,
        };
        let mut catalog = self.write();
        catalog.classes.extend(classes);
        catalog.plugins.push(plugin.clone());
        plugin
    }

    /// Finds the class `name` (full name or alias) among `kinds` (all kinds when empty), with
    /// an optional pinned `version`, by the rule in the module docs.
    pub fn resolve(
        &self,
        name: &str,
        kinds: &[PluginKind],
        version: Option<&str>,
    ) -> Result<Arc<PluginClassInfo>, LoaderError> {
        let catalog = self.read();
        let name = name.trim();
        let wanted = |info: &&Arc<PluginClassInfo>| kinds.is_empty() || kinds.contains(&info.kind);
        let answers_to = |info: &PluginClassInfo| info.aliases.iter().any(|a| a == name);

        let mut candidates: Vec<&Arc<PluginClassInfo>> = catalog
            .classes
            .iter()
            .filter(wanted)
            .filter(|info| info.class == name)
            .collect();
        if candidates.is_empty() {
            candidates = catalog
                .classes
                .iter()
                .filter(wanted)
                .filter(|info| answers_to(info))
                .collect();
            let distinct: BTreeSet<&str> = candidates.iter().map(|c| c.class.as_str()).collect();
            if distinct.len() > 1 {
                return Err(LoaderError::AmbiguousAlias {
                    name: name.to_string(),
                    classes: distinct.into_iter().map(str::to_string).collect(),
                });
            }
        }
        if candidates.is_empty() {
            let elsewhere = catalog
                .classes
                .iter()
                .find(|info| info.class == name || answers_to(info));
            return Err(match elsewhere {
                Some(other) => LoaderError::WrongKind {
                    name: name.to_string(),
                    found: other.kind.name(),
                    wanted: describe_kinds(kinds),
                },
                None => LoaderError::ClassNotFound {
                    name: name.to_string(),
                    kinds: describe_kinds(kinds),
                },
            });
        }

        if let Some(requested) = version {
            let requirement = VersionRequirement::parse(requested)?;
            let all = candidates.clone();
            candidates.retain(|c| requirement.matches(&c.version));
            if candidates.is_empty() {
                let mut available: Vec<String> = all.iter().map(|c| c.version.clone()).collect();
                available.sort_by(|a, b| compare_versions(a, b));
                available.dedup();
                return Err(LoaderError::VersionNotFound {
                    class: all[0].class.clone(),
                    requested: requested.to_string(),
                    available,
                });
            }
        }

        // Candidates are in load order. On equal versions the earlier-loaded copy stays chosen,
        // except over an earlier load of the same file: a rewritten file replaces itself.
        let mut best = candidates[0];
        for candidate in &candidates[1..] {
            match compare_versions(&candidate.version, &best.version) {
                Ordering::Greater => best = candidate,
                Ordering::Equal if candidate.file == best.file => best = candidate,
                _ => {}
            }
        }
        Ok(best.clone())
    }

    /// A new connector of a source or sink class.
    pub fn new_connector(&self, class: &PluginClassInfo) -> Result<ConnectorHandle, LoaderError> {
        class.new_connector()
    }

    /// A new task of a source connector class.
    pub fn new_source_task(
        &self,
        connector: &PluginClassInfo,
    ) -> Result<SourceTaskHandle, LoaderError> {
        connector.new_source_task()
    }

    /// A new task of a sink connector class.
    pub fn new_sink_task(
        &self,
        connector: &PluginClassInfo,
    ) -> Result<SinkTaskHandle, LoaderError> {
        connector.new_sink_task()
    }

    pub fn new_converter(&self, class: &PluginClassInfo) -> Result<ConverterHandle, LoaderError> {
        class.new_converter()
    }

    pub fn new_transformation(
        &self,
        class: &PluginClassInfo,
    ) -> Result<TransformationHandle, LoaderError> {
        class.new_transformation()
    }

    pub fn new_predicate(&self, class: &PluginClassInfo) -> Result<PredicateHandle, LoaderError> {
        class.new_predicate()
    }
}

impl PluginClassInfo {
    /// Whether the class's source task asked for `commit_record` calls.
    pub fn wants_commit_record(&self) -> bool {
        self.capabilities
            .iter()
            .any(|c| c == CAPABILITY_COMMIT_RECORD)
    }

    /// Whether the source connector answered that it delivers exactly once (KIP-618).
    pub fn supports_exactly_once(&self) -> bool {
        self.capabilities
            .iter()
            .any(|c| c == CAPABILITY_EXACTLY_ONCE)
    }

    fn expect_kind(&self, accepted: &[PluginKind], wanted: &str) -> Result<(), LoaderError> {
        if accepted.contains(&self.kind) {
            Ok(())
        } else {
            Err(LoaderError::WrongKind {
                name: self.class.clone(),
                found: self.kind.name(),
                wanted: wanted.to_string(),
            })
        }
    }

    fn instantiate<T>(
        &self,
        make: extern "C" fn(
            RStr<'_>,
        )
            -> abi_stable::std_types::RResult<T, kconnect_plugin_api::ConnectError>,
    ) -> Result<T, LoaderError> {
        make(RStr::from_str(&self.class))
            .into_result()
            .map_err(|error| LoaderError::Instantiation {
                class: self.class.clone(),
                error,
            })
    }

    /// A new connector of this (source or sink) class.
    pub fn new_connector(&self) -> Result<ConnectorHandle, LoaderError> {
        self.expect_kind(&[PluginKind::Source, PluginKind::Sink], "connector")?;
        let object = self.instantiate(self.module.new_connector())?;
        Ok(ConnectorHandle::new(self.class.clone(), object))
    }

    /// A new task of this source connector class.
    pub fn new_source_task(&self) -> Result<SourceTaskHandle, LoaderError> {
        self.expect_kind(&[PluginKind::Source], "source connector")?;
        let object = self.instantiate(self.module.new_source_task())?;
        Ok(SourceTaskHandle::new(
            self.class.clone(),
            object,
            self.wants_commit_record(),
        ))
    }

    /// A new task of this sink connector class.
    pub fn new_sink_task(&self) -> Result<SinkTaskHandle, LoaderError> {
        self.expect_kind(&[PluginKind::Sink], "sink connector")?;
        let object = self.instantiate(self.module.new_sink_task())?;
        Ok(SinkTaskHandle::new(self.class.clone(), object))
    }

    /// A new converter of this class (converter or header converter).
    pub fn new_converter(&self) -> Result<ConverterHandle, LoaderError> {
        self.expect_kind(
            &[PluginKind::Converter, PluginKind::HeaderConverter],
            "converter",
        )?;
        let object = self.instantiate(self.module.new_converter())?;
        Ok(ConverterHandle::new(self.class.clone(), object))
    }

    pub fn new_transformation(&self) -> Result<TransformationHandle, LoaderError> {
        self.expect_kind(&[PluginKind::Transformation], "transformation")?;
        let object = self.instantiate(self.module.new_transformation())?;
        Ok(TransformationHandle::new(self.class.clone(), object))
    }

    pub fn new_predicate(&self) -> Result<PredicateHandle, LoaderError> {
        self.expect_kind(&[PluginKind::Predicate], "predicate")?;
        let object = self.instantiate(self.module.new_predicate())?;
        Ok(PredicateHandle::new(self.class.clone(), object))
    }
}

fn is_library(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| LIBRARY_EXTENSIONS.contains(&e))
}

type FoundFile = Result<PathBuf, (PathBuf, String)>;

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let listing = std::fs::read_dir(dir).map_err(|e| format!("cannot read folder: {e}"))?;
    let mut entries: Vec<PathBuf> = listing.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    Ok(entries)
}

/// The libraries in `dir` and in its direct subfolders, in file-name order; an unreadable
/// subfolder is reported in place.
fn library_files(dir: &Path) -> Result<Vec<FoundFile>, String> {
    if !dir.exists() {
        return Err("no such folder".to_string());
    }
    let mut found = Vec::new();
    for entry in sorted_entries(dir)? {
        if entry.is_dir() {
            match sorted_entries(&entry) {
                Ok(inner) => found.extend(
                    inner
                        .into_iter()
                        .filter(|p| p.is_file() && is_library(p))
                        .map(Ok),
                ),
                Err(reason) => found.push(Err((entry, reason))),
            }
        } else if entry.is_file() && is_library(&entry) {
            found.push(Ok(entry));
        }
    }
    Ok(found)
}

/// Opens, checks and initialises one library; the error is the one-line reason.
fn load_library(path: &Path) -> Result<(PluginModuleRef, PluginManifest), String> {
    // Probe with a plain dlopen first, so that a file that is not a plugin at all gets a short
    // reason and is closed again instead of being leaked by abi_stable.
    // SAFETY: opening a library runs its initialisers; plugin.path is trusted like a classpath.
    let probe = unsafe { libloading::Library::new(path) }.map_err(|e| {
        format!(
            "cannot load shared library: {}",
            strip_dlopen_path(&e.to_string(), path)
        )
    })?;
    let symbol = format!("{ROOT_MODULE_SYMBOL}\0");
    // SAFETY: only the symbol's presence is checked; nothing is read through it.
    let has_root_module = unsafe { probe.get::<*const u8>(symbol.as_bytes()) }.is_ok();
    if !has_root_module {
        return Err(NO_ROOT_MODULE.to_string());
    }
    let header = lib_header_from_path(path).map_err(|e| summarize_library_error(&e))?;
    let module = header
        .init_root_module::<PluginModuleRef>()
        .map_err(|e| summarize_library_error(&e))?;
    // abi_stable keeps its own reference to the library for the life of the process.
    drop(probe);
    let manifest = initialise(module)?;
    Ok((module, manifest))
}

/// Calls the module's `init` with the worker's services and checks the manifest it returns.
fn initialise(module: PluginModuleRef) -> Result<PluginManifest, String> {
    let json = (module.init())(host_services())
        .into_result()
        .map_err(|e| format!("plugin init failed: {}", e.message))?;
    let manifest = PluginManifest::from_json(&json)?;
    if !is_compatible_plugin_api(&manifest.plugin_api_version) {
        return Err(format!(
            "incompatible plugin-api: plugin built for {}, worker has {}",
            manifest.plugin_api_version, PLUGIN_API_VERSION
        ));
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(class: &str, kind: PluginKind, version: &str, file: &str) -> PluginClassInfo {
        PluginClassInfo {
            class: class.to_string(),
            kind,
            version: version.to_string(),
            aliases: class_aliases(class, kind, &[]),
            doc: String::new(),
            capabilities: Vec::new(),
            task_class: kconnect_plugin_api::manifest::java_task_class(class, None),
            plugin_name: "test".to_string(),
            plugin_version: version.to_string(),
            file: PathBuf::from(file),
            loaded_from: PathBuf::from(file),
            module: kconnect_testing_plugin::kconnect_plugin_module(),
        }
    }

    fn registry(classes: Vec<PluginClassInfo>) -> PluginRegistry {
        let registry = PluginRegistry::default();
        registry.write().classes = classes.into_iter().map(Arc::new).collect();
        registry
    }

    #[test]
    fn derived_aliases_follow_kafka() {
        assert_eq!(
            class_aliases(
                "org.apache.kafka.connect.file.FileStreamSourceConnector",
                PluginKind::Source,
                &[]
            ),
            vec!["FileStreamSourceConnector", "FileStreamSource"]
        );
        assert_eq!(
            class_aliases(
                "org.apache.kafka.connect.json.JsonConverter",
                PluginKind::Converter,
                &[]
            ),
            vec!["JsonConverter", "Json"]
        );
        assert_eq!(
            class_aliases(
                "org.apache.kafka.connect.transforms.ReplaceField$Value",
                PluginKind::Transformation,
                &[]
            ),
            vec!["Value"]
        );
        // The suffix is cut at its last occurrence, even mid-name, but never to nothing.
        assert_eq!(
            pruned_name("a.ConnectorSinkConnectorX", PluginKind::Sink),
            "ConnectorSink"
        );
        assert_eq!(
            pruned_name("a.Predicate", PluginKind::Predicate),
            "Predicate"
        );
        assert_eq!(
            class_aliases("Bare", PluginKind::Predicate, &["Alias".to_string()]),
            vec!["Alias"]
        );
    }

    #[test]
    fn highest_version_wins_then_load_order() {
        let registry = registry(vec![
            info("a.SourceConnector", PluginKind::Source, "1.2.0", "first"),
            info("a.SourceConnector", PluginKind::Source, "1.10.0", "second"),
            info("a.SourceConnector", PluginKind::Source, "1.10", "third"),
        ]);
        let chosen = registry.resolve("a.SourceConnector", &[], None).unwrap();
        assert_eq!(chosen.file, PathBuf::from("second"));
        let pinned = registry
            .resolve("Source", &[PluginKind::Source], Some("1.2.0"))
            .unwrap();
        assert_eq!(pinned.file, PathBuf::from("first"));
        let ranged = registry
            .resolve("a.SourceConnector", &[], Some("[1.0,1.5)"))
            .unwrap();
        assert_eq!(ranged.file, PathBuf::from("first"));
        let missing = registry
            .resolve("a.SourceConnector", &[], Some("2.0"))
            .unwrap_err();
        assert!(matches!(missing, LoaderError::VersionNotFound { .. }));
        assert!(missing.to_string().contains("1.2.0, 1.10.0"), "{missing}");
    }

    #[test]
    fn an_exact_name_beats_an_alias_even_of_a_higher_version() {
        let registry = registry(vec![
            info("x.Upper", PluginKind::Transformation, "9.0", "alias"),
            info("Upper", PluginKind::Transformation, "1.0", "exact"),
        ]);
        let chosen = registry
            .resolve("Upper", &[PluginKind::Transformation], None)
            .unwrap();
        assert_eq!(chosen.file, PathBuf::from("exact"));
    }

    #[test]
    fn an_alias_of_distinct_classes_is_ambiguous() {
        let registry = registry(vec![
            info("a.MySourceConnector", PluginKind::Source, "1", "a"),
            info("b.MySourceConnector", PluginKind::Source, "1", "b"),
        ]);
        let error = registry
            .resolve("MySource", &[PluginKind::Source], None)
            .unwrap_err();
        assert!(matches!(error, LoaderError::AmbiguousAlias { .. }));
        assert!(error
            .to_string()
            .contains("a.MySourceConnector or b.MySourceConnector"));
        assert!(registry.resolve("b.MySourceConnector", &[], None).is_ok());
    }

    #[test]
    fn a_class_of_another_kind_is_named_as_such() {
        let registry = registry(vec![info("a.FooSinkConnector", PluginKind::Sink, "1", "a")]);
        let error = registry
            .resolve("FooSink", &[PluginKind::Source], None)
            .unwrap_err();
        assert!(matches!(error, LoaderError::WrongKind { .. }));
        assert_eq!(
            error.to_string(),
            "'FooSink' is a sink plugin, not a source connector"
        );
        let error = registry.resolve("Nope", &[PluginKind::Source, PluginKind::Sink], None);
        assert_eq!(
            error.unwrap_err().to_string(),
            "no source or sink connector named 'Nope' was found on plugin.path"
        );
    }

    #[test]
    fn plugin_api_compatibility_follows_cargo_rules() {
        assert!(is_compatible_plugin_api(PLUGIN_API_VERSION));
        assert!(!is_compatible_plugin_api("0.0.1"));
        assert!(!is_compatible_plugin_api("1.0.0"));
        assert!(!is_compatible_plugin_api("not a version"));
    }
}
