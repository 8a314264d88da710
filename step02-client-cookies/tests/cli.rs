//! Stage 2 as a learner runs it: the real binary, plain and signed. What it
//! prints (`--help`, a missing key) is checked in `tests/transcripts.rs`.

use rango_site::testing::{Running, command, visit};

const BIN: &str = env!("CARGO_BIN_EXE_step02-client-cookies");

#[tokio::test]
async fn the_binary_counts_visits_plain_and_signed_and_stops_on_sigterm() {
    let key = "k".repeat(64);
    for signed in [false, true] {
        let mut rango = command(BIN);
        rango.args(["--visit-interval", "0s"]);
        if signed {
            rango.arg("--signed-cookies").env("RANGO_SECRET_KEY", &key);
        }
        let mut server = Running::start(rango, &std::env::temp_dir());
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let base = server.url("");
        assert_eq!(visit(&client, &base).await, 1, "signed: {signed}");
        assert_eq!(visit(&client, &base).await, 2, "signed: {signed}");
        let about = client
            .get(server.url("/rango/about/"))
            .send()
            .await
            .unwrap();
        assert_eq!(about.status(), 200);
        assert_eq!(server.next_line(), "TEST COOKIE WORKED!");
        server.stop();
    }
}
