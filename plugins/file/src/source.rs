//! `FileStreamSourceConnector` and its task: lines of a file (or stdin) become records.
//!
//! Invariants of a running file task: `line_end` is the byte position just after the last line
//! returned, and `read_position - line_end` equals the bytes buffered in the [`LineBuffer`]
//! (both are reset together on truncation or rotation).

use crate::lines::LineBuffer;
use crate::{
    parse_config, source_config_def, FileConnectorError, FILENAME_FIELD, FILE_CONFIG,
    POSITION_FIELD, TASK_BATCH_SIZE_CONFIG, TOPIC_CONFIG,
};
use kconnect_plugin_api::abi_stable::rvec;
use kconnect_plugin_api::abi_stable::std_types::{ROption, RString, Tuple2};
use kconnect_plugin_api::{
    Config, ConfigDef, ConnectError, ConnectRecord, ConnectResult, Connector, ConnectorContext,
    PluginClass, Schema, SchemaRef, SchemaType, SourceConnector, SourceMap, SourceRecord,
    SourceTask, TaskContext, Value,
};
use std::borrow::Cow;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Longest sleep while waiting for data, so that growth is noticed quickly and a poll never
/// overruns its timeout by much.
const IDLE_STEP: Duration = Duration::from_millis(100);
/// Upper bound of the capacity reserved for a batch, whatever `batch.size` says.
const MAX_BATCH_RESERVE: usize = 8192;
/// Bytes read from stdin at a time.
const STDIN_CHUNK: usize = 8192;
/// Chunks of stdin the reader thread may get ahead of the task.
const STDIN_QUEUE: usize = 64;

/// Reads lines from a file or standard input (Kafka's `FileStreamSourceConnector`).
#[derive(Default)]
pub struct FileStreamSourceConnector {
    config: Option<Config>,
}

impl PluginClass for FileStreamSourceConnector {
    const CLASS: &'static str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
    const DOC: &'static str = "Reads lines from a file or standard input into a topic.";
}

impl Connector for FileStreamSourceConnector {
    fn config_def(&self) -> ConfigDef {
        source_config_def()
    }

    fn validate(&self, config: &Config) -> Vec<kconnect_plugin_api::ConfigValue> {
        crate::validate_config(&source_config_def(), config)
    }

    fn start(&mut self, config: Config, _context: ConnectorContext) -> ConnectResult<()> {
        parse_config(&source_config_def(), &config)?;
        self.config = Some(config);
        Ok(())
    }

    fn task_configs(&mut self, _max_tasks: usize) -> ConnectResult<Vec<Config>> {
        // Only one reader per file makes sense, so there is one task whatever tasks.max says.
        let config = self
            .config
            .clone()
            .ok_or(FileConnectorError::NotStarted("taskConfigs"))?;
        Ok(vec![config])
    }

    fn stop(&mut self) -> ConnectResult<()> {
        self.config = None;
        Ok(())
    }
}

impl SourceConnector for FileStreamSourceConnector {
    type Task = FileStreamSourceTask;
    // Offsets are byte positions in a file only appended to: a restart resumes exactly there.
    const EXACTLY_ONCE_SUPPORT: bool = true;
}

/// The task of [`FileStreamSourceConnector`] (Kafka's `FileStreamSourceTask`).
#[derive(Default)]
pub struct FileStreamSourceTask {
    running: Option<RunningSource>,
}

impl SourceTask for FileStreamSourceTask {
    fn start(&mut self, config: Config, context: TaskContext) -> ConnectResult<()> {
        self.running = Some(RunningSource::start(&config, &context)?);
        Ok(())
    }

    fn poll(&mut self, timeout: Duration) -> ConnectResult<Vec<SourceRecord>> {
        let running = self
            .running
            .as_mut()
            .ok_or(FileConnectorError::NotStarted("poll"))?;
        Ok(running.poll(timeout)?)
    }

    fn stop(&mut self) -> ConnectResult<()> {
        if let Some(running) = self.running.take() {
            log::trace!("Stopping FileStreamSourceTask for {}", running.input.name());
        }
        Ok(())
    }
}

