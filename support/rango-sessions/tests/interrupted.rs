//! A session deleted while another request on it is in flight stays deleted
//! (Django: `SessionInterrupted`): the in-flight request's save is refused,
//! nothing is written back, and its visitor gets a 400 page that says why.
//! On each store; the Redis cases need a `redis-server`, as in tests/redis.rs.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use rango_sessions::Store;
use rango_sessions::on_each_store;
use rango_sessions::testing::fill;
use rango_site::AppError;
use rango_site::testing::{Server, browser_with_jar, get as get_page, session_id};
use tower_sessions::session_store::SessionStore;
use tower_sessions::{Session, SessionManagerLayer};

/// Loaded, then deleted (by another request, `clearsessions`, expiry),
/// then saved: the save is refused and the session stays gone.
async fn a_deleted_session_is_not_saved_back(store: &Store) {
    let (_, live) = fill(store, 0, 1).await;
    let mut record = store.load(&live[0]).await.unwrap().expect("stored");
    store.delete(&record.id).await.unwrap();
    record.data.insert("visits".to_owned(), 2.into());
    let err = store.save(&record).await.unwrap_err().to_string();
    assert!(
        err.contains("deleted before the request completed"),
        "{err}"
    );
    assert!(
        store.load(&record.id).await.unwrap().is_none(),
        "the save brought the deleted session back"
    );
}

/// A page that counts, and meanwhile has its own session deleted, as if
/// "forget me" were pressed in another tab while it was loading.
async fn deleted_while_loading(
    State(store): State<Store>,
    session: Session,
) -> Result<String, AppError> {
    let visits: u64 = session.get("visits").await?.unwrap_or(0);
    if let Some(id) = session.id() {
        store.delete(&id).await.unwrap();
    }
    session.insert("visits", visits + 1).await?;
    Ok(format!("visits: {}", visits + 1))
}

/// Over HTTP: the visitor whose session went while the page loaded gets a
/// 400 page, the session is not recreated, and the next visit starts afresh.
async fn the_visitor_gets_a_page_that_says_so(store: Store) {
    let pages = Router::new()
        .route("/rango/", get(deleted_while_loading))
        .with_state(store.clone())
        .layer(SessionManagerLayer::new(store.clone()).with_name("sessionid"));
    let server = Server::start(rango_site::site(pages)).await;
    let (client, jar) = browser_with_jar();
    let url = server.url("/rango/");

    assert_eq!(
        get_page(&client, &url).await,
        (StatusCode::OK, "visits: 1".to_owned())
    );
    let id = session_id(&jar, &server.base);
    let (status, page) = get_page(&client, &url).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("Your session ended"), "{page}");
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "the session came back"
    );
    // The browser still sends the old id; it is not adopted.
    assert_eq!(
        get_page(&client, &url).await,
        (StatusCode::OK, "visits: 1".to_owned())
    );
    assert_ne!(session_id(&jar, &server.base), id);
    server.stop().await;
}

on_each_store! {
    async fn a_deleted_session_stays_deleted(kind: Kind) {
        let sessions = kind.open().await;
        a_deleted_session_is_not_saved_back(&sessions.store).await;
        the_visitor_gets_a_page_that_says_so(sessions.store.clone()).await;
    }
}

#[tokio::test]
#[ignore = "needs a redis-server: set RANGO_TEST_REDIS_URL (.ci/run does)"]
async fn a_deleted_redis_session_stays_deleted() {
    let url = std::env::var("RANGO_TEST_REDIS_URL")
        .expect("set RANGO_TEST_REDIS_URL=redis://127.0.0.1:PORT to a running redis-server");
    let store = Store::open(&url, false).await.unwrap();
    a_deleted_session_is_not_saved_back(&store).await;
    the_visitor_gets_a_page_that_says_so(store).await;
}
