//! The exercises' site as a learner runs it: `cargo run -p exercises`.

use rango_site::testing::{Running, command};

const BIN: &str = env!("CARGO_BIN_EXE_exercises");

#[tokio::test]
async fn the_binary_serves_stage_3_with_your_about_page() {
    let mut cmd = command(BIN);
    cmd.args(["--session-store", "memory"]);
    let mut server = Running::start(cmd, &std::env::temp_dir());
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let index = client.get(&server.url).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(index.text().await.unwrap().contains("<p>visits: 1</p>"));
    let about = client
        .get(server.url("/rango/about/"))
        .send()
        .await
        .unwrap();
    assert_eq!(about.status(), 200);
    assert_eq!(server.next_line(), "TEST COOKIE WORKED!");
    server.stop();
}

#[test]
fn help_names_the_exercises_and_stage_3s_flags() {
    let output = command(BIN).arg("--help").output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(help.starts_with("Rango, the exercises"), "{help}");
    for flag in [
        "--addr",
        "--visit-interval",
        "--session-store",
        "--secure-cookies",
    ] {
        assert!(help.contains(flag), "{flag}: {help}");
    }
}
