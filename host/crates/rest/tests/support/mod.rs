//! A small in-memory herder that keeps connectors in a map, and helpers to start a server on
//! 127.0.0.1:0 and talk to it. It exists only to exercise the HTTP layer.

#![allow(dead_code)]

use kconnect_herder_api::{
    ClusterView, ConfigInfo, ConfigInfos, ConfigKeyInfo, ConfigValueInfo, ConfigVersion,
    ConnectorInfo, ConnectorOffset, ConnectorOffsets, ConnectorState, ConnectorStateInfo,
    ConnectorTaskId, ConnectorType, Health, Herder, HerderError, LogControl, LoggerLevel, Message,
    PluginInfo, PluginType, PreviewRequest, PreviewResult, ServerInfo, State, TargetState,
    TaskInfo, TaskState, WorkerMode,
};
use kconnect_rest::{RestConfig, RestServer};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const WORKER_ID: &str = "127.0.0.1:8083";

#[derive(Clone)]
struct Stored {
    config: BTreeMap<String, String>,
    target: TargetState,
}

/// Connectors in a map; one task per connector. Knobs let tests provoke herder errors.
#[derive(Default)]
pub struct MapHerder {
    connectors: Mutex<BTreeMap<String, Stored>>,
    pub health: Mutex<Option<Health>>,
    /// When set, every connector lookup fails with this error.
    pub fail_lookups: Mutex<Option<HerderError>>,
    /// When set, `connectors()` sleeps this long (to provoke the request timeout).
    pub slow_listing: Mutex<Option<Duration>>,
    /// Offsets received by the last alter call.
    pub altered_offsets: Mutex<Option<ConnectorOffsets>>,
}

impl MapHerder {
    fn stored(&self, name: &str) -> Result<Stored, HerderError> {
        if let Some(error) = self.fail_lookups.lock().unwrap().clone() {
            return Err(error);
        }
        self.connectors
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .ok_or_else(|| HerderError::NotFound(format!("Connector {name} not found")))
    }

    fn connector_type(config: &BTreeMap<String, String>) -> ConnectorType {
        match config.get("connector.class").map(String::as_str) {
            Some(class) if class.contains("Sink") => ConnectorType::Sink,
            Some(class) if class.contains("Source") => ConnectorType::Source,
            _ => ConnectorType::Unknown,
        }
    }

    fn info(name: &str, stored: &Stored) -> ConnectorInfo {
        ConnectorInfo {
            name: name.to_string(),
            config: stored.config.clone(),
            tasks: vec![ConnectorTaskId {
                connector: name.to_string(),
                task: 0,
            }],
            connector_type: Self::connector_type(&stored.config),
        }
    }

    fn state_of(target: TargetState) -> State {
        match target {
            TargetState::Running => State::Running,
            TargetState::Paused => State::Paused,
            TargetState::Stopped => State::Stopped,
        }
    }

    fn status(name: &str, stored: &Stored, task_state: State) -> ConnectorStateInfo {
        ConnectorStateInfo {
            name: name.to_string(),
            connector: ConnectorState {
                state: Self::state_of(stored.target),
                worker_id: WORKER_ID.to_string(),
                trace: None,
            },
            tasks: vec![TaskState {
                id: 0,
                state: task_state,
                worker_id: WORKER_ID.to_string(),
                trace: None,
            }],
            connector_type: Self::connector_type(&stored.config),
        }
    }

