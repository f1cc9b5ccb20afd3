//! The standalone herder's REST API: answers from the connectors this worker runs, changes
//! applied under the herder's one lock and saved beside the offset file.

use super::StandaloneHerder;
use crate::herder::core::{self, RestartPlan};
use crate::herder::runtime::{internal, not_found};
use crate::herder::sink_offsets;
use crate::herder::validation::mask;
use crate::kafka::group_offsets;
use async_trait::async_trait;
use kconnect_herder_api::entities::*;
use kconnect_herder_api::{
    ClusterView, ConfigVersion, Herder, HerderError, PreviewRequest, PreviewResult, WorkerMode,
};
use kconnect_plugin_api::PluginKind;
use std::collections::BTreeMap;

#[async_trait]
impl Herder for StandaloneHerder {
    async fn server_info(&self) -> ServerInfo {
        self.core.server_info()
    }

    async fn started(&self) {
        self.core.started().await
    }

    async fn health(&self) -> Health {
        self.core.health()
    }

    async fn metrics(&self) -> String {
        self.core.metrics()
    }

    async fn connectors(&self) -> Vec<String> {
        self.connectors.lock().await.keys().cloned().collect()
    }

    async fn connectors_expanded(
        &self,
        status: bool,
        info: bool,
    ) -> Result<BTreeMap<String, ExpandedConnector>, HerderError> {
        let connectors = self.connectors.lock().await;
        Ok(connectors
            .iter()
            .map(|(name, rt)| {
                let entry = ExpandedConnector {
                    status: status.then(|| self.status(name, rt)),
                    info: info.then(|| Self::info(name, rt)),
                };
                (name.clone(), entry)
            })
            .collect())
    }

    async fn connector_info(&self, name: &str) -> Result<ConnectorInfo, HerderError> {
        let connectors = self.connectors.lock().await;
        connectors
            .get(name)
            .map(|rt| Self::info(name, rt))
            .ok_or_else(|| not_found(name))
    }

    async fn connector_config(&self, name: &str) -> Result<BTreeMap<String, String>, HerderError> {
        let connectors = self.connectors.lock().await;
        connectors
            .get(name)
            .map(|rt| mask(&rt.config.raw, &rt.password_keys))
            .ok_or_else(|| not_found(name))
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: BTreeMap<String, String>,
        allow_replace: bool,
        initial_state: Option<TargetState>,
    ) -> Result<(bool, ConnectorInfo), HerderError> {
        crate::config::connector::validate_connector_name(name).map_err(HerderError::Invalid)?;
        let mut connectors = self.connectors.lock().await;
        let exists = connectors.contains_key(name);
        if exists && !allow_replace {
            return Err(core::already_exists(name));
        }
        let target = match (exists, initial_state) {
            (_, Some(state)) => state,
            (true, None) => connectors[name].target,
            (false, None) => TargetState::Running,
        };
        self.apply(&mut connectors, name, config, target).await?;
        self.save(&connectors);
        Ok((!exists, Self::info(name, &connectors[name])))
    }

    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> Result<ConnectorInfo, HerderError> {
        let mut connectors = self.connectors.lock().await;
        let rt = connectors.get(name).ok_or_else(|| not_found(name))?;
        let target = rt.target;
        let config = core::patched(name, rt.config.raw.clone(), patch)?;
        self.apply(&mut connectors, name, config, target).await?;
        self.save(&connectors);
        Ok(Self::info(name, &connectors[name]))
    }

    async fn delete_connector(&self, name: &str) -> Result<(), HerderError> {
        let mut connectors = self.connectors.lock().await;
        let rt = connectors.remove(name).ok_or_else(|| not_found(name))?;
        self.stop_runtime(rt).await;
        self.save(&connectors);
        Ok(())
    }

    async fn connector_status(&self, name: &str) -> Result<ConnectorStateInfo, HerderError> {
        let connectors = self.connectors.lock().await;
        connectors
            .get(name)
            .map(|rt| self.status(name, rt))
            .ok_or_else(|| not_found(name))
    }

    async fn task_configs(&self, name: &str) -> Result<Vec<TaskInfo>, HerderError> {
        let connectors = self.connectors.lock().await;
        let rt = connectors.get(name).ok_or_else(|| not_found(name))?;
        Ok(core::task_infos(name, &rt.task_configs, &rt.password_keys))
    }

    async fn task_status(&self, name: &str, task: u32) -> Result<TaskState, HerderError> {
        core::task_state(self.connector_status(name).await?, name, task)
    }

    async fn restart_task(&self, name: &str, task: u32) -> Result<(), HerderError> {
        let mut connectors = self.connectors.lock().await;
        let rt = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        if task as usize >= rt.tasks.len() {
            return Err(core::task_not_found(name, task));
        }
        self.restart_task_locked(rt, task as usize).await;
        Ok(())
    }

