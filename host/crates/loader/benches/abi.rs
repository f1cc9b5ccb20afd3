//! What crossing the plugin ABI costs, measured on the hot paths: a source task's `poll` and a
//! sink task's `put`, with batches of 1000 records holding 100-byte STRING values.
//!
//! Each path is measured three ways, interleaved round by round so that machine noise hits all
//! of them alike:
//! - **abi**: the testing plugin's release `.so`, loaded from a plugin.path folder by the loader;
//! - **native module**: the same plugin linked into this binary as an rlib and registered with
//!   `PluginRegistry::add_native` — the same ABI objects, without dlopen;
//! - **direct**: the plugin's author types called through their traits, with no ABI object.
//!
//! The ratio printed is abi ÷ direct (1.0 = free). Allocations per batch are counted twice: by
//! this binary's global allocator (the worker's side, and everything on the native paths), and
//! by counting `malloc`/`calloc`/`realloc` calls in the whole process (glibc only), which also
//! sees the allocations the `.so` makes with its own allocator. Counting is off while timing.
//!
//! Run with `cargo bench -p kconnect-loader --bench abi`.

use kconnect_loader::{detached_task_context, PluginRegistry, SinkTaskHandle, SourceTaskHandle};
use kconnect_plugin_api::abi_stable::std_types::ROption;
use kconnect_plugin_api::context::DetachedContext;
use kconnect_plugin_api::{
    Config, ConnectRecord, Schema, SchemaRef, SchemaType, SinkRecord, SinkTask, SourceTask, Value,
};
use kconnect_testing_plugin::{BenchSinkTask, BenchSourceTask};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const BATCH_SIZE: usize = 1000;
const VALUE_BYTES: usize = 100;
const ROUNDS: usize = 15;
const SOURCE_BATCHES_PER_RUN: usize = 100;
const SINK_BATCHES_PER_RUN: usize = 5000;
const COUNTED_BATCHES: u64 = 20;

static COUNTING: AtomicBool = AtomicBool::new(false);
static RUST_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static MALLOC_CALLS: AtomicU64 = AtomicU64::new(0);

fn count(counter: &AtomicU64) {
    if COUNTING.load(Ordering::Relaxed) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts allocations made through Rust's global allocator in this binary.
struct CountingAllocator;

// SAFETY: every call forwards to the system allocator with the caller's arguments unchanged.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(&RUST_ALLOCATIONS);
        // SAFETY: the caller's contract is the callee's; the arguments are passed on as they came.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(&RUST_ALLOCATIONS);
        // SAFETY: the caller's contract is the callee's; the arguments are passed on as they came.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(&RUST_ALLOCATIONS);
        // SAFETY: the caller's contract is the callee's; the arguments are passed on as they came.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is the callee's; the arguments are passed on as they came.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Replaces glibc's `malloc`, `calloc` and `realloc` for the whole process (the executable's
/// definitions take precedence over libc's for every library, the plugin `.so` included) and
/// forwards to glibc's own entry points, counting the calls.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod malloc_counter {
    use std::ffi::c_void;

    extern "C" {
        fn __libc_malloc(size: usize) -> *mut c_void;
        fn __libc_calloc(count: usize, size: usize) -> *mut c_void;
        fn __libc_realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
    }

    #[no_mangle]
    pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
        super::count(&super::MALLOC_CALLS);
        // SAFETY: the caller's contract is the callee's; the arguments are passed on as they came.
        unsafe { __libc_malloc(size) }
    }

    #[no_mangle]
    pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
        super::count(&super::MALLOC_CALLS);
        // SAFETY: the caller's contract is the callee's; the arguments are passed on as they came.
        unsafe { __libc_calloc(count, size) }
    }

    #[no_mangle]
    pub unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
        super::count(&super::MALLOC_CALLS);
        // SAFETY: the caller's contract is the callee's; the arguments are passed on as they came.
        unsafe { __libc_realloc(ptr, size) }
    }

    pub const AVAILABLE: bool = true;
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod malloc_counter {
    pub const AVAILABLE: bool = false;
}

