//! The site around a stage's pages: the root redirect, the 404 page, the
//! readable 500 page and the request log. Django's counterparts are the
//! project's `urls.py`, `handler404`/`handler500` and `runserver`'s log.

use std::cell::Cell;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tower::{Layer, Service, ServiceExt};
use tower_http::classify::{ServerErrorsAsFailures, ServerErrorsFailureClass, SharedClassifier};
use tower_http::trace::{
    DefaultMakeSpan, DefaultOnBodyChunk, DefaultOnEos, DefaultOnFailure, DefaultOnRequest,
    DefaultOnResponse, OnFailure, Trace, TraceLayer,
};

/// Wraps a stage's pages (`/rango/...`, with its session layer already on
/// them) in what every stage shares:
///
/// - `/` redirects to `/rango/`, as the tutorial's project `urls.py` does;
/// - any other address gets a 404 page;
/// - a session store that fails while the session is saved gives a readable
///   500 page rather than an empty one, and a session deleted while the
///   request was in flight a 400 page that says so;
/// - every request is logged at `info` (one line per answer), like
///   `runserver`'s console.
pub fn site(pages: Router) -> Router {
    pages
        .route("/", get(|| async { Redirect::to("/rango/") }))
        .fallback(not_found)
        .layer(SiteLayer)
}

/// The request log: tower-http's, one line per answer at `info`.
fn request_log() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>> {
    TraceLayer::new_for_http()
        .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
}

/// A page's service inside [`request_log`].
type Logged<S> = Trace<
    S,
    SharedClassifier<ServerErrorsAsFailures>,
    DefaultMakeSpan,
    DefaultOnRequest,
    DefaultOnResponse,
    DefaultOnBodyChunk,
    DefaultOnEos,
    DefaultOnFailure,
>;

/// Whether the request log would write anything for a request that goes
/// well: its span (`info`), its "started" line (`debug`) or its "finished"
/// line (`info`). Asked on every request, so `RUST_LOG` set by a test after
/// the app was built still counts.
fn request_log_enabled() -> bool {
    tracing::enabled!(target: "tower_http::trace::make_span", tracing::Level::INFO)
        || tracing::enabled!(target: "tower_http::trace::on_request", tracing::Level::DEBUG)
        || tracing::enabled!(target: "tower_http::trace::on_response", tracing::Level::INFO)
}

/// [`site`]'s layer around each page: the request log and the session
/// failure page, in one service.
///
/// Each layer a `Router` puts around its routes costs every request a clone
/// of the route and a boxed future; a profile of stage 3 put axum's
/// `from_fn` and tower-http's `TraceLayer` together at about 4,000
/// instructions a request, a ninth of what a returning visitor's session
/// costs beyond the page itself (`support/bench/profile`). So the
/// two are one service here, and when the log would write nothing for a
/// request that goes well (`RUST_LOG=warn`, as `support/bench/run` serves)
/// the request skips tower-http's span and timing, and a failure (a 5xx
/// answer) still gets tower-http's own `response failed` line.
#[derive(Debug, Clone, Copy)]
struct SiteLayer;

impl<S: Clone> Layer<S> for SiteLayer {
    type Service = SiteService<S>;

    fn layer(&self, page: S) -> Self::Service {
        SiteService(WithFailurePage(page))
    }
}

/// A page with [`SiteLayer`] around it. The request log is put around the
/// page only for a request it logs: the service is cloned for every
/// request, so a copy kept for the log would be cloned on every request too.
#[derive(Debug, Clone)]
struct SiteService<S>(WithFailurePage<S>);

type Answer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<S> Service<Request> for SiteService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request_log_enabled() {
            let logged: Logged<_> = request_log().layer(self.0.clone());
            let response = logged.oneshot(request);
            return Box::pin(async move { Ok(response.await?.map(Body::new)) });
        }
        let started = Instant::now();
        // `poll_ready` above asked the page, so it may be called.
        let page = with_failure_page(self.0.0.call(request));
        Box::pin(async move {
            let response = page.await?;
            if response.status().is_server_error() {
                DefaultOnFailure::new().on_failure(
                    ServerErrorsFailureClass::StatusCode(response.status()),
                    started.elapsed(),
                    &tracing::Span::none(),
                );
            }
            Ok(response)
        })
    }
}

/// A page whose failed session save gets a readable page:
/// [`session_failure_page`].
#[derive(Debug, Clone)]
struct WithFailurePage<S>(S);

impl<S> Service<Request> for WithFailurePage<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        Box::pin(with_failure_page(self.0.call(request)))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "not_found.html")]
struct NotFoundPage;

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    title: &'static str,
    heading: &'static str,
    message: &'static str,
}

async fn not_found() -> (StatusCode, NotFoundPage) {
    (StatusCode::NOT_FOUND, NotFoundPage)
}