    async fn restart_connector(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<Option<ConnectorStateInfo>, HerderError> {
        let mut connectors = self.connectors.lock().await;
        let rt = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        let mut report = self.status(name, rt);
        let plan = RestartPlan::mark(&mut report, include_tasks, only_failed);
        if include_tasks && plan.is_whole(rt.tasks.len()) {
            // Whole restart: same as re-applying the config.
            let config = rt.config.raw.clone();
            let target = rt.target;
            self.apply(&mut connectors, name, config, target).await?;
        } else {
            if plan.connector {
                self.stop_instance(rt.handle.take(), self.graceful()).await;
                // The running tasks keep their configs; new ones apply on their restart.
                let configs = rt.task_configs.clone();
                if !self.start_instance(name, rt).await {
                    rt.task_configs = configs;
                }
            }
            for id in plan.tasks {
                self.restart_task_locked(rt, id as usize).await;
            }
        }
        if include_tasks || only_failed {
            Ok(Some(report))
        } else {
            Ok(None)
        }
    }

    async fn pause_connector(&self, name: &str) -> Result<(), HerderError> {
        self.set_target(name, TargetState::Paused).await
    }

    async fn resume_connector(&self, name: &str) -> Result<(), HerderError> {
        self.set_target(name, TargetState::Running).await
    }

    async fn stop_connector(&self, name: &str) -> Result<(), HerderError> {
        self.set_target(name, TargetState::Stopped).await
    }

    async fn connector_offsets(&self, name: &str) -> Result<ConnectorOffsets, HerderError> {
        let connectors = self.connectors.lock().await;
        let rt = connectors.get(name).ok_or_else(|| not_found(name))?;
        if rt.kind == PluginKind::Sink {
            let config = rt.config.clone();
            drop(connectors);
            let offsets = self.core.sink_group(config, group_offsets::read).await?;
            return Ok(sink_offsets::to_rest(offsets));
        }
        Ok(core::source_offsets(
            self.worker().offsets.connector_offsets(name),
        ))
    }

    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> Result<Message, HerderError> {
        let connectors = self.connectors.lock().await;
        let rt = connectors.get(name).ok_or_else(|| not_found(name))?;
        Self::require_stopped(name, rt)?;
        if rt.kind == PluginKind::Sink {
            let changes = sink_offsets::from_rest(offsets)?;
            let config = rt.config.clone();
            self.core
                .sink_group(config, move |clients, group, _| {
                    group_offsets::alter(clients, group, &changes)
                })
                .await?;
        } else {
            let store = &self.worker().offsets;
            store.put(name, core::source_offset_changes(offsets)?);
            store.flush().map_err(internal)?;
        }
        Ok(core::offsets_altered())
    }

    async fn reset_connector_offsets(&self, name: &str) -> Result<Message, HerderError> {
        let connectors = self.connectors.lock().await;
        let rt = connectors.get(name).ok_or_else(|| not_found(name))?;
        Self::require_stopped(name, rt)?;
        if rt.kind == PluginKind::Sink {
            let config = rt.config.clone();
            self.core.sink_group(config, group_offsets::reset).await?;
        } else {
            let store = &self.worker().offsets;
            store.remove_connector(name);
            store.flush().map_err(internal)?;
        }
        Ok(core::offsets_reset())
    }

    async fn active_topics(&self, name: &str) -> Result<Vec<String>, HerderError> {
        self.core.topic_tracking_allowed(false)?;
        let connectors = self.connectors.lock().await;
        let rt = connectors.get(name).ok_or_else(|| not_found(name))?;
        let topics = rt.active_topics.lock().unwrap_or_else(|e| e.into_inner());
        Ok(topics.iter().cloned().collect())
    }

    async fn reset_active_topics(&self, name: &str) -> Result<(), HerderError> {
        self.core.topic_tracking_allowed(true)?;
        let connectors = self.connectors.lock().await;
        let rt = connectors.get(name).ok_or_else(|| not_found(name))?;
        rt.active_topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(())
    }

    async fn plugins(&self, connectors_only: bool) -> Vec<PluginInfo> {
        self.core.plugins(connectors_only)
    }

    async fn plugin_config(&self, plugin: &str) -> Result<Vec<ConfigKeyInfo>, HerderError> {
        self.core.plugin_config(plugin)
    }

    async fn validate_config(
        &self,
        plugin: &str,
        config: BTreeMap<String, String>,
    ) -> Result<ConfigInfos, HerderError> {
        self.core.validate_config(plugin, config).await
    }

    async fn cluster(&self) -> ClusterView {
        self.core.cluster_view(WorkerMode::Standalone, None)
    }

    async fn preview(&self, request: PreviewRequest) -> Result<PreviewResult, HerderError> {
        self.core.preview(request).await
    }

    async fn config_history(&self, name: &str) -> Result<Vec<ConfigVersion>, HerderError> {
        let exists = self.connectors.lock().await.contains_key(name);
        self.history.with(|history| {
            let passwords = self.core.password_keys(history.configs(name));
            history.answer(name, exists, &passwords)
        })
    }

    async fn rollback_config(
        &self,
        name: &str,
        version: u32,
    ) -> Result<ConnectorInfo, HerderError> {
        let config = self
            .history
            .with(|history| history.rollback_config(name, version))?;
        self.put_connector_config(name, config, true, None)
            .await
            .map(|(_, info)| info)
    }
}