    fn set_target(&self, name: &str, target: TargetState) -> Result<(), HerderError> {
        self.stored(name)?;
        if let Some(stored) = self.connectors.lock().unwrap().get_mut(name) {
            stored.target = target;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Herder for MapHerder {
    async fn server_info(&self) -> ServerInfo {
        ServerInfo {
            version: "0.1.0".into(),
            commit: "abc123".into(),
            kafka_cluster_id: "cluster-1".into(),
        }
    }

    async fn health(&self) -> Health {
        self.health
            .lock()
            .unwrap()
            .clone()
            .unwrap_or(Health::Healthy)
    }

    async fn connectors(&self) -> Vec<String> {
        let delay = *self.slow_listing.lock().unwrap();
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        self.connectors.lock().unwrap().keys().cloned().collect()
    }

    async fn connector_info(&self, name: &str) -> Result<ConnectorInfo, HerderError> {
        Ok(Self::info(name, &self.stored(name)?))
    }

    async fn connector_config(&self, name: &str) -> Result<BTreeMap<String, String>, HerderError> {
        Ok(self.stored(name)?.config)
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: BTreeMap<String, String>,
        allow_replace: bool,
        initial_state: Option<TargetState>,
    ) -> Result<(bool, ConnectorInfo), HerderError> {
        if !config.contains_key("connector.class") {
            return Err(HerderError::Invalid(
                "Connector config contains no connector type".into(),
            ));
        }
        let mut connectors = self.connectors.lock().unwrap();
        let existing = connectors.get(name).cloned();
        if existing.is_some() && !allow_replace {
            return Err(HerderError::Conflict(format!(
                "Connector {name} already exists"
            )));
        }
        let stored = Stored {
            config,
            target: existing
                .map(|old| old.target)
                .or(initial_state)
                .unwrap_or(TargetState::Running),
        };
        let created = !connectors.contains_key(name);
        connectors.insert(name.to_string(), stored.clone());
        Ok((created, Self::info(name, &stored)))
    }

    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> Result<ConnectorInfo, HerderError> {
        let mut stored = self.stored(name)?;
        for (key, value) in patch {
            match value {
                Some(value) => stored.config.insert(key, value),
                None => stored.config.remove(&key),
            };
        }
        self.connectors
            .lock()
            .unwrap()
            .insert(name.to_string(), stored.clone());
        Ok(Self::info(name, &stored))
    }

    async fn delete_connector(&self, name: &str) -> Result<(), HerderError> {
        self.stored(name)?;
        self.connectors.lock().unwrap().remove(name);
        Ok(())
    }

    async fn connector_status(&self, name: &str) -> Result<ConnectorStateInfo, HerderError> {
        Ok(Self::status(name, &self.stored(name)?, State::Running))
    }

    async fn task_configs(&self, name: &str) -> Result<Vec<TaskInfo>, HerderError> {
        let stored = self.stored(name)?;
        Ok(vec![TaskInfo {
            id: ConnectorTaskId {
                connector: name.to_string(),
                task: 0,
            },
            config: stored.config,
        }])
    }

    async fn task_status(&self, name: &str, task: u32) -> Result<TaskState, HerderError> {
        self.stored(name)?;
        if task != 0 {
            return Err(HerderError::NotFound(format!("Unknown task {name}-{task}")));
        }
        Ok(TaskState {
            id: 0,
            state: State::Failed,
            worker_id: WORKER_ID.to_string(),
            trace: Some("java.lang.RuntimeException: boom".into()),
        })
    }

    async fn restart_task(&self, name: &str, task: u32) -> Result<(), HerderError> {
        self.task_status(name, task).await.map(|_| ())
    }

    async fn restart_connector(
        &self,
        name: &str,
        include_tasks: bool,
        _only_failed: bool,
    ) -> Result<Option<ConnectorStateInfo>, HerderError> {
        let stored = self.stored(name)?;
        if include_tasks {
            Ok(Some(Self::status(name, &stored, State::Restarting)))
        } else {
            Ok(None)
        }
    }

    async fn pause_connector(&self, name: &str) -> Result<(), HerderError> {
        self.set_target(name, TargetState::Paused)
    }

    async fn resume_connector(&self, name: &str) -> Result<(), HerderError> {
        self.set_target(name, TargetState::Running)
    }

    async fn stop_connector(&self, name: &str) -> Result<(), HerderError> {
        self.set_target(name, TargetState::Stopped)
    }

    async fn connector_offsets(&self, name: &str) -> Result<ConnectorOffsets, HerderError> {
        self.stored(name)?;
        let partition = serde_json::json!({"filename": "/tmp/in.txt"});
        let offset = serde_json::json!({"position": 42});
        Ok(ConnectorOffsets {
            offsets: vec![ConnectorOffset {
                partition: partition.as_object().cloned().unwrap_or_default(),
                offset: offset.as_object().cloned(),
            }],
        })
    }

    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> Result<Message, HerderError> {
        let stored = self.stored(name)?;
        if stored.target != TargetState::Stopped {
            return Err(HerderError::Invalid(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. Connector {name} is not stopped."
            )));
        }
        *self.altered_offsets.lock().unwrap() = Some(offsets);
        Ok(Message::new(
            "The offsets for this connector have been altered successfully",
        ))
    }

    async fn reset_connector_offsets(&self, name: &str) -> Result<Message, HerderError> {
        self.stored(name)?;
        Ok(Message::new(
            "The offsets for this connector have been reset successfully",
        ))
    }

    async fn active_topics(&self, name: &str) -> Result<Vec<String>, HerderError> {
        let stored = self.stored(name)?;
        Ok(stored
            .config
            .get("topics")
            .map(|topics| topics.split(',').map(str::to_string).collect())
            .unwrap_or_default())
    }

    async fn reset_active_topics(&self, name: &str) -> Result<(), HerderError> {
        self.stored(name)?;
        Err(HerderError::Disabled(
            "Topic tracking reset is disabled.".into(),
        ))
    }

    async fn plugins(&self, _connectors_only: bool) -> Vec<PluginInfo> {
        // Everything, whatever the flag: the REST layer must filter.
        vec![
            PluginInfo {
                class_name: "org.apache.kafka.connect.file.FileStreamSinkConnector".into(),
                plugin_type: PluginType::Sink,
                version: Some("0.1.0".into()),
            },
            PluginInfo {
                class_name: "org.apache.kafka.connect.json.JsonConverter".into(),
                plugin_type: PluginType::Converter,
                version: None,
            },
        ]
    }

    async fn plugin_config(&self, plugin: &str) -> Result<Vec<ConfigKeyInfo>, HerderError> {
        if !plugin.contains("FileStreamSink") {
            return Err(HerderError::NotFound(format!(
                "Failed to find any class that implements Connector and which name matches {plugin}"
            )));
        }
        Ok(vec![file_key()])
    }

    async fn validate_config(
        &self,
        plugin: &str,
        config: BTreeMap<String, String>,
    ) -> Result<ConfigInfos, HerderError> {
        let file = config.get("file").cloned();
        let errors = if file.is_none() {
            vec!["Missing required configuration \"file\" which has no default value.".to_string()]
        } else {
            vec![]
        };
        Ok(ConfigInfos {
            name: plugin.to_string(),
            error_count: errors.len() as u32,
            groups: vec!["Common".into()],
            configs: vec![ConfigInfo {
                definition: file_key(),
                value: ConfigValueInfo {
                    name: "file".into(),
                    value: file,
                    recommended_values: vec![],
                    errors,
                    visible: true,
                },
            }],
        })
    }

    async fn cluster(&self) -> ClusterView {
        ClusterView {
            mode: WorkerMode::Standalone,
            version: "0.1.0".into(),
            kafka_cluster_id: Some("cluster-1".into()),
            worker_url: format!("http://{WORKER_ID}"),
            group: None,
            plugin_failures: Vec::new(),
        }
    }

    async fn preview(&self, request: PreviewRequest) -> Result<PreviewResult, HerderError> {
        if !request.config.contains_key("connector.class") {
            return Err(HerderError::Invalid(
                "Connector config is missing connector.class".into(),
            ));
        }
        Ok(PreviewResult {
            connector_type: ConnectorType::Source,
            records: Vec::new(),
        })
    }

    async fn config_history(&self, name: &str) -> Result<Vec<ConfigVersion>, HerderError> {
        self.stored(name)?;
        Ok(Vec::new())
    }

    async fn rollback_config(
        &self,
        name: &str,
        version: u32,
    ) -> Result<ConnectorInfo, HerderError> {
        self.stored(name)?;
        Err(HerderError::NotFound(format!(
            "Connector {name} has no config version {version}"
        )))
    }
}

fn file_key() -> ConfigKeyInfo {
    ConfigKeyInfo {
        name: "file".into(),
        config_type: "STRING".into(),
        required: true,
        default_value: None,
        importance: "HIGH".into(),
        documentation: Some("Destination file".into()),
        group: None,
        order_in_group: -1,
        width: "NONE".into(),
        display_name: "file".into(),
        dependents: vec![],
    }
}

/// Loggers in a map, as set through the API.
#[derive(Default)]
pub struct MapLogs {
    pub levels: Mutex<BTreeMap<String, LoggerLevel>>,
    pub cluster_calls: Mutex<Vec<(String, String)>>,
}

impl LogControl for MapLogs {
    fn loggers(&self) -> BTreeMap<String, LoggerLevel> {
        let mut all = self.levels.lock().unwrap().clone();
        all.entry("root".to_string()).or_insert(LoggerLevel {
            level: "INFO".into(),
            last_modified: None,
        });
        all
    }

    fn logger(&self, name: &str) -> Option<LoggerLevel> {
        self.loggers().get(name).cloned()
    }

    fn set_level(&self, name: &str, level: &str) -> Result<Vec<String>, HerderError> {
        self.levels.lock().unwrap().insert(
            name.to_string(),
            LoggerLevel {
                level: level.to_string(),
                last_modified: Some(1_700_000_000_000),
            },
        );
        Ok(vec![name.to_string()])
    }

    fn set_cluster_level(&self, name: &str, level: &str) -> Result<(), HerderError> {
        self.cluster_calls
            .lock()
            .unwrap()
            .push((name.to_string(), level.to_string()));
        Ok(())
    }
}

/// A running server with its fakes and a client.
pub struct TestServer {
    pub server: RestServer,
    pub herder: Arc<MapHerder>,
    pub logs: Arc<MapLogs>,
    pub base: String,
    pub client: reqwest::Client,
}

pub const TEST_BODY_LIMIT: usize = 64 * 1024;

pub fn test_config() -> RestConfig {
    RestConfig {
        listeners: vec!["http://127.0.0.1:0".to_string()],
        max_body_bytes: TEST_BODY_LIMIT,
        workers: 1,
        shutdown_timeout: Duration::from_secs(1),
        ..RestConfig::default()
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(test_config()).await
    }

    pub async fn start_with(config: RestConfig) -> TestServer {
        let herder = Arc::new(MapHerder::default());
        let logs = Arc::new(MapLogs::default());
        let server = RestServer::start(config, herder.clone(), logs.clone())
            .await
            .expect("server starts");
        let base = format!("http://{}", server.local_addrs()[0]);
        TestServer {
            server,
            herder,
            logs,
            base,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        Reply::from(request.send().await.expect("request is answered")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// Creates a FileStreamSink connector through POST /connectors.
    pub async fn create(&self, name: &str) -> Reply {
        let reply = self
            .send(
                reqwest::Method::POST,
                "/connectors",
                Some(serde_json::json!({
                    "name": name,
                    "config": {
                        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
                        "topics": "t1,t2",
                        "file": "/tmp/out.txt"
                    }
                })),
            )
            .await;
        assert_eq!(reply.status, 201, "creating {name}: {}", reply.text);
        reply
    }

    pub async fn stop(self) {
        self.server.stop().await;
    }
}

/// A response read fully.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body is readable");
        Reply {
            status,
            headers,
            text,
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Checks Kafka's error body: `{"error_code": status, "message": ...}` with a JSON type.
    pub fn assert_error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert!(
            self.header("content-type")
                .is_some_and(|value| value.starts_with("application/json")),
            "content type {:?}",
            self.header("content-type")
        );
        let body = self.json();
        assert_eq!(body["error_code"], status, "body: {}", self.text);
        let object = body.as_object().expect("error body is an object");
        assert_eq!(
            object.len(),
            2,
            "only error_code and message: {}",
            self.text
        );
        body["message"]
            .as_str()
            .expect("message is a string")
            .to_string()
    }
}