struct RunningSource {
    topic: RString,
    batch_size: usize,
    /// One schema per task; every record points at it.
    value_schema: SchemaRef,
    /// `{"filename": …}`, shared: every record clones a reference to it.
    partition: SourceMap,
    lines: LineBuffer,
    input: Input,
}

/// What a read attempt produced.
enum Fill {
    /// Bytes were added to the line buffer.
    Data,
    /// Nothing new for now.
    Idle,
}

impl RunningSource {
    fn start(config: &Config, context: &TaskContext) -> Result<RunningSource, ConnectError> {
        let parsed = parse_config(&source_config_def(), config)?;
        let topic = RString::from(parsed.string(TOPIC_CONFIG));
        // Kafka returns a batch as soon as it holds batch.size records, so 0 or less acts as 1.
        let batch_size = parsed.int(TASK_BATCH_SIZE_CONFIG).max(1) as usize;
        let (partition, input) = match parsed.non_empty_string(FILE_CONFIG) {
            None => (
                SourceMap::new().with(FILENAME_FIELD, Value::Null),
                Input::Stdin(StdinInput::start()?),
            ),
            Some(filename) => {
                // Fail at start rather than at the first poll, so the task never shows RUNNING
                // on a path that cannot work (Kafka's task keeps polling a directory silently).
                if Path::new(filename).is_dir() {
                    return Err(FileConnectorError::SourceIsDirectory {
                        path: filename.to_string(),
                    }
                    .into());
                }
                let partition = SourceMap::new().with(FILENAME_FIELD, filename);
                let stored_position = stored_position(filename, context.offset(&partition))?;
                if let Some(position) = stored_position {
                    log::debug!("Found previous offset {position} for {filename}");
                }
                (
                    partition,
                    Input::File(FileInput::new(filename, stored_position)),
                )
            }
        };
        Ok(RunningSource {
            topic,
            batch_size,
            value_schema: SchemaRef::new(Schema::primitive(SchemaType::String)),
            partition: partition.shared(),
            lines: LineBuffer::default(),
            input,
        })
    }

    fn poll(&mut self, timeout: Duration) -> Result<Vec<SourceRecord>, FileConnectorError> {
        let started = Instant::now();
        // A timeout too large for the clock is cut short: returning an empty batch early is fine.
        let deadline = started.checked_add(timeout).unwrap_or(started + IDLE_STEP);
        let mut batch = Vec::new();
        loop {
            self.take_lines(&mut batch);
            if batch.len() >= self.batch_size {
                return Ok(batch);
            }
            // Once something is ready to return, never wait for more.
            let wait_until = if batch.is_empty() {
                deadline
            } else {
                Instant::now()
            };
            match self.input.fill(&mut self.lines, wait_until)? {
                Fill::Data => continue,
                Fill::Idle => {}
            }
            if !batch.is_empty() {
                return Ok(batch);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(batch);
            }
            std::thread::sleep(IDLE_STEP.min(deadline - now));
        }
    }

    /// Moves complete lines from the buffer into `batch`, up to the batch size.
    fn take_lines(&mut self, batch: &mut Vec<SourceRecord>) {
        let mut timestamp = None;
        while batch.len() < self.batch_size {
            let Some((text, length)) = self.lines.next_line() else {
                return;
            };
            let position = match &mut self.input {
                Input::File(file) => {
                    file.line_end += length;
                    Value::Int64(file.line_end as i64)
                }
                Input::Stdin(_) => Value::Null,
            };
            if batch.capacity() == 0 {
                batch.reserve_exact(self.batch_size.min(MAX_BATCH_RESERVE));
            }
            let timestamp = *timestamp.get_or_insert_with(now_millis);
            let text = match text {
                Cow::Borrowed(text) => RString::from(text),
                Cow::Owned(text) => RString::from(text),
            };
            batch.push(SourceRecord {
                source_partition: self.partition.clone(),
                source_offset: SourceMap::from_entries(rvec![Tuple2(
                    RString::from(POSITION_FIELD),
                    position
                )]),
                record: ConnectRecord {
                    topic: self.topic.clone(),
                    value_schema: ROption::RSome(self.value_schema.clone()),
                    value: Value::String(text),
                    timestamp: ROption::RSome(timestamp),
                    ..ConnectRecord::default()
                },
            });
        }
    }
}

