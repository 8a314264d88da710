//! Stage 1 as a learner runs it: the real binary, its output and exit codes.

use rango_site::testing::{Running, command};

const BIN: &str = env!("CARGO_BIN_EXE_step01-test-cookie");

#[tokio::test]
async fn the_binary_prints_its_url_serves_and_stops_on_sigterm() {
    let mut server = Running::start(command(BIN), &std::env::temp_dir());
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let index = client.get(server.url("/rango/")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    let about = client
        .get(server.url("/rango/about/"))
        .send()
        .await
        .unwrap();
    assert_eq!(about.status(), 200);
    assert_eq!(server.next_line(), "TEST COOKIE WORKED!");
    server.stop();
}
