//! A new id for the same session, as Django's `login()` gives one with
//! `request.session.cycle_key()`: `Session::cycle_id` moves the data to a
//! new id, and the old id no longer loads. On each store; the book's
//! "Sessions in depth" shows this test (`session fixation`).

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use rango_sessions::Store;
use rango_sessions::on_each_store;
use rango_site::AppError;
use rango_site::testing::{
    Server, browser_with_jar, cookieless_browser, get as get_page, session_id,
};
use tower_sessions::session_store::SessionStore;
use tower_sessions::{Session, SessionManagerLayer};

/// A page that counts visits in the session.
async fn count(session: Session) -> Result<String, AppError> {
    let visits: u64 = session.get("visits").await?.unwrap_or(0) + 1;
    session.insert("visits", visits).await?;
    Ok(format!("visits: {visits}"))
}

// ANCHOR: login
/// Where a site with accounts would check the password: once it checks
/// out, the session gets a new id, as Django's `login()` calls
/// `cycle_key()`. The id a stranger may have seen is now worthless.
async fn login(session: Session) -> Result<&'static str, AppError> {
    session.cycle_id().await?;
    Ok("logged in")
}
// ANCHOR_END: login

async fn a_new_id_keeps_the_data_and_drops_the_old_id(store: Store) {
    let pages = Router::new()
        .route("/rango/", get(count))
        .route("/login/", post(login))
        .layer(SessionManagerLayer::new(store.clone()).with_name("sessionid"));
    let server = Server::start(rango_site::site(pages)).await;
    let (client, jar) = browser_with_jar();
    let index = server.url("/rango/");

    // ANCHOR: cycle_id
    get_page(&client, &index).await;
    assert_eq!(
        get_page(&client, &index).await,
        (StatusCode::OK, "visits: 2".to_owned())
    );
    let before = session_id(&jar, &server.base);

    let response = client.post(server.url("/login/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let after = session_id(&jar, &server.base);

    // The id changes, the data stays ...
    assert_ne!(after, before, "a new id");
    assert_eq!(
        get_page(&client, &index).await,
        (StatusCode::OK, "visits: 3".to_owned())
    );
    // ... and the old id no longer loads: not from the store, and not for
    // whoever still holds a copy of the old cookie, who starts afresh.
    assert!(
        store.load(&before).await.unwrap().is_none(),
        "old id deleted"
    );
    let stranger = cookieless_browser()
        .get(&index)
        .header("cookie", format!("sessionid={before}"))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.text().await.unwrap(), "visits: 1");
    // ANCHOR_END: cycle_id
    server.stop().await;
}

on_each_store! {
    async fn cycle_id_moves_the_session(kind: Kind) {
        let sessions = kind.open().await;
        a_new_id_keeps_the_data_and_drops_the_old_id(sessions.store.clone()).await;
    }
}

#[tokio::test]
#[ignore = "needs a redis-server: set RANGO_TEST_REDIS_URL (.ci/run does)"]
async fn cycle_id_moves_a_redis_session() {
    let url = std::env::var("RANGO_TEST_REDIS_URL")
        .expect("set RANGO_TEST_REDIS_URL=redis://127.0.0.1:PORT to a running redis-server");
    let store = Store::open(&url, false).await.unwrap();
    a_new_id_keeps_the_data_and_drops_the_old_id(store).await;
}