/// The stored byte position, if any; anything but a non-negative integer is an error.
fn stored_position(
    filename: &str,
    offset: Option<SourceMap>,
) -> Result<Option<u64>, FileConnectorError> {
    let Some(offset) = offset else {
        return Ok(None);
    };
    match offset.get(POSITION_FIELD) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .and_then(|p| u64::try_from(p).ok())
            .map(Some)
            .ok_or_else(|| FileConnectorError::StoredOffset {
                path: filename.to_string(),
                found: format!("{} {value}", value.type_name()),
            }),
    }
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

enum Input {
    File(FileInput),
    Stdin(StdinInput),
}

impl Input {
    fn name(&self) -> &str {
        match self {
            Input::File(file) => &file.filename,
            Input::Stdin(_) => "stdin",
        }
    }

    fn fill(
        &mut self,
        lines: &mut LineBuffer,
        wait_until: Instant,
    ) -> Result<Fill, FileConnectorError> {
        match self {
            Input::File(file) => file.fill(lines),
            Input::Stdin(stdin) => Ok(stdin.fill(lines, wait_until)),
        }
    }
}

/// A file followed as it grows, possibly not there yet.
struct FileInput {
    filename: String,
    path: PathBuf,
    /// The stored position, used by the first open only.
    resume_at: Option<u64>,
    open: Option<OpenFile>,
    /// Byte position just after the last line returned.
    line_end: u64,
    warned_missing: bool,
}

struct OpenFile {
    file: File,
    identity: Option<FileIdentity>,
    /// Byte position of the next read.
    read_position: u64,
}

impl FileInput {
    fn new(filename: &str, resume_at: Option<u64>) -> FileInput {
        FileInput {
            filename: filename.to_string(),
            path: PathBuf::from(filename),
            resume_at,
            open: None,
            line_end: 0,
            warned_missing: false,
        }
    }

    fn read_error(&self, source: io::Error) -> FileConnectorError {
        FileConnectorError::Read {
            path: self.filename.clone(),
            source,
        }
    }

    fn fill(&mut self, lines: &mut LineBuffer) -> Result<Fill, FileConnectorError> {
        if self.open.is_none() && !self.try_open(lines)? {
            return Ok(Fill::Idle);
        }
        let Some(open) = self.open.as_mut() else {
            return Ok(Fill::Idle);
        };
        match lines.read_from(&mut open.file) {
            Ok(0) => {}
            Ok(read) => {
                open.read_position += read as u64;
                log::trace!("Read {read} bytes from {}", self.filename);
                return Ok(Fill::Data);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(Fill::Data),
            Err(e) => return Err(self.read_error(e)),
        }
        // At the end of what is there: only now can a truncation or a replacement be told apart
        // from a file that simply has not grown.
        self.check_truncated_or_replaced(lines)
    }

    /// Opens the file if it exists; `false` while it does not.
    fn try_open(&mut self, lines: &mut LineBuffer) -> Result<bool, FileConnectorError> {
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !self.warned_missing {
                    log::warn!(
                        "Couldn't find file {} for FileStreamSourceTask, waiting for it to be created",
                        self.filename
                    );
                    self.warned_missing = true;
                }
                return Ok(false);
            }
            Err(source) => {
                return Err(FileConnectorError::OpenSource {
                    path: self.filename.clone(),
                    source,
                })
            }
        };
        let metadata = file.metadata().map_err(|e| self.read_error(e))?;
        let mut start = self.resume_at.take().unwrap_or(0);
        if start > metadata.len() {
            log::warn!(
                "Stored position {start} is beyond the end of {} ({} bytes): the file was truncated or replaced, reading it from the beginning",
                self.filename,
                metadata.len()
            );
            start = 0;
        }
        if start > 0 {
            file.seek(SeekFrom::Start(start))
                .map_err(|e| self.read_error(e))?;
            log::debug!("Skipped to offset {start} in {}", self.filename);
        }
        lines.clear();
        self.line_end = start;
        self.warned_missing = false;
        self.open = Some(OpenFile {
            file,
            identity: FileIdentity::of(&metadata),
            read_position: start,
        });
        log::debug!("Opened {} for reading", self.filename);
        Ok(true)
    }

    fn check_truncated_or_replaced(
        &mut self,
        lines: &mut LineBuffer,
    ) -> Result<Fill, FileConnectorError> {
        let Some(open) = self.open.as_mut() else {
            return Ok(Fill::Idle);
        };
        let metadata = match fs::metadata(&self.path) {
            Ok(metadata) => metadata,
            // Moved away and not recreated yet: keep the old file until a new one appears.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Fill::Idle),
            Err(e) => return Err(self.read_error(e)),
        };
        let identity = FileIdentity::of(&metadata);
        if identity.is_some() && identity != open.identity {
            log::warn!(
                "{} was replaced by another file (rotation?); reading the new file from the beginning",
                self.filename
            );
            self.drop_partial_line(lines);
            self.open = None;
            return Ok(if self.try_open(lines)? {
                Fill::Data
            } else {
                Fill::Idle
            });
        }
        if metadata.len() < open.read_position {
            log::warn!(
                "{} shrank from {} to {} bytes (truncated?); reading it again from the beginning",
                self.filename,
                open.read_position,
                metadata.len()
            );
            open.file
                .seek(SeekFrom::Start(0))
                .map_err(|e| FileConnectorError::Read {
                    path: self.filename.clone(),
                    source: e,
                })?;
            open.read_position = 0;
            self.drop_partial_line(lines);
            self.line_end = 0;
            return Ok(Fill::Data);
        }
        Ok(Fill::Idle)
    }

    fn drop_partial_line(&self, lines: &mut LineBuffer) {
        if lines.buffered() > 0 {
            log::warn!(
                "Dropping {} bytes of an unfinished last line of {}",
                lines.buffered(),
                self.filename
            );
        }
        lines.clear();
    }
}

