//! `FileStreamSinkConnector` and its task: each record's value becomes a line of a file (or of
//! stdout).
//!
//! Invariant: everything `put` accepted is in the operating system's hands once `flush`,
//! `pre_commit` or `stop` returned successfully.

use crate::{parse_config, sink_config_def, FileConnectorError, FILE_CONFIG};
use kconnect_convert::push_java_text;
use kconnect_plugin_api::{
    Config, ConfigDef, ConnectError, ConnectResult, Connector, ConnectorContext, PartitionOffset,
    PluginClass, Schema, SinkConnector, SinkRecord, SinkTask, TaskContext, Value,
};
use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};

/// Writes record values to a file or standard output (Kafka's `FileStreamSinkConnector`).
#[derive(Default)]
pub struct FileStreamSinkConnector {
    config: Option<Config>,
}

impl PluginClass for FileStreamSinkConnector {
    const CLASS: &'static str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
    const DOC: &'static str = "Appends record values to a file or standard output, one per line.";
}

impl Connector for FileStreamSinkConnector {
    fn config_def(&self) -> ConfigDef {
        sink_config_def()
    }

    fn validate(&self, config: &Config) -> Vec<kconnect_plugin_api::ConfigValue> {
        crate::validate_config(&sink_config_def(), config)
    }

    fn start(&mut self, config: Config, _context: ConnectorContext) -> ConnectResult<()> {
        parse_config(&sink_config_def(), &config)?;
        self.config = Some(config);
        Ok(())
    }

    fn task_configs(&mut self, max_tasks: usize) -> ConnectResult<Vec<Config>> {
        let config = self
            .config
            .as_ref()
            .ok_or(FileConnectorError::NotStarted("taskConfigs"))?;
        Ok(vec![config.clone(); max_tasks])
    }

    fn stop(&mut self) -> ConnectResult<()> {
        self.config = None;
        Ok(())
    }
}

impl SinkConnector for FileStreamSinkConnector {
    type Task = FileStreamSinkTask;
}

/// The task of [`FileStreamSinkConnector`] (Kafka's `FileStreamSinkTask`).
#[derive(Default)]
pub struct FileStreamSinkTask {
    output: Option<Output>,
}

struct Output {
    /// The file name, or `stdout`, for messages.
    target: String,
    writer: BufWriter<Box<dyn Write + Send>>,
    /// One line as text, reused between records.
    line: String,
}

impl Output {
    /// Writes a value's line — Java's `println(Object)`: `null`, or the value's `toString()` — so
    /// that it reaches the file in one `write`: the buffer is emptied first when the line would
    /// not fit. Several tasks (or workers) appending to one file then never interleave within a
    /// line.
    fn write_line(&mut self, schema: Option<&Schema>, value: &Value) -> ConnectResult<()> {
        self.line.clear();
        push_java_text(&mut self.line, schema, value)
            .map_err(|e| ConnectError::failed(format!("Cannot print a record value: {e}")))?;
        self.line.push('\n');
        if self.writer.capacity() - self.writer.buffer().len() < self.line.len() {
            self.writer.flush().map_err(|e| self.write_error(e))?;
        }
        self.writer
            .write_all(self.line.as_bytes())
            .map_err(|e| self.write_error(e).into())
    }

    fn write_error(&self, source: io::Error) -> FileConnectorError {
        FileConnectorError::Write {
            target: self.target.clone(),
            source,
        }
    }

    fn flush(&mut self) -> Result<(), FileConnectorError> {
        log::trace!("Flushing output stream for {}", self.target);
        self.writer.flush().map_err(|e| self.write_error(e))
    }
}

impl FileStreamSinkTask {
    fn output(&mut self, call: &'static str) -> Result<&mut Output, FileConnectorError> {
        self.output
            .as_mut()
            .ok_or(FileConnectorError::NotStarted(call))
    }
}

