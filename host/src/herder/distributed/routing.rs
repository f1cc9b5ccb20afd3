//! Which worker serves a request, by Kafka Connect's rules (`DistributedHerder`):
//! - config writes, stops, restarts with `includeTasks`/`onlyFailed`, offset changes, task
//!   configs from a follower and zombie fencing belong to the group's leader;
//! - a plain restart of a connector or a task belongs to the worker that runs it; a worker
//!   that does not sends it to the leader, the only member that knows every assignment, and
//!   the leader sends it on to the owner.
//!
//! A request served elsewhere becomes [`HerderError::ServedElsewhere`], which the REST layer
//! forwards. The plan is a pure function of this worker's [`GroupView`]. Under heartbeat
//! membership there is no group view: every worker writes the config topic itself, so every
//! request is served where it arrives.

use super::assignment::TaskId;
use super::group::GroupView;
use kconnect_herder_api::HerderError;

/// A unit a plain restart names.
#[derive(Clone, Copy, Debug)]
pub enum Unit<'a> {
    Connector(&'a str),
    Task(&'a TaskId),
}

/// Where a request is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Here,
    /// At this REST URL; `None` while it is not known (during a rebalance).
    Elsewhere(Option<String>),
}

fn non_empty(url: &str) -> Option<String> {
    (!url.is_empty()).then(|| url.to_string())
}

/// A request only the leader serves.
pub fn leader_route(view: &GroupView) -> Route {
    if view.is_leader() {
        Route::Here
    } else {
        Route::Elsewhere(non_empty(&view.leader_url))
    }
}

/// A plain restart: here when the unit runs here; from the leader, to the unit's owner;
/// otherwise to the leader, which knows the owner.
pub fn owner_route(view: &GroupView, unit: Unit<'_>) -> Route {
    let runs_here = match unit {
        Unit::Connector(name) => view.mine.connectors.contains(name),
        Unit::Task(task) => view.mine.tasks.contains(task),
    };
    if runs_here {
        return Route::Here;
    }
    if view.is_leader() {
        let owner = match unit {
            Unit::Connector(name) => view.connector_owner_url(name),
            Unit::Task(task) => view.task_owner_url(task),
        };
        return Route::Elsewhere(owner.and_then(non_empty));
    }
    Route::Elsewhere(non_empty(&view.leader_url))
}

/// `Ok` when the request is served here; otherwise the error that has it forwarded, with
/// Kafka's message for the case.
pub fn serve_here(route: Route, message: &str) -> Result<(), HerderError> {
    match route {
        Route::Here => Ok(()),
        Route::Elsewhere(url) => Err(HerderError::ServedElsewhere {
            message: message.to_string(),
            url,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::group::Placed;
    use super::*;

    fn task(connector: &str, id: u32) -> TaskId {
        (connector.to_string(), id)
    }

    /// Member `me` of a group led by `leader`, running `mine`; as leader it also knows
    /// `placement`.
    fn view(me: &str, leader: &str, mine: &[TaskId], placement: &[(&str, &[TaskId])]) -> GroupView {
        let mut view = GroupView {
            member_id: me.to_string(),
            leader_id: leader.to_string(),
            leader_url: format!("http://{leader}:8083"),
            joined: true,
            ..GroupView::default()
        };
        view.mine.tasks.extend(mine.iter().cloned());
        view.mine.connectors.insert(format!("{me}-connector"));
        for (member, tasks) in placement {
            let mut placed = Placed {
                url: format!("http://{member}:8083"),
                ..Placed::default()
            };
            placed.units.tasks.extend(tasks.iter().cloned());
            placed
                .units
                .connectors
                .insert(format!("{member}-connector"));
            view.placement.insert(member.to_string(), placed);
        }
        view
    }

    #[test]
    fn leader_requests_go_to_the_leader_url() {
        let leader = view("a", "a", &[], &[]);
        assert_eq!(leader_route(&leader), Route::Here);
        let follower = view("b", "a", &[], &[]);
        assert_eq!(
            leader_route(&follower),
            Route::Elsewhere(Some("http://a:8083".into()))
        );
        // Before the first sync no leader is known.
        let joining = GroupView::default();
        assert_eq!(leader_route(&joining), Route::Elsewhere(None));
    }

    #[test]
    fn a_restart_is_served_by_the_owner_found_through_the_leader() {
        let t0 = task("s", 0);
        let t1 = task("s", 1);
        let (on_a, on_b) = ([t0.clone()], [t1.clone()]);
        let leader = view("a", "a", &on_a, &[("a", &on_a), ("b", &on_b)]);
        let follower = view("b", "a", &on_b, &[]);
        assert_eq!(owner_route(&leader, Unit::Task(&t0)), Route::Here);
        assert_eq!(
            owner_route(&leader, Unit::Task(&t1)),
            Route::Elsewhere(Some("http://b:8083".into()))
        );
        assert_eq!(owner_route(&follower, Unit::Task(&t1)), Route::Here);
        // The follower does not know who runs t0: the leader does.
        assert_eq!(
            owner_route(&follower, Unit::Task(&t0)),
            Route::Elsewhere(Some("http://a:8083".into()))
        );
        assert_eq!(
            owner_route(&leader, Unit::Connector("b-connector")),
            Route::Elsewhere(Some("http://b:8083".into()))
        );
        assert_eq!(
            owner_route(&follower, Unit::Connector("b-connector")),
            Route::Here
        );
        // A unit nobody runs (being reassigned) has no known owner.
        assert_eq!(
            owner_route(&leader, Unit::Task(&task("s", 7))),
            Route::Elsewhere(None)
        );
    }

    #[test]
    fn served_elsewhere_carries_kafkas_message() {
        assert!(serve_here(Route::Here, "x").is_ok());
        match serve_here(
            Route::Elsewhere(None),
            "Only the leader can set connector configs.",
        ) {
            Err(HerderError::ServedElsewhere { message, url }) => {
                assert_eq!(message, "Only the leader can set connector configs.");
                assert_eq!(url, None);
            }
            other => panic!("{other:?}"),
        }
    }
}