/// Tells a file apart from another one later found under the same path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileIdentity {
    device: u64,
    inode: u64,
}

impl FileIdentity {
    #[cfg(unix)]
    fn of(metadata: &Metadata) -> Option<FileIdentity> {
        use std::os::unix::fs::MetadataExt;
        Some(FileIdentity {
            device: metadata.dev(),
            inode: metadata.ino(),
        })
    }

    /// Without inodes only truncation can be detected.
    #[cfg(not(unix))]
    fn of(_metadata: &Metadata) -> Option<FileIdentity> {
        None
    }
}

/// Standard input, read by a helper thread because a read from it cannot be given a timeout.
///
/// The thread stays blocked in its read after the task stops and ends at the next chunk or at
/// the end of input; stdin is shared by the whole process, so there is no way to interrupt it.
struct StdinInput {
    chunks: Receiver<Vec<u8>>,
    ended: bool,
}

impl StdinInput {
    fn start() -> Result<StdinInput, FileConnectorError> {
        let (sender, chunks) = mpsc::sync_channel(STDIN_QUEUE);
        std::thread::Builder::new()
            .name("file-source-stdin".to_string())
            .spawn(move || read_stdin(sender))
            .map_err(|source| FileConnectorError::OpenSource {
                path: "stdin".to_string(),
                source,
            })?;
        Ok(StdinInput {
            chunks,
            ended: false,
        })
    }

    fn fill(&mut self, lines: &mut LineBuffer, wait_until: Instant) -> Fill {
        let wait = wait_until.saturating_duration_since(Instant::now());
        match self.chunks.recv_timeout(wait) {
            Ok(chunk) => {
                lines.push(&chunk);
                Fill::Data
            }
            Err(RecvTimeoutError::Timeout) => Fill::Idle,
            Err(RecvTimeoutError::Disconnected) => {
                if !self.ended {
                    log::info!(
                        "Reached the end of stdin; FileStreamSourceTask has nothing more to read"
                    );
                    self.ended = true;
                }
                Fill::Idle
            }
        }
    }
}

