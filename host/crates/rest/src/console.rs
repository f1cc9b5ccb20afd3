//! The web console and kconnect's own resources beside Kafka's API.
//!
//! - `/ui`, `/ui/{file}`: the console's embedded files ([`kconnect_console`]), when
//!   `rest.ui.enable` (the default). They sit behind the same layers as the API — TLS, basic
//!   authentication, CORS — and are not API routes: [`crate::ROUTES`] and `/openapi.json` do
//!   not list them.
//! - `/kconnect/…` (listed in [`crate::ROUTES`]): the cluster as this worker sees it, a dry run
//!   of a config's converters and transformations, each connector's config history and rollback.
//!   Kafka has no such paths; the prefix keeps them clear of any it may add.

use crate::error::ApiError;
use crate::routes::AppState;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::{Data, Json, Path};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use kconnect_herder_api::PreviewRequest;

type Answer = Result<HttpResponse, ApiError>;

/// What the console's page may load: its own files only, and no framing by other sites.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// `GET /ui` and `GET /ui/{file}`. `/ui` itself redirects to `/ui/` so that the page's
/// relative URLs resolve under `/ui/` (trailing slashes are trimmed before routing, so the
/// original path tells which one was asked).
pub(crate) async fn ui_file(request: HttpRequest) -> Answer {
    let path = request.match_info().get("file").unwrap_or("");
    if path.is_empty() && !request.extensions().contains::<AskedWithSlash>() {
        return Ok(HttpResponse::MovedPermanently()
            .insert_header((header::LOCATION, "/ui/"))
            .finish());
    }
    let Some(asset) = kconnect_console::asset(path) else {
        return Err(ApiError::not_found(format!(
            "The console has no file {path}"
        )));
    };
    let revalidated = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == asset.etag));
    let mut answer = if revalidated {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .insert_header((header::ETAG, asset.etag.clone()))
        // Always revalidated: an upgraded worker never serves a stale script from a cache.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ));
    if revalidated {
        return Ok(answer.finish());
    }
    Ok(answer
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .body(asset.bytes.into_owned()))
}

/// Any method but GET (and HEAD) on the console's paths.
pub(crate) async fn ui_method_not_allowed() -> HttpResponse {
    let mut response = actix_web::ResponseError::error_response(&ApiError::new(
        405,
        "HTTP 405 Method Not Allowed",
    ));
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

/// Marks a request for `/ui/` whose trailing slash the path normalisation removed.
#[derive(Clone, Copy)]
pub(crate) struct AskedWithSlash;

/// Runs before the path normalisation: notes `/ui/` asked with its slash.
pub(crate) async fn note_ui_slash(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if request.path() == "/ui/" {
        request.extensions_mut().insert(AskedWithSlash);
    }
    next.call(request).await
}

/// `GET /kconnect/cluster`.
pub(crate) async fn cluster(state: Data<AppState>) -> Answer {
    let view = state.call(state.herder.cluster()).await?;
    Ok(HttpResponse::build(StatusCode::OK).json(view))
}

/// `POST /kconnect/preview`.
pub(crate) async fn preview(state: Data<AppState>, body: Json<PreviewRequest>) -> Answer {
    let result = state.run(state.herder.preview(body.into_inner())).await?;
    Ok(HttpResponse::build(StatusCode::OK).json(result))
}

/// `GET /kconnect/connectors/{connector}/history`.
pub(crate) async fn config_history(state: Data<AppState>, name: Path<String>) -> Answer {
    let versions = state.run(state.herder.config_history(&name)).await?;
    Ok(HttpResponse::build(StatusCode::OK).json(versions))
}

/// `POST /kconnect/connectors/{connector}/history/{version}/rollback`.
pub(crate) async fn rollback(state: Data<AppState>, path: Path<(String, String)>) -> Answer {
    let (name, version) = path.into_inner();
    let version: u32 = version.parse().map_err(|_| {
        ApiError::not_found(format!(
            "Unknown version '{version}' of connector {name}: a version is a positive integer"
        ))
    })?;
    let info = state
        .run(state.herder.rollback_config(&name, version))
        .await?;
    Ok(HttpResponse::build(StatusCode::OK).json(info))
}
