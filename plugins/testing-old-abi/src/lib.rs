//! A plugin "built against plugin-api 0.0": it exports abi_stable's root module under the same
//! name as a current plugin (`kconnect_plugin`) but declares version 0.0.1 and a root module of
//! another shape (one manifest function instead of the frozen factory set).
//!
//! It exists only so that the worker's loader can be tested against a library that looks like a
//! plugin from the outside and must still be refused, with a one-line reason, instead of being
//! called through a wrong function table.

// abi_stable's derives expand to impls the lint flags; they are sound.
#![allow(non_local_definitions)]

use abi_stable::library::RootModule;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::RString;
use abi_stable::{declare_root_module_statics, export_root_module, StableAbi};

/// The root module as plugin-api 0.0 had it.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = OldPluginModuleRef)))]
#[sabi(missing_field(panic))]
pub struct OldPluginModule {
    /// The plugin's description, as the old API returned it.
    #[sabi(last_prefix_field)]
    pub describe: extern "C" fn() -> RString,
}

impl RootModule for OldPluginModuleRef {
    declare_root_module_statics! {OldPluginModuleRef}
    const BASE_NAME: &'static str = "kconnect_plugin";
    const NAME: &'static str = "kconnect_plugin";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(OLD_PLUGIN_API_VERSION);
}

/// The plugin-api version this library claims to be built against.
pub const OLD_PLUGIN_API_VERSION: &str = "0.0.1";

extern "C" fn describe() -> RString {
    RString::from("kconnect-testing-old-abi-plugin: no classes a current worker can use")
}

/// Exported as abi_stable's root module loader symbol, exactly as a current plugin's is.
#[export_root_module]
pub fn old_root_module() -> OldPluginModuleRef {
    OldPluginModule { describe }.leak_into_prefix()
}