impl SinkTask for FileStreamSinkTask {
    fn start(&mut self, config: Config, _context: TaskContext) -> ConnectResult<()> {
        let parsed = parse_config(&sink_config_def(), &config)?;
        let output = match parsed.non_empty_string(FILE_CONFIG) {
            None => Output {
                target: "stdout".to_string(),
                writer: BufWriter::new(Box::new(io::stdout())),
                line: String::new(),
            },
            Some(path) => {
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| FileConnectorError::OpenSink {
                        path: path.to_string(),
                        source,
                    })?;
                Output {
                    target: path.to_string(),
                    writer: BufWriter::new(Box::new(file)),
                    line: String::new(),
                }
            }
        };
        self.output = Some(output);
        Ok(())
    }

    fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
        let output = self.output("put")?;
        log::trace!("Writing {} records to {}", records.len(), output.target);
        for record in records {
            let schema = record.record.value_schema().map(|s| &**s);
            output.write_line(schema, &record.record.value)?;
        }
        Ok(())
    }

    fn flush(&mut self, _offsets: &[PartitionOffset]) -> ConnectResult<()> {
        Ok(self.output("flush")?.flush()?)
    }

    fn stop(&mut self) -> ConnectResult<()> {
        match self.output.take() {
            Some(mut output) => Ok(output.flush()?),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kconnect_plugin_api::context::DetachedContext;
    use kconnect_plugin_api::{
        ConnectRecord, ErrorKind, SchemaBuilder, SchemaType, Struct, TopicPartition, Value,
    };
    use std::fs;
    use std::path::Path;
    use tempfile::TempDir;

    fn sink_record(value: Value, offset: i64) -> SinkRecord {
        SinkRecord {
            kafka_offset: offset,
            record: ConnectRecord {
                kafka_partition: Some(0).into(),
                ..ConnectRecord::new("lines", None, value)
            },
            ..SinkRecord::default()
        }
    }

    fn started_task(path: &Path) -> FileStreamSinkTask {
        let mut config = Config::new();
        config.insert(FILE_CONFIG.into(), path.display().to_string());
        config.insert("topics".into(), "lines".into());
        let mut task = FileStreamSinkTask::default();
        task.start(config, DetachedContext::task_context()).unwrap();
        task
    }

    #[test]
    fn appends_one_line_per_record_and_flushes_on_pre_commit() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("out.txt");
        fs::write(&path, "already there\n").unwrap();
        let mut task = started_task(&path);
        task.put(&[
            sink_record(Value::from("first"), 0),
            sink_record(Value::from("second"), 1),
        ])
        .unwrap();
        let offsets = vec![PartitionOffset {
            partition: TopicPartition::new("lines", 0),
            offset: 2,
        }];
        assert_eq!(task.pre_commit(offsets.clone()).unwrap(), offsets);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "already there\nfirst\nsecond\n"
        );
        task.put(&[sink_record(Value::from("third"), 2)]).unwrap();
        task.flush(&[]).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "already there\nfirst\nsecond\nthird\n"
        );
        task.stop().unwrap();
    }

    #[test]
    fn creates_a_missing_file_and_flushes_on_stop() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("new.txt");
        let mut task = started_task(&path);
        assert!(path.exists());
        task.put(&[sink_record(Value::from("kept"), 0)]).unwrap();
        task.stop().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "kept\n");
    }

    #[test]
    fn renders_non_string_values_as_text() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("out.txt");
        let schema = SchemaBuilder::struct_()
            .field("id", SchemaBuilder::new(SchemaType::Int32).build_ref())
            .field("name", SchemaBuilder::new(SchemaType::String).build_ref())
            .build_ref();
        let structure = Struct::new(schema)
            .with("id", Value::Int32(7))
            .with("name", Value::from("x"));
        let mut task = started_task(&path);
        task.put(&[
            sink_record(Value::Null, 0),
            sink_record(Value::Int64(42), 1),
            sink_record(Value::Boolean(true), 2),
            sink_record(Value::Float64(1.5), 3),
            sink_record(Value::Struct(structure), 4),
            sink_record(
                Value::map_from([("a", Value::Int32(1)), ("b", Value::from("c"))]),
                5,
            ),
        ])
        .unwrap();
        task.flush(&[]).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "null\n42\ntrue\n1.5\nStruct{id=7,name=x}\n{a=1, b=c}\n"
        );
    }

    #[test]
    fn unopenable_file_fails_the_start() {
        let dir = TempDir::new().unwrap();
        let mut config = Config::new();
        // A directory cannot be opened for appending.
        config.insert(FILE_CONFIG.into(), dir.path().display().to_string());
        let mut task = FileStreamSinkTask::default();
        let error = task
            .start(config, DetachedContext::task_context())
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Failed);
        assert!(
            error.message.starts_with("Couldn't find or create file"),
            "{}",
            error.message
        );
    }

    #[test]
    fn put_before_start_is_an_error() {
        let mut task = FileStreamSinkTask::default();
        let error = task.put(&[sink_record(Value::Null, 0)]).unwrap_err();
        assert!(error.message.contains("not started"), "{}", error.message);
    }

    #[test]
    fn connector_needs_no_topics_and_gives_tasks_max_configs() {
        let connector = FileStreamSinkConnector::default();
        let mut given = Config::new();
        given.insert("topics".into(), "lines".into());
        let values = connector.validate(&given);
        assert_eq!(
            values.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
            vec![FILE_CONFIG]
        );
        assert!(values.iter().all(|v| v.errors.is_empty()));

        let mut connector = FileStreamSinkConnector::default();
        connector
            .start(given.clone(), DetachedContext::connector_context())
            .unwrap();
        assert_eq!(connector.task_configs(3).unwrap(), vec![given; 3]);
    }
}