/// Builds the testing plugin's release library and returns its path.
fn release_plugin() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../..")
        .canonicalize()
        .expect("the workspace root exists");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| root.join(dir))
        .unwrap_or_else(|| root.join("target"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args(["build", "--release", "-p", "kconnect-testing-plugin"])
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the testing plugin failed");
    let file = format!(
        "{}kconnect_testing_plugin{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    target.join("release").join(file)
}

fn bench_config() -> Config {
    [
        ("batch.size", BATCH_SIZE.to_string()),
        ("value.bytes", VALUE_BYTES.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn source_handle(registry: &PluginRegistry) -> SourceTaskHandle {
    let class = registry
        .resolve("BenchSource", &[], None)
        .expect("the bench source is registered");
    let mut task = class.new_source_task().expect("a bench source task");
    task.start(bench_config(), detached_task_context())
        .expect("the bench source starts");
    task
}

fn sink_handle(registry: &PluginRegistry) -> SinkTaskHandle {
    let class = registry
        .resolve("BenchSink", &[], None)
        .expect("the bench sink is registered");
    let mut task = class.new_sink_task().expect("a bench sink task");
    task.start(bench_config(), detached_task_context())
        .expect("the bench sink starts");
    task
}

/// A batch as a sink task receives it.
fn sink_batch() -> Vec<SinkRecord> {
    let schema = SchemaRef::new(Schema::primitive(SchemaType::String));
    let value: kconnect_plugin_api::abi_stable::std_types::RString = "y".repeat(VALUE_BYTES).into();
    (0..BATCH_SIZE)
        .map(|i| SinkRecord {
            kafka_offset: i as i64,
            record: ConnectRecord {
                topic: "bench".into(),
                kafka_partition: ROption::RSome(0),
                value_schema: ROption::RSome(schema.clone()),
                value: Value::String(value.clone()),
                ..ConnectRecord::default()
            },
            ..SinkRecord::default()
        })
        .collect()
}

/// One way of doing a batch's work; returns the records handled.
type Step<'a> = Box<dyn FnMut() -> usize + 'a>;

struct Contender<'a> {
    name: &'static str,
    step: Step<'a>,
    rates: Vec<f64>,
    rust_allocations: f64,
    malloc_calls: f64,
}

impl<'a> Contender<'a> {
    fn new(name: &'static str, step: Step<'a>) -> Contender<'a> {
        Contender {
            name,
            step,
            rates: Vec::new(),
            rust_allocations: 0.0,
            malloc_calls: 0.0,
        }
    }

    fn run(&mut self, batches: usize) -> f64 {
        let started = Instant::now();
        let mut records = 0;
        for _ in 0..batches {
            records += (self.step)();
        }
        records as f64 / started.elapsed().as_secs_f64()
    }

    fn count_allocations(&mut self) {
        let rust_before = RUST_ALLOCATIONS.load(Ordering::Relaxed);
        let malloc_before = MALLOC_CALLS.load(Ordering::Relaxed);
        COUNTING.store(true, Ordering::Relaxed);
        for _ in 0..COUNTED_BATCHES {
            (self.step)();
        }
        COUNTING.store(false, Ordering::Relaxed);
        let per_batch = |after: u64, before: u64| (after - before) as f64 / COUNTED_BATCHES as f64;
        self.rust_allocations = per_batch(RUST_ALLOCATIONS.load(Ordering::Relaxed), rust_before);
        self.malloc_calls = per_batch(MALLOC_CALLS.load(Ordering::Relaxed), malloc_before);
    }

    fn median(&self) -> f64 {
        let mut rates = self.rates.clone();
        rates.sort_by(|a, b| a.total_cmp(b));
        rates[rates.len() / 2]
    }
}

fn compete(contenders: &mut [Contender<'_>], batches_per_run: usize) {
    for contender in contenders.iter_mut() {
        contender.run(batches_per_run / 4); // warm-up
        contender.count_allocations();
    }
    for round in 0..ROUNDS {
        // Rotate who goes first so that no path always runs right after another.
        let n = contenders.len();
        for i in 0..n {
            let contender = &mut contenders[(round + i) % n];
            let rate = contender.run(batches_per_run);
            contender.rates.push(rate);
        }
    }
}

fn report(what: &str, contenders: &[Contender<'_>]) {
    let abi = contenders[0].median();
    let native_module = contenders[1].median();
    let direct = contenders[2].median();
    println!(
        "abi {what}: {abi:.0} rec/s; native: {direct:.0} rec/s; ratio {:.3}",
        abi / direct
    );
    println!(
        "    native module (add_native, same ABI objects, no dlopen): {native_module:.0} rec/s; abi/native-module ratio {:.3}",
        abi / native_module
    );
    for contender in contenders {
        let rates: Vec<String> = contender
            .rates
            .iter()
            .map(|r| format!("{:.2}M", r / 1e6))
            .collect();
        println!("    {:<14} runs: {}", contender.name, rates.join(" "));
    }
    let malloc = |c: &Contender<'_>| {
        if malloc_counter::AVAILABLE {
            format!("{:.0}", c.malloc_calls)
        } else {
            "n/a".to_string()
        }
    };
    println!("    allocations per batch of {BATCH_SIZE} (worker-side Rust allocator / all malloc calls in the process):");
    for contender in contenders {
        println!(
            "      {:<14} {:>7.0} / {:>7}",
            contender.name,
            contender.rust_allocations,
            malloc(contender)
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument has nothing to select here.
    let library = release_plugin();
    let plugin_path =
        std::env::temp_dir().join(format!("kconnect-abi-bench-{}", std::process::id()));
    std::fs::create_dir_all(&plugin_path).expect("a temporary plugin.path");
    std::fs::copy(&library, plugin_path.join("libkconnect_testing_plugin.so"))
        .expect("the plugin library is copied");
    let loaded = PluginRegistry::scan(std::slice::from_ref(&plugin_path));
    assert!(loaded.failures().is_empty(), "{:?}", loaded.failures());
    let native = PluginRegistry::new();
    native
        .add_native(kconnect_testing_plugin::kconnect_plugin_module(), "native")
        .expect("the linked-in plugin registers");
    println!(
        "ABI benchmark: batches of {BATCH_SIZE} records, {VALUE_BYTES}-byte STRING values, {ROUNDS} interleaved rounds, medians"
    );

    // Source poll.
    let mut abi_source = source_handle(&loaded);
    let mut module_source = source_handle(&native);
    let mut direct_source = BenchSourceTask::default();
    direct_source
        .start(bench_config(), DetachedContext::task_context())
        .expect("the bench source starts");
    let timeout = Duration::from_millis(0);
    let mut sources = vec![
        Contender::new(
            "abi (.so)",
            Box::new(|| black_box(abi_source.poll(timeout).expect("poll")).len()),
        ),
        Contender::new(
            "native module",
            Box::new(|| black_box(module_source.poll(timeout).expect("poll")).len()),
        ),
        Contender::new(
            "direct",
            Box::new(|| black_box(direct_source.poll(timeout).expect("poll")).len()),
        ),
    ];
    compete(&mut sources, SOURCE_BATCHES_PER_RUN);
    report("source poll", &sources);
    drop(sources);

    // Sink put.
    let batch = sink_batch();
    let mut abi_sink = sink_handle(&loaded);
    let mut module_sink = sink_handle(&native);
    let mut direct_sink = BenchSinkTask::default();
    direct_sink
        .start(bench_config(), DetachedContext::task_context())
        .expect("the bench sink starts");
    let mut sinks = vec![
        Contender::new(
            "abi (.so)",
            Box::new(|| {
                abi_sink.put(black_box(&batch)).expect("put");
                batch.len()
            }),
        ),
        Contender::new(
            "native module",
            Box::new(|| {
                module_sink.put(black_box(&batch)).expect("put");
                batch.len()
            }),
        ),
        Contender::new(
            "direct",
            Box::new(|| {
                direct_sink.put(black_box(&batch)).expect("put");
                batch.len()
            }),
        ),
    ];
    compete(&mut sinks, SINK_BATCHES_PER_RUN);
    report("sink put", &sinks);
    drop(sinks);
    let (records, bytes) = direct_sink.totals();
    assert_eq!(
        bytes,
        records * VALUE_BYTES as u64,
        "the direct sink saw every value"
    );

    let _ = std::fs::remove_dir_all(&plugin_path);
}