// ANCHOR: errors
/// A failure the visitor cannot fix: logged in full, shown in short.
///
/// A handler returns `Result<Page, AppError>`, and `?` turns a session
/// error into an `AppError` through the `From` impl below.
#[derive(Debug)]
pub struct AppError(tower_sessions::session::Error);

impl From<tower_sessions::session::Error> for AppError {
    fn from(err: tower_sessions::session::Error) -> Self {
        Self(err)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        tracing::error!(err = %self.0, "session store failed");
        error_page()
    }
}

/// The 500 page a visitor sees when the session store fails.
fn error_page() -> Response {
    let page = ErrorPage {
        title: "Server error",
        heading: "Something went wrong on our side",
        message: "The session store is not answering. Please try again in a moment.",
    };
    (StatusCode::INTERNAL_SERVER_ERROR, page).into_response()
}

tokio::task_local! {
    /// Whether this request's session was found deleted when it was saved.
    static INTERRUPTED: Cell<bool>;
}

/// Says that this request's session was deleted before the request
/// completed (another tab pressed "forget me", say), so its save was
/// refused. The session store calls it; [`site`] turns the session layer's
/// empty 500 into a 400 page that says so, as Django's `SessionInterrupted`
/// does.
pub fn session_interrupted() {
    // Outside a request (a test driving a store directly) there is no page.
    let _ = INTERRUPTED.try_with(|interrupted| interrupted.set(true));
}

/// Runs `page` where the session store can say the session was
/// interrupted, and gives its answer [`session_failure_page`].
async fn with_failure_page(
    page: impl Future<Output = Result<Response, Infallible>>,
) -> Result<Response, Infallible> {
    let (response, interrupted) = INTERRUPTED
        .scope(Cell::new(false), async {
            let response = page.await;
            (response, INTERRUPTED.with(Cell::get))
        })
        .await;
    Ok(session_failure_page(response?, interrupted))
}

/// The session layer saves the session after the handler has run; when that
/// fails it logs the error and answers an empty 500. Give it a readable page.
fn session_failure_page(response: Response, interrupted: bool) -> Response {
    let bodiless = !response.headers().contains_key(header::CONTENT_TYPE);
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR || !bodiless {
        return response;
    }
    if interrupted {
        tracing::warn!("the session was deleted while this request was in flight; not saved");
        let page = ErrorPage {
            title: "Session ended",
            heading: "Your session ended",
            message: "It was ended elsewhere (in another tab, perhaps) while this \
                      page was loading. Load the page again to start a new visit.",
        };
        return (StatusCode::BAD_REQUEST, page).into_response();
    }
    error_page()
}
// ANCHOR_END: errors

#[cfg(test)]
mod tests {
    use tower_sessions::session::Id;
    use tower_sessions::{Session, SessionManagerLayer};

    use super::*;
    use crate::testing::{self, BrokenStore, Server, cookieless_browser};

    /// A page that reads the session, and one that writes to it.
    fn pages(store: BrokenStore) -> Router {
        async fn reads(session: Session) -> Result<&'static str, AppError> {
            session.get::<u64>("visits").await?;
            Ok("read")
        }
        async fn writes(session: Session) -> &'static str {
            // The insert succeeds; saving the session afterwards fails.
            session.insert("visits", 1).await.ok();
            "written"
        }
        site(
            Router::new()
                .route("/rango/", get(writes))
                .route("/rango/about/", get(reads))
                .layer(SessionManagerLayer::new(store).with_name("sessionid")),
        )
    }

    #[tokio::test]
    async fn the_root_redirects_to_rango() {
        let server = Server::start(pages(BrokenStore)).await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = client.get(server.url("/")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()[header::LOCATION], "/rango/");
    }

    #[tokio::test]
    async fn unknown_paths_get_a_404_page() {
        let server = Server::start(pages(BrokenStore)).await;
        for path in ["/nope", "/rango/nope/", "/rango/about/extra"] {
            let (status, body) = testing::get(&cookieless_browser(), &server.url(path)).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(body.contains("<h2>Page not found</h2>"), "{path}: {body}");
        }
    }

    #[tokio::test]
    async fn a_failing_store_gives_a_readable_500_and_the_server_keeps_serving() {
        let server = Server::start(pages(BrokenStore)).await;
        let client = cookieless_browser();

        // Saving the new session fails after the handler ran.
        let (status, body) = testing::get(&client, &server.url("/rango/")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("session store is not answering"), "{body}");

        // Loading a known-looking session fails inside the handler: `?`
        // turns the error into an `AppError` page.
        let response = client
            .get(server.url("/rango/about/"))
            .header(header::COOKIE, format!("sessionid={}", Id::default()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = response.text().await.unwrap();
        assert!(body.contains("session store is not answering"), "{body}");

        // Pages that do not touch the session still work.
        assert_eq!(
            testing::get(&client, &server.url("/nope")).await.0,
            StatusCode::NOT_FOUND
        );
    }
}