fn read_stdin(sender: SyncSender<Vec<u8>>) {
    let mut stdin = io::stdin();
    loop {
        let mut chunk = vec![0; STDIN_CHUNK];
        match stdin.read(&mut chunk) {
            Ok(0) => return,
            Ok(read) => {
                chunk.truncate(read);
                if sender.send(chunk).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                log::error!("Error reading stdin for FileStreamSourceTask: {e}");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kconnect_plugin_api::abi_stable::sabi_trait::TD_Opaque;
    use kconnect_plugin_api::abi_stable::std_types::RVec;
    use kconnect_plugin_api::context::{DetachedContext, FfiTaskContext, FfiTaskContext_TO};
    use kconnect_plugin_api::ErrorKind;
    use std::io::Write;
    use tempfile::TempDir;

    /// The worker's offset store, reduced to a list of (partition, offset) pairs.
    struct StoredOffsets(Vec<(SourceMap, SourceMap)>);

    impl FfiTaskContext for StoredOffsets {
        fn offsets(&self, partitions: RVec<SourceMap>) -> RVec<ROption<SourceMap>> {
            partitions
                .iter()
                .map(|wanted| {
                    self.0
                        .iter()
                        .find(|(partition, _)| partition == wanted)
                        .map(|(_, offset)| offset.clone())
                        .into()
                })
                .collect()
        }

        fn request_commit(&self) {}
    }

    fn context_with(stored: Vec<(SourceMap, SourceMap)>) -> TaskContext {
        TaskContext::new(FfiTaskContext_TO::from_value(
            StoredOffsets(stored),
            TD_Opaque,
        ))
    }

    fn config(file: &Path, extra: &[(&str, &str)]) -> Config {
        let mut config = Config::new();
        config.insert(FILE_CONFIG.into(), file.display().to_string());
        config.insert(TOPIC_CONFIG.into(), "lines".into());
        for (key, value) in extra {
            config.insert(key.to_string(), value.to_string());
        }
        config
    }

    fn started_task(file: &Path, extra: &[(&str, &str)]) -> FileStreamSourceTask {
        let mut task = FileStreamSourceTask::default();
        task.start(config(file, extra), DetachedContext::task_context())
            .unwrap();
        task
    }

    fn append(path: &Path, text: &str) {
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    /// (value, position) of each record.
    fn lines_and_positions(records: &[SourceRecord]) -> Vec<(String, i64)> {
        records
            .iter()
            .map(|r| {
                let position = r.source_offset.get(POSITION_FIELD).and_then(Value::as_i64);
                (
                    r.record.value.as_str().unwrap().to_string(),
                    position.unwrap(),
                )
            })
            .collect()
    }

    fn poll_now(task: &mut FileStreamSourceTask) -> Vec<(String, i64)> {
        lines_and_positions(&task.poll(Duration::ZERO).unwrap())
    }

    fn owned(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
        expected.iter().map(|(s, p)| (s.to_string(), *p)).collect()
    }

    #[test]
    fn emits_one_record_per_line_with_byte_positions() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("input.txt");
        append(&path, "alpha\nbeta\r\ngamma\rhéllo\n");
        let mut task = started_task(&path, &[]);
        let records = task.poll(Duration::ZERO).unwrap();
        assert_eq!(
            lines_and_positions(&records),
            owned(&[("alpha", 6), ("beta", 12), ("gamma", 18), ("héllo", 25)])
        );
        let first = &records[0];
        assert_eq!(
            first.source_partition,
            SourceMap::new().with(FILENAME_FIELD, path.display().to_string().as_str())
        );
        assert_eq!(first.record.topic.as_str(), "lines");
        let schema = first.record.value_schema().unwrap();
        assert_eq!(schema.schema_type, SchemaType::String);
        assert!(!schema.optional);
        assert!(first.record.timestamp.is_some());
        // One schema per task, shared by every record.
        assert!(std::ptr::eq(
            &**records[0].record.value_schema().unwrap(),
            &**records[3].record.value_schema().unwrap()
        ));
        assert_eq!(poll_now(&mut task), vec![]);
        task.stop().unwrap();
    }

    #[test]
    fn resumes_from_the_stored_offset() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("input.txt");
        append(&path, "one\ntwo\nthree\n");
        let filename = path.display().to_string();
        let partition = SourceMap::new().with(FILENAME_FIELD, filename.as_str());
        let other = SourceMap::new().with(FILENAME_FIELD, "/elsewhere");
        let context = context_with(vec![
            (other, SourceMap::new().with(POSITION_FIELD, 1_i64)),
            (partition, SourceMap::new().with(POSITION_FIELD, 4_i64)),
        ]);
        let mut task = FileStreamSourceTask::default();
        task.start(config(&path, &[]), context).unwrap();
        assert_eq!(poll_now(&mut task), owned(&[("two", 8), ("three", 14)]));
    }

    #[test]
    fn stored_offset_of_the_wrong_type_fails_the_start() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("input.txt");
        let partition = SourceMap::new().with(FILENAME_FIELD, path.display().to_string());
        let context = context_with(vec![(
            partition,
            SourceMap::new().with(POSITION_FIELD, "seven"),
        )]);
        let mut task = FileStreamSourceTask::default();
        let error = task.start(config(&path, &[]), context).unwrap_err();
        assert!(
            error
                .message
                .contains("Offset position is the incorrect type"),
            "{}",
            error.message
        );
    }

    #[test]
    fn stored_offset_beyond_the_end_restarts_from_the_beginning() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("input.txt");
        append(&path, "short\n");
        let partition = SourceMap::new().with(FILENAME_FIELD, path.display().to_string());
        let context = context_with(vec![(
            partition,
            SourceMap::new().with(POSITION_FIELD, 1000_i64),
        )]);
        let mut task = FileStreamSourceTask::default();
        task.start(config(&path, &[]), context).unwrap();
        assert_eq!(poll_now(&mut task), owned(&[("short", 6)]));
    }

    #[test]
    fn follows_a_growing_file() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("input.txt");
        append(&path, "first\n");
        let mut task = started_task(&path, &[]);
        assert_eq!(poll_now(&mut task), owned(&[("first", 6)]));
        // Nothing new: the poll waits (briefly) and returns an empty batch.
        assert!(task.poll(Duration::from_millis(30)).unwrap().is_empty());
        append(&path, "second\nthird\n");
        assert_eq!(poll_now(&mut task), owned(&[("second", 13), ("third", 19)]));
    }

    #[test]
    fn holds_back_a_last_line_until_its_newline_arrives() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("input.txt");
        append(&path, "one\ntwo");
        let mut task = started_task(&path, &[]);
        assert_eq!(poll_now(&mut task), owned(&[("one", 4)]));
        assert_eq!(poll_now(&mut task), vec![]);
        append(&path, "\nthree\r");
        assert_eq!(poll_now(&mut task), owned(&[("two", 8)]));
        // A trailing \r may be the start of \r\n: wait for the next byte.
        append(&path, "\n");
        assert_eq!(poll_now(&mut task), owned(&[("three", 15)]));
    }

    #[test]
    fn batch_size_limits_each_poll() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("input.txt");
        append(&path, "a\nb\nc\nd\ne\n");
        let mut task = started_task(&path, &[(TASK_BATCH_SIZE_CONFIG, "2")]);
        assert_eq!(poll_now(&mut task), owned(&[("a", 2), ("b", 4)]));
        assert_eq!(poll_now(&mut task), owned(&[("c", 6), ("d", 8)]));
        assert_eq!(poll_now(&mut task), owned(&[("e", 10)]));
    }

    #[test]
    fn truncation_restarts_from_the_beginning() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("input.txt");
        append(&path, "old line one\nold line two\npartial");
        let mut task = started_task(&path, &[]);
        assert_eq!(
            poll_now(&mut task),
            owned(&[("old line one", 13), ("old line two", 26)])
        );
        // File::create truncates in place: same inode, shorter content.
        fs::File::create(&path)
            .unwrap()
            .write_all(b"new\n")
            .unwrap();
        assert_eq!(poll_now(&mut task), owned(&[("new", 4)]));
        append(&path, "more\n");
        assert_eq!(poll_now(&mut task), owned(&[("more", 9)]));
    }

    #[test]
    fn replaced_file_is_read_from_the_beginning() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("input.txt");
        append(&path, "before rotation\n");
        let mut task = started_task(&path, &[]);
        assert_eq!(poll_now(&mut task), owned(&[("before rotation", 16)]));
        // Longer than the old content, so only the new inode gives the rotation away.
        let replacement = dir.path().join("replacement.txt");
        append(&replacement, "after rotation, line one\nline two\n");
        fs::rename(&replacement, &path).unwrap();
        assert_eq!(
            poll_now(&mut task),
            owned(&[("after rotation, line one", 25), ("line two", 34)])
        );
    }

    #[test]
    fn waits_for_a_missing_file_to_be_created() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("later.txt");
        let mut task = started_task(&path, &[]);
        assert!(task.poll(Duration::ZERO).unwrap().is_empty());
        assert!(task.poll(Duration::from_millis(20)).unwrap().is_empty());
        append(&path, "finally\n");
        assert_eq!(poll_now(&mut task), owned(&[("finally", 8)]));
    }

    #[test]
    fn unreadable_file_fails_the_poll() {
        let dir = TempDir::new().unwrap();
        // Opening a path below a regular file fails with something other than "not found".
        let regular = dir.path().join("regular");
        append(&regular, "x\n");
        let mut task = started_task(&regular.join("child.txt"), &[]);
        let error = task.poll(Duration::ZERO).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Failed);
        assert!(error.message.contains("child.txt"), "{}", error.message);

        // A path that became a directory after start opens but cannot be read.
        let later = dir.path().join("later");
        let mut task = started_task(&later, &[]);
        fs::create_dir(&later).unwrap();
        let error = task.poll(Duration::ZERO).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Failed);
    }

    #[test]
    fn a_directory_fails_the_start_naming_the_path() {
        let dir = TempDir::new().unwrap();
        let mut task = FileStreamSourceTask::default();
        let error = task
            .start(config(dir.path(), &[]), DetachedContext::task_context())
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Failed);
        assert!(
            error.message.contains(&dir.path().display().to_string())
                && error.message.contains("is a directory"),
            "{}",
            error.message
        );
    }

    #[test]
    fn poll_before_start_is_an_error() {
        let mut task = FileStreamSourceTask::default();
        let error = task.poll(Duration::ZERO).unwrap_err();
        assert!(error.message.contains("not started"), "{}", error.message);
    }

    #[test]
    fn connector_produces_exactly_one_task_config() {
        let mut connector = FileStreamSourceConnector::default();
        let given = config(Path::new("/tmp/in.txt"), &[("tasks.max", "4")]);
        connector
            .start(given.clone(), DetachedContext::connector_context())
            .unwrap();
        assert_eq!(connector.task_configs(4).unwrap(), vec![given]);
        connector.stop().unwrap();
    }

    #[test]
    fn validate_reports_missing_topic_and_bad_batch_size() {
        let connector = FileStreamSourceConnector::default();
        let mut given = Config::new();
        given.insert(TASK_BATCH_SIZE_CONFIG.into(), "many".into());
        let values = connector.validate(&given);
        let errors_of = |name: &str| {
            values
                .iter()
                .find(|v| v.name == name)
                .map(|v| v.errors.clone())
                .unwrap()
        };
        assert_eq!(
            errors_of(TOPIC_CONFIG),
            vec!["Missing required configuration \"topic\" which has no default value."]
        );
        assert_eq!(
            errors_of(TASK_BATCH_SIZE_CONFIG),
            vec!["Invalid value many for configuration batch.size: Not a number of type INT"]
        );
        assert!(errors_of(FILE_CONFIG).is_empty());

        given.insert(TOPIC_CONFIG.into(), " ".into());
        given.insert(TASK_BATCH_SIZE_CONFIG.into(), "10".into());
        let values = connector.validate(&given);
        assert_eq!(values.iter().map(|v| v.errors.len()).sum::<usize>(), 1);
    }

    #[test]
    fn start_without_topic_is_a_config_error() {
        let mut connector = FileStreamSourceConnector::default();
        let mut given = Config::new();
        given.insert(FILE_CONFIG.into(), "/tmp/in.txt".into());
        let error = connector
            .start(given.clone(), DetachedContext::connector_context())
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Config);
        let mut task = FileStreamSourceTask::default();
        let error = task
            .start(given, DetachedContext::task_context())
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Config);
        assert!(error.message.contains("\"topic\""), "{}", error.message);
    }
}
